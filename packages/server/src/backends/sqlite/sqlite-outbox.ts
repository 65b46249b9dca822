import type Database from 'better-sqlite3';
import type { Job } from '../../jobs/job-queue.js';
import type { Outbox, OutboxEntry } from '../../jobs/outbox.js';

/** The RabbitMQ queue's outbox as a table of the SQLite index; the queue creates it (its name carries the prefix). */
export class SqliteOutbox implements Outbox {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    prefix: string,
  ) {
    const t = `"${prefix}_outbox"`;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        dedupe_key TEXT UNIQUE,
        lease_until INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS "${prefix}_outbox_due" ON ${t} (due_at);`);
    this.statements = {
      findByKey: db.prepare<[string], { id: string }>(`SELECT id FROM ${t} WHERE dedupe_key = ?`),
      insert: db.prepare(
        `INSERT INTO ${t} (id, job, due_at, dedupe_key, lease_until) VALUES (@id, @job, @dueAt, @dedupeKey, @leaseUntil)`,
      ),
      claim: db.prepare<{ now: number; leaseUntil: number; limit: number }, { id: string; job: string }>(
        `UPDATE ${t} SET lease_until = @leaseUntil
         WHERE id IN (SELECT id FROM ${t} WHERE due_at <= @now AND lease_until <= @now ORDER BY due_at LIMIT @limit)
         RETURNING id, job`,
      ),
      remove: db.prepare(`DELETE FROM ${t} WHERE id = ?`),
      release: db.prepare(`UPDATE ${t} SET lease_until = 0 WHERE id = ?`),
    };
  }

  async insert(job: Job, dedupeKey: string | undefined, dueAt: number, leaseUntil: number): Promise<string> {
    return this.db
      .transaction(() => {
        const existing = dedupeKey === undefined ? undefined : this.statements.findByKey.get(dedupeKey);
        if (existing) return existing.id;
        this.statements.insert.run({
          id: job.id,
          job: JSON.stringify(job),
          dueAt,
          dedupeKey: dedupeKey ?? null,
          leaseUntil,
        });
        return job.id;
      })
      .immediate();
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
    return this.statements.claim
      .all({ now, leaseUntil: now + leaseMs, limit })
      .map((row) => ({ id: row.id, job: JSON.parse(row.job) as Job }));
  }

  async remove(id: string): Promise<void> {
    this.statements.remove.run(id);
  }

  async release(id: string): Promise<void> {
    this.statements.release.run(id);
  }
}
