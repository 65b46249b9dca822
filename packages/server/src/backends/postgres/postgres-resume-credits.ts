import type { ResumeCreditStore } from '../resume-credits/resume-credit-store.js';
import type { PostgresDatabase } from './postgres-database.js';

/**
 * Resume credits in PostgreSQL: a take is one conditional UPDATE, so
 * concurrent takes of one credit from any gateway wait on its row and only
 * the first finds it left.
 */
export class PostgresResumeCredits implements ResumeCreditStore {
  constructor(private readonly db: PostgresDatabase) {}

  async grant(fileId: string, client: string, now: number, until: number): Promise<void> {
    // Credits past their window are stale: a new grant starts again from one.
    await this.db.query(
      `INSERT INTO resume_credits AS c (file_id, client, credits, until) VALUES ($1, $2, 1, $4)
       ON CONFLICT (file_id, client) DO UPDATE SET
         credits = CASE WHEN c.until > $3 THEN c.credits + 1 ELSE 1 END, until = GREATEST(c.until, excluded.until)`,
      [fileId, client, now, until],
    );
  }

  async take(fileId: string, client: string, now: number): Promise<boolean> {
    const taken = await this.db.query(
      `UPDATE resume_credits SET credits = credits - 1
       WHERE file_id = $1 AND client = $2 AND credits > 0 AND until > $3 RETURNING credits`,
      [fileId, client, now],
    );
    return taken.length === 1;
  }

  async prune(now: number): Promise<void> {
    await this.db.query('DELETE FROM resume_credits WHERE until <= $1 OR credits = 0', [now]);
  }
}
