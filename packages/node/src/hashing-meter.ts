import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through stage that hashes (SHA-256) and counts the bytes flowing to
 * disk. `admit(n)` is asked before each chunk is passed on; throwing from it
 * (e.g. capacity exhausted) fails the pipeline and so the whole write.
 */
export class HashingMeter extends Transform {
  readonly #hash: Hash = createHash('sha256');
  readonly #admit: (bytes: number) => void;
  #bytes = 0;

  constructor(admit: (bytes: number) => void = () => undefined, highWaterMark?: number) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#admit = admit;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The hex digest; call once, after the stream has finished. */
  digest(): string {
    return this.#hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#admit(chunk.length);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.#bytes += chunk.length;
    this.#hash.update(chunk);
    callback(null, chunk);
  }
}
