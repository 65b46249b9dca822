import type Database from 'better-sqlite3';
import {
  takeTokens,
  type BucketDecision,
  type BucketLimit,
  type BucketState,
  type TokenBucketStore,
} from '../../rate-limit/token-bucket.js';

/** Token buckets in the SQLite index: each take reads and writes its bucket under the write lock (IMMEDIATE). */
export class SqliteTokenBuckets implements TokenBucketStore {
  private readonly takeLocked;
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      get: db.prepare<[string], BucketState>(
        'SELECT tokens, updated_at AS updatedAt FROM rate_buckets WHERE bucket = ?',
      ),
      put: db.prepare(`INSERT INTO rate_buckets (bucket, tokens, updated_at, full_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (bucket) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at,
          full_at = excluded.full_at`),
      prune: db.prepare('DELETE FROM rate_buckets WHERE full_at <= ?'),
    };
    this.takeLocked = db.transaction((bucket: string, cost: number, limit: BucketLimit, now: number) => {
      const { state, fullAt, decision } = takeTokens(this.statements.get.get(bucket), cost, limit, now);
      if (decision.allowed && cost > 0) this.statements.put.run(bucket, state.tokens, state.updatedAt, fullAt);
      return decision;
    });
  }

  async take(bucket: string, cost: number, limit: BucketLimit, now: number): Promise<BucketDecision> {
    return this.takeLocked.immediate(bucket, cost, limit, now);
  }

  async prune(now: number): Promise<void> {
    this.statements.prune.run(now);
  }
}
