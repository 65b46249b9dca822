/** A limit of `limit` requests per `periodMs`: a bucket of that many tokens, refilled evenly over the period. */
export interface BucketLimit {
  limit: number;
  periodMs: number;
}

/** The answer to one take, with what the `RateLimit-*` headers say. */
export interface BucketDecision {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until a refused take would be allowed; 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * Token buckets shared by every gateway that uses the same store (Redis, or
 * the index). Each take is atomic: concurrent takes on any gateway never
 * hand out more tokens than the bucket holds. A bucket never seen is full.
 */
export interface TokenBucketStore {
  /**
   * Takes `cost` tokens from `bucket` if it holds that many (refilled up to
   * `now`); a refused take takes nothing. A cost of 0 only looks: allowed
   * while at least one token is left.
   */
  take(bucket: string, cost: number, limit: BucketLimit, now: number): Promise<BucketDecision>;
  /** Forgets buckets that are full again (a missing bucket is a full one). */
  prune(now: number): Promise<void>;
}

/** A bucket's stored state: tokens at `updatedAt`. */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

/**
 * One take, computed from the stored state (undefined: a full bucket), for
 * the engines that run it in a transaction; Redis runs the same arithmetic
 * in Lua. Returns the state to store, when it is full again, and the answer.
 */
export function takeTokens(
  stored: BucketState | undefined,
  cost: number,
  limit: BucketLimit,
  now: number,
): { state: BucketState; fullAt: number; decision: BucketDecision } {
  const rate = limit.limit / limit.periodMs;
  const before = stored
    ? Math.min(limit.limit, stored.tokens + Math.max(0, now - stored.updatedAt) * rate)
    : limit.limit;
  const allowed = before >= Math.max(cost, 1);
  const tokens = allowed ? before - cost : before;
  return {
    state: { tokens, updatedAt: now },
    fullAt: now + Math.ceil((limit.limit - tokens) / rate),
    decision: decide(tokens, allowed, cost, limit),
  };
}

/** The answer for a bucket left holding `tokens` after a take that was `allowed` or not. */
export function decide(tokens: number, allowed: boolean, cost: number, limit: BucketLimit): BucketDecision {
  const secondsFor = (missing: number) => Math.max(0, Math.ceil((missing * limit.periodMs) / limit.limit / 1000));
  return {
    allowed,
    limit: limit.limit,
    remaining: Math.floor(tokens),
    resetSeconds: secondsFor(limit.limit - tokens),
    retryAfterSeconds: allowed ? 0 : Math.max(1, secondsFor(Math.max(cost, 1) - tokens)),
  };
}
