import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, type EngineKind } from '../../../test-support/test-database.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openBackends, openIndexEngine } from '../src/backends/open-backends.js';
import { TableJobQueue, type JobQueue } from '../src/jobs/index.js';
import { jobQueueContract, type QueueHarness } from './job-queue.contract.js';
import { quietLogger } from '../../../test-support/logger.js';

/**
 * One database and prefix per test; every queue instance opens its own
 * engine on it (its own SQLite handle or PostgreSQL pool), as separate
 * processes would.
 */
async function embeddedHarness(kind: EngineKind): Promise<QueueHarness> {
  const database = freshDatabase(kind);
  const dataDir = mkdtempSync(join(tmpdir(), 'legim-jobs-'));
  const config = parseDatabase(database.value, dataDir);
  const prefix = `t_${randomUUID().slice(0, 8)}`;
  const engines: IndexEngine[] = [];
  const queues: JobQueue[] = [];
  return {
    async open(options = {}) {
      const engine = await openIndexEngine(config);
      engines.push(engine);
      const queue = new TableJobQueue(await engine.jobTable(prefix), { ...options, prefix, logger: quietLogger });
      queues.push(queue);
      return queue;
    },
    async cleanup() {
      for (const queue of queues) await queue.close();
      for (const engine of engines) await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(ENGINES)('embedded job queue on %s', (kind) => {
  jobQueueContract(`embedded, ${kind}`, () => embeddedHarness(kind));

  it('keeps one pending job per dedupe key among concurrent enqueues on two engines', async () => {
    const harness = await embeddedHarness(kind);
    try {
      const [a, b] = [await harness.open(), await harness.open()];
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).enqueue({ type: 'expire', fileId: 'f', runAt: Date.now() + 60_000, dedupeKey: 'expire:f' }),
        ),
      );
      expect(new Set(ids).size).toBe(1);
    } finally {
      await harness.cleanup();
    }
  });

  it('is the queue openBackends builds on the index when no AMQP URL is given', async () => {
    const database = freshDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'legim-jobs-'));
    const backends = await openBackends(
      {
        database: parseDatabase(database.value, dataDir),
        redisUrl: undefined,
        redisPrefix: 'unused:',
        amqpUrl: undefined,
        queuePrefix: `t_${randomUUID().slice(0, 8)}`,
        jobAttempts: 3,
      },
      'test',
      quietLogger,
    );
    try {
      expect(backends.jobs).toBeInstanceOf(TableJobQueue);
      expect(backends.engines).toEqual({ index: kind, counter: kind, jobs: kind });
      expect(await backends.jobs.counts()).toEqual({ waiting: 0, running: 0, deadLettered: 0 });
    } finally {
      await backends.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
