import type { Job } from '../../jobs/job-queue.js';
import type { Outbox, OutboxEntry } from '../../jobs/outbox.js';
import type { PostgresDatabase } from './postgres-database.js';

/** The RabbitMQ queue's outbox as a PostgreSQL table; relays on several hosts claim rows with `SKIP LOCKED`. */
export class PostgresOutbox implements Outbox {
  private constructor(
    private readonly db: PostgresDatabase,
    private readonly table: string,
  ) {}

  static async open(db: PostgresDatabase, prefix: string): Promise<PostgresOutbox> {
    const t = `"${prefix}_outbox"`;
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || $1))`, [t]);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${t} (
          id TEXT PRIMARY KEY,
          job TEXT NOT NULL,
          due_at BIGINT NOT NULL,
          dedupe_key TEXT UNIQUE,
          lease_until BIGINT NOT NULL
        )`);
      await tx.query(`CREATE INDEX IF NOT EXISTS "${prefix}_outbox_due" ON ${t} (due_at)`);
    });
    return new PostgresOutbox(db, t);
  }

  async insert(job: Job, dedupeKey: string | undefined, dueAt: number, leaseUntil: number): Promise<string> {
    for (;;) {
      const [inserted] = await this.db.query<{ id: string }>(
        `INSERT INTO ${this.table} (id, job, due_at, dedupe_key, lease_until) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
        [job.id, JSON.stringify(job), dueAt, dedupeKey ?? null, leaseUntil],
      );
      if (inserted) return inserted.id;
      // The holder of the key may be published and removed between the insert and this lookup: then try again.
      const [holder] = await this.db.query<{ id: string }>(`SELECT id FROM ${this.table} WHERE dedupe_key = $1`, [
        dedupeKey,
      ]);
      if (holder) return holder.id;
    }
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db.query<{ id: string; job: string }>(
      `UPDATE ${this.table} o SET lease_until = $2
       FROM (SELECT id FROM ${this.table} WHERE due_at <= $1 AND lease_until <= $1 ORDER BY due_at LIMIT $3
             FOR UPDATE SKIP LOCKED) due
       WHERE o.id = due.id
       RETURNING o.id, o.job`,
      [now, now + leaseMs, limit],
    );
    return rows.map((row) => ({ id: row.id, job: JSON.parse(row.job) as Job }));
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
  }

  async release(id: string): Promise<void> {
    await this.db.query(`UPDATE ${this.table} SET lease_until = 0 WHERE id = $1`, [id]);
  }
}
