/**
 * Reusable read buffers for whole-blob reads. A fresh buffer of a few hundred
 * KiB or more is fresh memory from the OS: page faults to fill it and a
 * TLB-flushing unmap when it is collected cost more CPU than reading a
 * cached 1 MB blob into it, and its garbage drives most of the node's GC.
 * Small buffers come from the heap and are cheap, so they are not pooled.
 */
export class BufferPool {
  /** Buffers are this large; a larger request is not served from the pool. */
  readonly bufferBytes: number;
  /** Below this, `take` allocates: the heap serves such sizes cheaply. */
  readonly minPooledBytes: number;
  readonly #maxIdle: number;
  readonly #idle: Buffer[] = [];

  constructor(bufferBytes: number, options: { minPooledBytes?: number; maxIdle?: number } = {}) {
    this.bufferBytes = bufferBytes;
    this.minPooledBytes = options.minPooledBytes ?? 64 * 1024;
    this.#maxIdle = options.maxIdle ?? 32;
  }

  /** `length` bytes to fill; when `backing` is set they came from the pool, and `backing` goes back with `give`. */
  take(length: number): { bytes: Buffer; backing: Buffer | undefined } {
    if (length < this.minPooledBytes || length > this.bufferBytes)
      return { bytes: Buffer.allocUnsafe(length), backing: undefined };
    const backing = this.#idle.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
    return { bytes: backing.subarray(0, length), backing };
  }

  /** Returns a buffer from `take` once nothing refers to it any more. */
  give(backing: Buffer): void {
    if (backing.length === this.bufferBytes && this.#idle.length < this.#maxIdle) this.#idle.push(backing);
  }
}
