import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, type EngineKind } from '../../../test-support/test-database.js';
import { waitFor } from '../../../test-support/wait.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openIndexEngine } from '../src/backends/open-backends.js';
import {
  deleteTopology,
  rabbitNames,
  resolveOptions,
  RabbitJobQueue,
  TableJobQueue,
  type JobQueue,
  type JobQueueOptions,
} from '../src/jobs/index.js';
import { quietLogger } from '../../../test-support/logger.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const OPTIONS: Omit<JobQueueOptions, 'logger'> = { maxAttempts: 1, pollMs: 25 };

interface Backend {
  name: string;
  engine: EngineKind;
  open(index: IndexEngine, prefix: string): Promise<JobQueue>;
  remove(prefix: string): Promise<void>;
}

const embedded = (engine: EngineKind): Backend => ({
  name: `embedded ${engine}`,
  engine,
  open: async (index, prefix) =>
    new TableJobQueue(await index.jobTable(prefix), { ...OPTIONS, prefix, logger: quietLogger }),
  remove: async () => {},
});

const backends: Backend[] = [
  ...ENGINES.map(embedded),
  {
    name: 'RabbitMQ',
    engine: 'sqlite',
    open: async (index, prefix) =>
      RabbitJobQueue.connect(AMQP_URL, { ...OPTIONS, prefix, outbox: await index.outbox(prefix), logger: quietLogger }),
    async remove(prefix) {
      const connection = await amqp.connect(AMQP_URL);
      try {
        await deleteTopology(
          await connection.createChannel(),
          rabbitNames(resolveOptions({ ...OPTIONS, prefix, logger: quietLogger })),
        );
      } finally {
        await connection.close();
      }
    },
  },
];

describe.each(backends)('JobQueue.counts(): $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openQueue(): Promise<JobQueue> {
    const database = freshDatabase(backend.engine);
    const dir = mkdtempSync(join(tmpdir(), 'legim-counts-'));
    const prefix = `legim_counts_${randomUUID().slice(0, 8)}`;
    const index = await openIndexEngine(parseDatabase(database.value, dir));
    const queue = await backend.open(index, prefix);
    cleanups.push(async () => {
      await queue.close();
      await index.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
      await backend.remove(prefix);
    });
    return queue;
  }

  it('counts jobs waiting, running and dead-lettered, leaving delayed ones out', async () => {
    const queue = await openQueue();
    expect(await queue.counts()).toEqual({ waiting: 0, running: 0, deadLettered: 0 });

    await queue.enqueue({ type: 'process', fileId: 'hold-1' });
    await queue.enqueue({ type: 'process', fileId: 'hold-2' });
    await queue.enqueue({ type: 'expire', fileId: 'future', runAt: Date.now() + 3600_000 });
    await waitFor(async () => (await queue.counts()).waiting === 2, 'two due jobs waiting');

    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const consumer = await queue.consume(
      async (job) => {
        if (job.fileId === 'fail') throw new Error('cannot process this one');
        await held;
      },
      { concurrency: 1 },
    );
    await waitFor(async () => (await queue.counts()).running === 1, 'a held job to run');
    expect(await queue.counts()).toEqual({ waiting: 1, running: 1, deadLettered: 0 });

    release();
    await waitFor(async () => {
      const counts = await queue.counts();
      return counts.waiting === 0 && counts.running === 0;
    }, 'the held jobs to finish');
    await queue.enqueue({ type: 'process', fileId: 'fail' });
    await waitFor(async () => (await queue.counts()).deadLettered === 1, 'the failing job to be dead-lettered');
    expect(await queue.counts()).toEqual({ waiting: 0, running: 0, deadLettered: 1 });
    await consumer.stop();
  });
});
