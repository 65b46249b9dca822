import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openIndexEngine } from '../src/backends/open-backends.js';
import { TableJobQueue } from '../src/jobs/index.js';
import { quietLogger } from '../../../test-support/logger.js';

// The embedded queue's contract runs on every engine in job-queue.embedded.test.ts; this is what only SQLite has.
describe('embedded job queue on SQLite', () => {
  it('keeps the attempts of a job table made before runs lost to dead workers were counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legim-jobs-'));
    const path = join(dir, 'metadata.db');
    // The table as earlier versions made it, with a job whose worker died once already: only raw SQL can make it.
    const old = new Database(path);
    old.exec(`CREATE TABLE "old_jobs" (id TEXT PRIMARY KEY, type TEXT NOT NULL, file_id TEXT NOT NULL, payload TEXT,
      dedupe_key TEXT, run_at INTEGER NOT NULL, requested_run_at INTEGER,
      state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')), lease_until INTEGER, lease_token TEXT,
      attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, failed_at INTEGER) STRICT`);
    old
      .prepare(
        `INSERT INTO "old_jobs" (id, type, file_id, run_at, state, lease_until, lease_token, attempts)
         VALUES ('j1', 'process', 'f', 0, 'leased', 0, 'gone', 2)`,
      )
      .run();
    old.close();
    const engine = await openIndexEngine({ kind: 'sqlite', path });
    try {
      const queue = new TableJobQueue(await engine.jobTable('old'), {
        prefix: 'old',
        maxAttempts: 2,
        pollMs: 25,
        logger: quietLogger,
      });
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
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
