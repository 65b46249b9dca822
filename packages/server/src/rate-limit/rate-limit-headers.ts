import type { BucketDecision } from './token-bucket.js';

/**
 * The headers of the IETF draft "RateLimit header fields for HTTP"
 * (draft-ietf-httpapi-ratelimit-headers, the separate-fields form most
 * clients read), and `Retry-After` when the request was refused.
 */
export function rateLimitHeaders(decision: BucketDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
    ...(!decision.allowed && { 'Retry-After': String(decision.retryAfterSeconds) }),
  };
}

/** Of several buckets a request took from, the one to report: the closest to refusing. */
export function tightest(decisions: (BucketDecision | undefined)[]): BucketDecision | undefined {
  const taken = decisions.filter((decision): decision is BucketDecision => decision !== undefined);
  return taken.find((decision) => !decision.allowed) ?? taken.sort((a, b) => a.remaining - b.remaining)[0];
}
