import {
  takeTokens,
  type BucketDecision,
  type BucketLimit,
  type BucketState,
  type TokenBucketStore,
} from '../../rate-limit/token-bucket.js';
import type { PostgresDatabase } from './postgres-database.js';

/**
 * Token buckets in PostgreSQL: a take locks its bucket's row (created full
 * if missing) until it has written it back, so takes on one bucket from any
 * gateway take turns.
 */
export class PostgresTokenBuckets implements TokenBucketStore {
  constructor(private readonly db: PostgresDatabase) {}

  async take(bucket: string, cost: number, limit: BucketLimit, now: number): Promise<BucketDecision> {
    return this.db.transaction(async (tx) => {
      // A no-op update of a present row locks it as FOR UPDATE would, in the same statement that creates a missing one.
      const [stored] = await tx.query<BucketState>(
        `INSERT INTO rate_buckets AS b (bucket, tokens, updated_at, full_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (bucket) DO UPDATE SET bucket = b.bucket RETURNING tokens, updated_at AS "updatedAt"`,
        [bucket, limit.limit, now],
      );
      const { state, fullAt, decision } = takeTokens(stored, cost, limit, now);
      if (decision.allowed && cost > 0) {
        await tx.query('UPDATE rate_buckets SET tokens = $2, updated_at = $3, full_at = $4 WHERE bucket = $1', [
          bucket,
          state.tokens,
          state.updatedAt,
          fullAt,
        ]);
      }
      return decision;
    });
  }

  async prune(now: number): Promise<void> {
    await this.db.query('DELETE FROM rate_buckets WHERE full_at <= $1', [now]);
  }
}
