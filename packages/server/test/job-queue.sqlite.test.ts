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

  it('dead-letters a job whose workers keep dying once its attempts are used up', async () => {
    const harness = await sqliteHarness();
    try {
      let started = 0;
      for (let attempt = 1; attempt <= 2; attempt++) {
        const queue = await harness.open({ maxAttempts: 2, leaseMs: 150, pollMs: 25 });
        if (attempt === 1) await queue.enqueue({ type: 'process', fileId: 'kills-its-worker' });
        await queue.consume(() => (started++, new Promise(() => {})), { concurrency: 1 });
        await expect.poll(() => started).toBe(attempt);
        await queue.close();
      }
      const last = await harness.open({ maxAttempts: 2, leaseMs: 150, pollMs: 25 });
      await last.consume(async () => void started++, { concurrency: 1 });
      await expect.poll(() => last.deadLetters(), { timeout: 3000 }).toHaveLength(1);
      expect(started).toBe(2);
      expect((await last.deadLetters())[0]!.error).toMatch(/worker stopped without finishing the last of 2 attempts/);
    } finally {
      await harness.cleanup();
    }
  });
});
