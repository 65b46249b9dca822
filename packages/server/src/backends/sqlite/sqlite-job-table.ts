import type Database from 'better-sqlite3';
import type { DeadLetter, Job, JobCounts } from '../../jobs/job-queue.js';
import type { JobLease, JobTable, RetryKind } from '../../jobs/job-table.js';
import { toJob, toLease, type JobRow } from '../job-rows.js';

/**
 * The embedded queue's table in SQLite. The queue creates it itself (not a
 * metadata migration) because its name carries the prefix. Claims are single
 * UPDATE statements: SQLite serialises writers, so each job has one holder.
 */
export class SqliteJobTable implements JobTable {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    prefix: string,
  ) {
    const t = `"${prefix}_jobs"`;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        file_id TEXT NOT NULL,
        payload TEXT,
        dedupe_key TEXT,
        -- when the job may run next; requested_run_at is the runAt it was enqueued with
        run_at INTEGER NOT NULL,
        requested_run_at INTEGER,
        state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
        lease_until INTEGER,
        lease_token TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        -- claims taken over from a worker whose lease expired: runs it died in
        lost_runs INTEGER NOT NULL DEFAULT 0,
        -- runs in a row given back because a dependency was unreachable: the back-off of the next wait
        waits INTEGER NOT NULL DEFAULT 0,
        -- 1: given up on; only its dead-letter hook is left to run
        giving_up INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        failed_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX IF NOT EXISTS "${prefix}_jobs_dedupe" ON ${t} (dedupe_key)
        WHERE dedupe_key IS NOT NULL AND state != 'dead';
      CREATE INDEX IF NOT EXISTS "${prefix}_jobs_ready" ON ${t} (run_at) WHERE state = 'ready';
      CREATE INDEX IF NOT EXISTS "${prefix}_jobs_leased" ON ${t} (lease_until) WHERE state = 'leased';
      CREATE INDEX IF NOT EXISTS "${prefix}_jobs_dead" ON ${t} (failed_at) WHERE state = 'dead';`);
    addColumns(db, `${prefix}_jobs`);
    const owned = 'id = @id AND lease_token = @token';
    this.statements = {
      findByKey: db.prepare<[string], { id: string }>(`SELECT id FROM ${t} WHERE dedupe_key = ? AND state != 'dead'`),
      insert: db.prepare(
        `INSERT INTO ${t} (id, type, file_id, payload, dedupe_key, run_at, requested_run_at, state)
         VALUES (@id, @type, @fileId, @payload, @dedupeKey, @runAt, @requestedRunAt, 'ready')`,
      ),
      claim: db.prepare<{ now: number; leaseUntil: number; token: string; limit: number }, JobRow>(
        `UPDATE ${t} SET state = 'leased', lease_until = @leaseUntil, lease_token = @token, attempts = attempts + 1,
           lost_runs = lost_runs + (state = 'leased')
         WHERE id IN (
           SELECT id FROM (
             SELECT * FROM (SELECT id, run_at FROM ${t}
               WHERE state = 'ready' AND run_at <= @now ORDER BY run_at LIMIT @limit)
             UNION ALL
             SELECT * FROM (SELECT id, run_at FROM ${t}
               WHERE state = 'leased' AND lease_until <= @now ORDER BY lease_until LIMIT @limit))
           ORDER BY run_at LIMIT @limit)
         RETURNING id, type, file_id, payload, run_at, requested_run_at, attempts, lost_runs, waits, giving_up, last_error,
           failed_at`,
      ),
      renew: db.prepare(`UPDATE ${t} SET lease_until = @leaseUntil WHERE ${owned} AND state = 'leased'`),
      complete: db.prepare(`DELETE FROM ${t} WHERE ${owned}`),
      retry: db.prepare(
        `UPDATE ${t} SET state = 'ready', run_at = @runAt, lease_until = NULL, lease_token = NULL, last_error = @error,
           attempts = CASE WHEN @counted THEN attempts ELSE @attempts - 1 END,
           waits = CASE WHEN @counted THEN 0 ELSE waits + 1 END, giving_up = @givingUp
         WHERE ${owned}`,
      ),
      kill: db.prepare(
        `UPDATE ${t} SET state = 'dead', lease_until = NULL, lease_token = NULL, last_error = @error, failed_at = @now,
           attempts = @attempts
         WHERE ${owned}`,
      ),
      dead: db.prepare<[number], JobRow>(`SELECT * FROM ${t} WHERE state = 'dead' ORDER BY failed_at LIMIT ?`),
      // Each count reads one of the partial indexes above, never the whole table.
      counts: db.prepare<[number], JobCounts>(
        `SELECT (SELECT count(*) FROM ${t} WHERE state = 'ready' AND run_at <= ?) AS waiting,
           (SELECT count(*) FROM ${t} WHERE state = 'leased') AS running,
           (SELECT count(*) FROM ${t} WHERE state = 'dead') AS deadLettered`,
      ),
    };
  }

  async insert(job: Job, dedupeKey: string | undefined, now: number): Promise<string> {
    return this.db
      .transaction(() => {
        const existing = dedupeKey === undefined ? undefined : this.statements.findByKey.get(dedupeKey);
        if (existing) return existing.id;
        this.statements.insert.run({
          id: job.id,
          type: job.type,
          fileId: job.fileId,
          payload: job.payload === undefined ? null : JSON.stringify(job.payload),
          dedupeKey: dedupeKey ?? null,
          runAt: job.runAt ?? now,
          requestedRunAt: job.runAt ?? null,
        });
        return job.id;
      })
      .immediate();
  }

  async claim(now: number, leaseMs: number, token: string, limit: number): Promise<JobLease[]> {
    const rows = this.statements.claim.all({ now, leaseUntil: now + leaseMs, token, limit });
    return rows.sort((a, b) => a.run_at - b.run_at).map((row) => toLease(row, token));
  }

  async renew(lease: JobLease, leaseUntil: number): Promise<boolean> {
    return this.statements.renew.run({ id: lease.job.id, token: lease.token, leaseUntil }).changes === 1;
  }

  async complete(lease: JobLease): Promise<void> {
    this.statements.complete.run({ id: lease.job.id, token: lease.token });
  }

  async retry(lease: JobLease, runAt: number, error: string, kind: RetryKind): Promise<void> {
    this.statements.retry.run({
      id: lease.job.id,
      token: lease.token,
      runAt,
      error,
      counted: kind.counted ? 1 : 0,
      attempts: lease.job.attempts,
      givingUp: kind.givingUp ? 1 : 0,
    });
  }

  async kill(lease: JobLease, error: string, now: number): Promise<void> {
    this.statements.kill.run({ id: lease.job.id, token: lease.token, error, now, attempts: lease.job.attempts });
  }

  async counts(now: number): Promise<JobCounts> {
    return this.statements.counts.get(now)!;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.statements.dead.all(limit).map((row) => ({
      job: toJob(row),
      error: row.last_error ?? '',
      failedAt: row.failed_at ?? 0,
    }));
  }
}

const LATER_COLUMNS = ['lost_runs', 'waits', 'giving_up'];

/** Tables made before these columns existed get them; the write lock keeps two processes from both adding one. */
function addColumns(db: Database.Database, table: string): void {
  db.transaction(() => {
    const columns = db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)').all(table);
    for (const name of LATER_COLUMNS) {
      if (columns.some((column) => column.name === name)) continue;
      db.exec(`ALTER TABLE "${table}" ADD COLUMN ${name} INTEGER NOT NULL DEFAULT 0`);
    }
  }).immediate();
}
