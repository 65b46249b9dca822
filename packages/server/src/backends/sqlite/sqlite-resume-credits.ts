import type Database from 'better-sqlite3';
import type { ResumeCreditStore } from '../resume-credits/resume-credit-store.js';

/** Resume credits in the SQLite index: a take is one conditional UPDATE, atomic under the write lock. */
export class SqliteResumeCredits implements ResumeCreditStore {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      // Credits past their window are stale: a new grant starts again from one.
      grant: db.prepare<[{ fileId: string; client: string; now: number; until: number }]>(
        `INSERT INTO resume_credits (file_id, client, credits, until) VALUES (@fileId, @client, 1, @until)
         ON CONFLICT (file_id, client) DO UPDATE SET
           credits = CASE WHEN until > @now THEN credits + 1 ELSE 1 END, until = max(until, excluded.until)`,
      ),
      take: db.prepare<[string, string, number]>(
        `UPDATE resume_credits SET credits = credits - 1
         WHERE file_id = ? AND client = ? AND credits > 0 AND until > ?`,
      ),
      prune: db.prepare<[number]>('DELETE FROM resume_credits WHERE until <= ? OR credits = 0'),
    };
  }

  async grant(fileId: string, client: string, now: number, until: number): Promise<void> {
    this.statements.grant.run({ fileId, client, now, until });
  }

  async take(fileId: string, client: string, now: number): Promise<boolean> {
    return this.statements.take.run(fileId, client, now).changes === 1;
  }

  async prune(now: number): Promise<void> {
    this.statements.prune.run(now);
  }
}
