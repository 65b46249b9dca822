import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import {
  createJobQueue,
  deleteTopology,
  rabbitNames,
  resolveOptions,
  RabbitJobQueue,
  type Job,
  type JobQueue,
  type RabbitJobQueueOptions,
} from '../src/jobs/index.js';
import { jobQueueContract, type QueueHarness } from './job-queue.contract.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const run = promisify(execFile);

type RabbitTestOptions = Omit<RabbitJobQueueOptions, 'db' | 'prefix'>;

interface RabbitHarness extends QueueHarness {
  open(options?: RabbitTestOptions): Promise<RabbitJobQueue>;
  outboxRows(): number;
}

/** One prefix and one outbox file per test; each instance has its own connection and database handle. */
async function rabbitHarness(): Promise<RabbitHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'legim-rabbit-'));
  const prefix = `legim_test_${randomUUID().slice(0, 8)}`;
  const dbs: Database.Database[] = [];
  const queues: JobQueue[] = [];
  const usedOptions: RabbitTestOptions[] = [];
  const openDb = () => {
    const db = new Database(join(dir, 'outbox.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    dbs.push(db);
    return db;
  };
  return {
    async open(options = {}) {
      usedOptions.push(options);
      const queue = await RabbitJobQueue.connect(AMQP_URL, { ...options, prefix, db: openDb() });
      queues.push(queue);
      return queue;
    },
    outboxRows() {
      const db = openDb();
      return (db.prepare(`SELECT count(*) AS n FROM "${prefix}_outbox"`).get() as { n: number }).n;
    },
    async cleanup() {
      for (const queue of queues) await queue.close();
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
      const connection = await amqp.connect(AMQP_URL);
      try {
        const channel = await connection.createChannel();
        // Each instance may have declared other retry queues (they follow the back-off options).
        for (const options of usedOptions)
          await deleteTopology(channel, rabbitNames(resolveOptions({ ...options, prefix })));
      } finally {
        await connection.close();
      }
    },
  };
}

/** Closes one client connection from the broker's side, found by the name it gave itself; other clients are untouched. */
async function closeConnectionByName(name: string): Promise<void> {
  let pid: string | undefined;
  await waitFor(async () => {
    const { stdout } = await run('rabbitmqctl', [
      '-q',
      'list_connections',
      '--no-table-headers',
      'pid',
      'client_properties',
    ]);
    pid = stdout
      .split('\n')
      .find((line) => line.includes(`"${name}"`))
      ?.split('\t')[0];
    return pid !== undefined;
  }, `the broker to list connection ${name}`);
  await run('rabbitmqctl', ['close_connection', pid!, 'legim test: simulated broker restart']);
}

jobQueueContract('RabbitMQ', rabbitHarness);

describe('RabbitMQ job queue', () => {
  it('keeps publishing through a lost connection: jobs wait in the outbox and go out on reconnect', async () => {
    const harness = await rabbitHarness();
    try {
      const connectionName = `legim-test-${randomUUID()}`;
      // A slow first reconnect leaves a window in which the queue is certainly disconnected.
      const queue = await harness.open({ connectionName, reconnectBaseMs: 2500, pollMs: 25 });
      const done = new Set<string>();
      let slowRuns = 0;
      let connectionClosed = () => {};
      const closed = new Promise<void>((resolve) => (connectionClosed = resolve));
      await queue.consume(
        async (job: Job) => {
          // The first run outlives its connection, so its ack has nowhere to go.
          if (job.fileId === 'slow' && ++slowRuns === 1) await closed;
          done.add(job.id);
        },
        { concurrency: 4 },
      );
      const slow = await queue.enqueue({ type: 'process', fileId: 'slow' });
      await waitFor(() => slowRuns === 1, 'the slow job to start');

      await closeConnectionByName(connectionName);
      await new Promise((r) => setTimeout(r, 200));
      connectionClosed();
      const started = Date.now();
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => queue.enqueue({ type: 'process', fileId: `during-${i}` })),
      );
      expect(Date.now() - started).toBeLessThan(1000); // durable in SQLite, not waiting for the broker
      expect(harness.outboxRows()).toBe(20);

      await waitFor(() => ids.every((id) => done.has(id)), 'the jobs enqueued while disconnected', 20_000);
      // The slow job's ack was lost with the connection, so it ran again after the reconnect.
      await waitFor(() => slowRuns === 2, 'the interrupted job to be redelivered');
      expect(done.has(slow)).toBe(true);
      expect(harness.outboxRows()).toBe(0);
    } finally {
      await harness.cleanup();
    }
  });

  it('fails fast, naming the URL without its password, when the broker is not there', async () => {
    const db = new Database(':memory:');
    await expect(createJobQueue({ kind: 'rabbitmq', url: 'amqp://guest:secret@127.0.0.1:1' }, db)).rejects.toThrow(
      /cannot reach RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/,
    );
    db.close();
  });
});
