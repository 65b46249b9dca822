import { setTimeout as sleep } from 'node:timers/promises';

/** Budget a pause in reading (a folder walk, a slow disk) may save up for a burst afterwards. */
const MAX_CREDIT_MS = 100;

/**
 * Holds a reader to `bytesPerSecond` on average: after each read it waits
 * until the bytes read since `restart()` fit the budget, so reading N bytes
 * takes at least N / rate seconds.
 */
export class BytePacer {
  readonly bytesPerSecond: number;
  /** `performance.now()` from which the budget allows the next byte. */
  #nextFreeAt = performance.now();

  constructor(bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`);
    this.bytesPerSecond = bytesPerSecond;
  }

  /** Starts afresh, with no budget saved up. */
  restart(): void {
    this.#nextFreeAt = performance.now();
  }

  /** Counts `bytes` just read and waits until they fit the budget; rejects with an `AbortError` on `signal`. */
  async spend(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.#nextFreeAt = Math.max(this.#nextFreeAt, now - MAX_CREDIT_MS) + (bytes * 1000) / this.bytesPerSecond;
    const waitMs = this.#nextFreeAt - now;
    if (waitMs > 0) await sleep(waitMs, undefined, { signal, ref: false });
  }
}
