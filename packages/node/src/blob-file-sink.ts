import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { writeAllAt } from './fd-io.js';

/**
 * The end of a blob write: hashes (SHA-256) and counts the bytes, and writes
 * them to an open file in batches of `batchBytes` with one `writev` each,
 * rather than one write per network chunk (64 KiB or less). `admit(n)` is
 * asked before each chunk is taken; throwing from it (capacity reached)
 * fails the write. Neither syncs nor closes the file: the store does, once it
 * knows the digest is right.
 */
export class BlobFileSink extends Writable {
  readonly #fd: number;
  readonly #admit: (bytes: number) => void;
  readonly #batchBytes: number;
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #writing: Promise<void> = Promise.resolve();

  constructor(fd: number, admit: (bytes: number) => void, batchBytes: number) {
    super({ highWaterMark: batchBytes });
    this.#fd = fd;
    this.#admit = admit;
    this.#batchBytes = batchBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The hex digest; call once, after the sink has finished. */
  digest(): string {
    return this.#hash.digest('hex');
  }

  /** Resolves once no write is in flight, so the file descriptor can be closed safely. */
  idle(): Promise<void> {
    return this.#writing.catch(() => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.#admit(chunk.length);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.#batchBytes) callback();
    else this.#flush(callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#flush(callback);
  }

  #flush(callback: (error?: Error | null) => void): void {
    const buffers = this.#pending;
    const position = this.#bytes - this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = writeAllAt(this.#fd, buffers, position);
    this.#writing.then(() => callback(), callback);
  }
}
