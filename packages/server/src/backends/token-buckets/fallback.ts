import type { BucketDecision, BucketLimit, TokenBucketStore } from '../../rate-limit/token-bucket.js';

/**
 * Redis's buckets, and the index's while Redis cannot be reached: a Redis
 * outage must not stop uploads and downloads. Meanwhile the limits are
 * counted apart from what Redis held, so a client may get up to one more
 * bucketful; they are shared again as soon as Redis answers.
 */
export class FallbackTokenBuckets implements TokenBucketStore {
  constructor(
    private readonly redis: TokenBucketStore,
    private readonly index: TokenBucketStore,
    private readonly redisReady: () => boolean,
  ) {}

  async take(bucket: string, cost: number, limit: BucketLimit, now: number): Promise<BucketDecision> {
    if (this.redisReady()) {
      try {
        return await this.redis.take(bucket, cost, limit, now);
      } catch {
        // Redis went away since it was last ready: this take, like the next ones, is the index's.
      }
    }
    return this.index.take(bucket, cost, limit, now);
  }

  async prune(now: number): Promise<void> {
    await this.index.prune(now);
  }
}
