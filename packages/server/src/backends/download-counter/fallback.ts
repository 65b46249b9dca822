import { LegimError } from '@legim/sdk';
import type { DownloadCounter, IndexDownloadCounter, TakeResult } from './download-counter.js';
import type { RedisDownloadCounter } from './redis.js';

/** After a Redis command failed, Redis is left alone this long (each try would cost up to its command timeout). */
const RETRY_AFTER_MS = 1000;

/**
 * Redis while it answers, the index while it does not. Downloads go on
 * through an outage, counted exactly by the index (one conditional UPDATE);
 * only when neither can count does a download get 503 COUNTER_UNAVAILABLE.
 *
 * Counting on the index leaves Redis's counts behind (and a command that
 * timed out may still have run), so before Redis is used again this gateway
 * starts a new counter epoch: every count in Redis goes stale at once and is
 * re-seeded from the ledger at its next take. Operations on the index still
 * in flight finish first, and operations arriving meanwhile wait, so the
 * seed includes every download this gateway counted.
 */
export class FallbackDownloadCounter implements DownloadCounter {
  /** Counted on the index (or a Redis command failed) since the last new epoch. */
  private stale = false;
  private retryAt = 0;
  private resyncing: Promise<boolean> | undefined;
  private readonly onIndex = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: RedisDownloadCounter,
    private readonly index: IndexDownloadCounter,
    /** Whether the Redis client is connected: a known outage costs no command. */
    private readonly redisReady: () => boolean,
  ) {}

  take(fileId: string, now: number, graceMs: number): Promise<TakeResult> {
    return this.either((counter) => counter.take(fileId, now, graceMs));
  }

  /** Redis's refund writes the ledger first: once it fails on Redis, the ledger already has it. */
  async refund(fileId: string): Promise<void> {
    if (await this.redisUsable()) {
      try {
        return await this.redis.refund(fileId);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        return this.lost();
      }
    }
    await this.counting(this.index.refund(fileId));
  }

  /**
   * Closing on Redis makes its gateways refuse at once; when Redis cannot be
   * reached the index mark that follows (`FileService.delete`) is enough:
   * the index counter checks it, and every write-through of a Redis take is
   * refused once it is there.
   */
  close(fileId: string, expiresAt: number): Promise<void> {
    return this.either((counter) => counter.close(fileId, expiresAt));
  }

  /** A count left behind in Redis expires with the file, and a take of a purged file is refused by the index. */
  forget(fileId: string): Promise<void> {
    return this.either((counter) => counter.forget(fileId));
  }

  /** With Redis unreachable the new epoch taken before it is used again re-seeds this count too. */
  limitsChanged(fileId: string): Promise<void> {
    return this.either((counter) => counter.limitsChanged(fileId));
  }

  /** Whether downloads are counted in Redis now (false: on the index). */
  onRedis(): boolean {
    return this.redisReady() && !this.stale && Date.now() >= this.retryAt;
  }

  /** Redis is back: start the new epoch now rather than at the next download. */
  resume(): void {
    this.redisUsable().catch(() => {});
  }

  private async either<T>(use: (counter: DownloadCounter) => Promise<T>): Promise<T> {
    if (await this.redisUsable()) {
      try {
        return await use(this.redis);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        this.lost();
      }
    }
    return this.counting(use(this.index));
  }

  private async redisUsable(): Promise<boolean> {
    if (!this.redisReady() || Date.now() < this.retryAt) {
      this.stale = true;
      return false;
    }
    if (!this.stale) return true;
    this.resyncing ??= this.newEpoch().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  private async newEpoch(): Promise<boolean> {
    try {
      // Again if an index operation slipped in meanwhile: a seed must not miss it.
      do {
        while (this.onIndex.size > 0) await Promise.allSettled([...this.onIndex]);
        await this.redis.newEpoch();
      } while (this.onIndex.size > 0);
      this.stale = false;
      return true;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      this.lost();
      return false;
    }
  }

  private lost(): void {
    this.stale = true;
    this.retryAt = Date.now() + RETRY_AFTER_MS;
  }

  /** An index operation, tracked so a new epoch waits for it; the index failing too means nothing can count. */
  private async counting<T>(operation: Promise<T>): Promise<T> {
    this.stale = true;
    this.onIndex.add(operation);
    try {
      return await operation;
    } catch (error) {
      if (error instanceof LegimError && error.code === 'INDEX_UNAVAILABLE') {
        throw new LegimError('COUNTER_UNAVAILABLE', 'neither Redis nor the index can count downloads now; try again', {
          cause: error,
        });
      }
      throw error;
    } finally {
      this.onIndex.delete(operation);
    }
  }
}

function isUnavailable(error: unknown): boolean {
  return error instanceof LegimError && error.code === 'COUNTER_UNAVAILABLE';
}
