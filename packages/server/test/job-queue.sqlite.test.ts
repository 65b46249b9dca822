import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createJobQueue, SqliteJobQueue, type JobQueue } from '../src/jobs/index.js';
import { jobQueueContract, type QueueHarness } from './job-queue.contract.js';

function openDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Every instance gets its own connection to one database file, as separate processes would. */
async function sqliteHarness(): Promise<QueueHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'legim-jobs-'));
  const prefix = `t_${randomUUID().slice(0, 8)}`;
  const dbs: Database.Database[] = [];
  const queues: JobQueue[] = [];
  return {
    async open(options = {}) {
      const db = openDb(join(dir, 'jobs.db'));
      dbs.push(db);
      const queue = new SqliteJobQueue(db, { ...options, prefix });
      queues.push(queue);
      return queue;
    },
    async cleanup() {
      for (const queue of queues) await queue.close();
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

jobQueueContract('embedded SQLite', sqliteHarness);

describe('embedded SQLite job queue', () => {
  it('is what createJobQueue builds by default, and names the valid kinds otherwise', async () => {
    const db = new Database(':memory:');
    expect(await createJobQueue({ kind: 'embedded' }, db)).toBeInstanceOf(SqliteJobQueue);
    await expect(createJobQueue({ kind: 'kafka' } as never, db)).rejects.toThrow(/use one of embedded, rabbitmq/);
    db.close();
  });

  it('keeps the attempts of a job table made before runs lost to dead workers were counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legim-jobs-'));
    const db = openDb(join(dir, 'jobs.db'));
    try {
      // The table as earlier versions made it, with a job whose worker died once already.
      db.exec(`CREATE TABLE "old_jobs" (id TEXT PRIMARY KEY, type TEXT NOT NULL, file_id TEXT NOT NULL, payload TEXT,
        dedupe_key TEXT, run_at INTEGER NOT NULL, requested_run_at INTEGER,
        state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')), lease_until INTEGER, lease_token TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, failed_at INTEGER) STRICT`);
      db.prepare(
        `INSERT INTO "old_jobs" (id, type, file_id, run_at, state, lease_until, lease_token, attempts)
         VALUES ('j1', 'process', 'f', 0, 'leased', 0, 'gone', 2)`,
      ).run();
      const queue = new SqliteJobQueue(db, { prefix: 'old', maxAttempts: 2, pollMs: 25 });
      let runs = 0;
      await queue.consume(async () => void runs++, { concurrency: 1 });
      await expect.poll(() => queue.deadLetters(), { timeout: 3000 }).toHaveLength(1);
      expect(runs).toBe(0);
      expect((await queue.deadLetters())[0]).toMatchObject({
        job: { id: 'j1', attempts: 2 },
        error: 'the worker died once while running this job',
      });
      await queue.close();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
