import { LegimError } from '@legim/sdk';
import type { RateLimits } from './rate-limits.js';
import type { BucketDecision, BucketLimit, TokenBucketStore } from './token-bucket.js';

/** What a bucket counts: uploads or downloads of one key or one client address, or one address's failed authentications. */
export type Bucket =
  | { action: 'upload' | 'download'; keyId: string }
  | { action: 'upload' | 'download' | 'auth-failure'; address: string };

/** The configured limits over a shared bucket store. */
export class RateLimiter {
  constructor(
    private readonly store: TokenBucketStore,
    private readonly limits: RateLimits,
  ) {}

  /**
   * Takes `cost` from the bucket (0 only looks); undefined when its limit is
   * off. A refused take takes nothing.
   */
  async take(bucket: Bucket, cost = 1): Promise<BucketDecision | undefined> {
    const limit = this.limitOf(bucket);
    if (limit === undefined) return undefined;
    return this.store.take(bucketName(bucket), cost, limit, Date.now());
  }

  /** Forgets buckets that are full again, from time to time (Redis lets them expire by itself). */
  prune(): Promise<void> {
    return this.store.prune(Date.now());
  }

  private limitOf(bucket: Bucket): BucketLimit | undefined {
    if (bucket.action === 'auth-failure') return this.limits.authFailures;
    return 'keyId' in bucket ? this.limits[bucket.action].perKey : this.limits[bucket.action].perAddress;
  }
}

function bucketName(bucket: Bucket): string {
  return 'keyId' in bucket ? `${bucket.action}:key:${bucket.keyId}` : `${bucket.action}:addr:${bucket.address}`;
}

/** The 429 of a refused take; its details give the `Retry-After` and `RateLimit-*` headers. */
export function rateLimited(decision: BucketDecision, what: string): LegimError {
  return new LegimError(
    'RATE_LIMITED',
    `too many ${what}: at most ${decision.limit} at once; retry in ${decision.retryAfterSeconds}s`,
    {
      details: {
        retryAfter: decision.retryAfterSeconds,
        rateLimit: { limit: decision.limit, remaining: decision.remaining, reset: decision.resetSeconds },
      },
    },
  );
}
