import type { DeadLetter, Job, JobCounts } from '../../jobs/job-queue.js';
import type { JobLease, JobTable, RetryKind } from '../../jobs/job-table.js';
import { toJob, toLease, type JobRow } from '../job-rows.js';
import type { PostgresDatabase } from './postgres-database.js';

const RETURNED =
  'id, type, file_id, payload, run_at, requested_run_at, attempts, lost_runs, waits, giving_up, last_error, failed_at';

/**
 * The embedded queue's table in PostgreSQL: workers on every host claim from
 * it with `FOR UPDATE SKIP LOCKED`, so concurrent claims never wait for each
 * other and never take the same job. The queue creates its table itself
 * (its name carries the prefix), once, under an advisory lock.
 */
export class PostgresJobTable implements JobTable {
  private constructor(
    private readonly db: PostgresDatabase,
    private readonly table: string,
  ) {}

  static async open(db: PostgresDatabase, prefix: string): Promise<PostgresJobTable> {
    const t = `"${prefix}_jobs"`;
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || $1))`, [t]);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${t} (
          id TEXT PRIMARY KEY,
          type TEXT NOT NULL,
          file_id TEXT NOT NULL,
          payload TEXT,
          dedupe_key TEXT,
          run_at BIGINT NOT NULL,
          requested_run_at BIGINT,
          state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
          lease_until BIGINT,
          lease_token TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          lost_runs INTEGER NOT NULL DEFAULT 0,
          waits INTEGER NOT NULL DEFAULT 0,
          giving_up BOOLEAN NOT NULL DEFAULT false,
          last_error TEXT,
          failed_at BIGINT
        )`);
      // Tables made before a transient wait was given back.
      await tx.query(`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS waits INTEGER NOT NULL DEFAULT 0`);
      await tx.query(`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS giving_up BOOLEAN NOT NULL DEFAULT false`);
      await tx.query(`CREATE UNIQUE INDEX IF NOT EXISTS "${prefix}_jobs_dedupe" ON ${t} (dedupe_key)
        WHERE dedupe_key IS NOT NULL AND state <> 'dead'`);
      await tx.query(`CREATE INDEX IF NOT EXISTS "${prefix}_jobs_ready" ON ${t} (run_at) WHERE state = 'ready'`);
      await tx.query(`CREATE INDEX IF NOT EXISTS "${prefix}_jobs_leased" ON ${t} (lease_until) WHERE state = 'leased'`);
      await tx.query(`CREATE INDEX IF NOT EXISTS "${prefix}_jobs_dead" ON ${t} (failed_at) WHERE state = 'dead'`);
    });
    return new PostgresJobTable(db, t);
  }

  async insert(job: Job, dedupeKey: string | undefined, now: number): Promise<string> {
    const t = this.table;
    // A pending holder of the key may finish between the insert and the lookup: then the insert is tried again.
    for (;;) {
      const [inserted] = await this.db.query<{ id: string }>(
        `INSERT INTO ${t} (id, type, file_id, payload, dedupe_key, run_at, requested_run_at, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'ready')
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state <> 'dead' DO NOTHING
         RETURNING id`,
        [
          job.id,
          job.type,
          job.fileId,
          job.payload === undefined ? null : JSON.stringify(job.payload),
          dedupeKey ?? null,
          job.runAt ?? now,
          job.runAt ?? null,
        ],
      );
      if (inserted) return inserted.id;
      const [holder] = await this.db.query<{ id: string }>(
        `SELECT id FROM ${t} WHERE dedupe_key = $1 AND state <> 'dead'`,
        [dedupeKey],
      );
      if (holder) return holder.id;
    }
  }

  async claim(now: number, leaseMs: number, token: string, limit: number): Promise<JobLease[]> {
    const t = this.table;
    const rows = await this.db.query<JobRow>(
      `WITH ready AS (
         SELECT id, run_at FROM ${t} WHERE state = 'ready' AND run_at <= $1 ORDER BY run_at LIMIT $4
         FOR UPDATE SKIP LOCKED
       ), stale AS (
         SELECT id, run_at FROM ${t} WHERE state = 'leased' AND lease_until <= $1 ORDER BY lease_until LIMIT $4
         FOR UPDATE SKIP LOCKED
       ), due AS (
         SELECT id FROM (SELECT * FROM ready UNION ALL SELECT * FROM stale) d ORDER BY run_at LIMIT $4
       )
       UPDATE ${t} j SET state = 'leased', lease_until = $2, lease_token = $3, attempts = j.attempts + 1,
         lost_runs = j.lost_runs + (j.state = 'leased')::int
       FROM due WHERE j.id = due.id
       RETURNING ${RETURNED.split(', ')
         .map((column) => `j.${column}`)
         .join(', ')}`,
      [now, now + leaseMs, token, limit],
    );
    return rows.sort((a, b) => a.run_at - b.run_at).map((row) => toLease(row, token));
  }

  async renew(lease: JobLease, leaseUntil: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE ${this.table} SET lease_until = $3 WHERE id = $1 AND lease_token = $2 AND state = 'leased' RETURNING id`,
      [lease.job.id, lease.token, leaseUntil],
    );
    return rows.length === 1;
  }

  async complete(lease: JobLease): Promise<void> {
    await this.db.query(`DELETE FROM ${this.table} WHERE id = $1 AND lease_token = $2`, [lease.job.id, lease.token]);
  }

  async retry(lease: JobLease, runAt: number, error: string, kind: RetryKind): Promise<void> {
    await this.db.query(
      `UPDATE ${this.table} SET state = 'ready', run_at = $3, lease_until = NULL, lease_token = NULL, last_error = $4,
         attempts = CASE WHEN $5::boolean THEN attempts ELSE $6::int - 1 END,
         waits = CASE WHEN $5::boolean THEN 0 ELSE waits + 1 END, giving_up = $7
       WHERE id = $1 AND lease_token = $2`,
      [lease.job.id, lease.token, runAt, error, kind.counted, lease.job.attempts, kind.givingUp ?? false],
    );
  }

  async kill(lease: JobLease, error: string, now: number): Promise<void> {
    await this.db.query(
      `UPDATE ${this.table} SET state = 'dead', lease_until = NULL, lease_token = NULL, last_error = $3,
         failed_at = $4, attempts = $5
       WHERE id = $1 AND lease_token = $2`,
      [lease.job.id, lease.token, error, now, lease.job.attempts],
    );
  }

  async counts(now: number): Promise<JobCounts> {
    const t = this.table;
    const [row] = await this.db.query<JobCounts>(
      `SELECT (SELECT count(*) FROM ${t} WHERE state = 'ready' AND run_at <= $1) AS "waiting",
         (SELECT count(*) FROM ${t} WHERE state = 'leased') AS "running",
         (SELECT count(*) FROM ${t} WHERE state = 'dead') AS "deadLettered"`,
      [now],
    );
    return row!;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const rows = await this.db.query<JobRow>(
      `SELECT ${RETURNED} FROM ${this.table} WHERE state = 'dead' ORDER BY failed_at LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ job: toJob(row), error: row.last_error ?? '', failedAt: row.failed_at ?? 0 }));
  }
}
