import { Readable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';

export interface OpenedBlob {
  /** The selected bytes; destroy it if it is not consumed, to close the file. */
  stream: Readable;
  /** The whole blob's size, whatever the range. */
  size: number;
  sha256: string;
  /** First and last byte (inclusive) in `stream`; `end` is -1 for an empty blob. */
  start: number;
  end: number;
  /**
   * The selected bytes already in memory, when there were few enough to read
   * at once (`maxBufferedRead`); `stream` then yields these same bytes.
   * Lets a server answer with a single write.
   */
  bytes?: Buffer;
  /**
   * Lets the store reuse the memory of `bytes`. Call it only once nothing
   * refers to `bytes` any more (a response has finished, not merely ended);
   * not calling it is fine, the memory is then garbage-collected. Does
   * nothing once `stream` has been used.
   */
  release?(): void;
}

export interface BufferedBytes {
  bytes: Buffer;
  /** Set when `bytes` is a view of a pooled buffer. */
  backing?: Buffer | undefined;
  pool?: BufferPool | undefined;
}

/** A read already in memory; its stream is only made if someone asks for it. */
export class BufferedBlob implements OpenedBlob {
  readonly bytes: Buffer;
  #backing: Buffer | undefined;
  readonly #pool: BufferPool | undefined;
  #stream: Readable | undefined;

  constructor(
    read: BufferedBytes,
    readonly size: number,
    readonly sha256: string,
    readonly start: number,
    readonly end: number,
  ) {
    this.bytes = read.bytes;
    this.#backing = read.backing;
    this.#pool = read.pool;
  }

  get stream(): Readable {
    // Whoever consumes the stream may hold its chunk indefinitely: never reuse it.
    this.#backing = undefined;
    this.#stream ??= Readable.from([this.bytes], { objectMode: false });
    return this.#stream;
  }

  release(): void {
    if (this.#backing !== undefined) this.#pool?.give(this.#backing);
    this.#backing = undefined;
  }
}

export function emptyBlob(sha256: string): BufferedBlob {
  return new BufferedBlob({ bytes: Buffer.alloc(0) }, 0, sha256, 0, -1);
}

export function shortReadError(path: string, expected: number): Error {
  return new Error(`${path} has fewer bytes on disk than the ${expected} recorded in its sidecar`);
}
