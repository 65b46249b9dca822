import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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
  type DeadLetter,
  type Job,
  type JobQueue,
  type RabbitJobQueueOptions,
} from '../src/jobs/index.js';
import { jobQueueContract, type QueueHarness } from './job-queue.contract.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const run = promisify(execFile);
/** A worker process (on the built package) that SIGKILLs itself when it takes one particular job. */
const CRASHING_WORKER = join(dirname(fileURLToPath(import.meta.url)), 'job-queue.crashing-worker.mjs');

type RabbitTestOptions = Omit<RabbitJobQueueOptions, 'db' | 'prefix'>;

interface RabbitHarness extends QueueHarness {
  readonly prefix: string;
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
    prefix,
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

  it('dead-letters a job that SIGKILLs its worker process every time, after maxAttempts, while other jobs flow', async () => {
    const harness = await rabbitHarness();
    const poison = 'kills-its-worker';
    const took: { fileId: string; attempts: number }[] = [];
    const done = new Set<string>();
    const told: { deadLettered: string; error: string }[] = [];
    const children = new Set<ChildProcess>();
    // The workers' too: the retry queues follow the back-off, and the harness removes those its queues used.
    const options = { maxAttempts: 3, backoffBaseMs: 50, pollMs: 25 };
    let killed = 0;
    let respawn = true;
    const startWorker = () =>
      new Promise<void>((resolve, reject) => {
        const settings = { url: AMQP_URL, prefix: harness.prefix, ...options, poison };
        const child = spawn(process.execPath, [CRASHING_WORKER, JSON.stringify(settings)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.add(child);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const message = JSON.parse(line) as Record<string, unknown>;
          if (message.ready) resolve();
          if (typeof message.took === 'string') took.push({ fileId: message.took, attempts: Number(message.attempts) });
          if (typeof message.done === 'string') done.add(message.done);
          if (typeof message.deadLettered === 'string') told.push(message as (typeof told)[number]);
        });
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          children.delete(child);
          reject(new Error(`worker exited (${signal ?? code}) before it was ready`));
          if (signal === 'SIGKILL') killed++;
          // As a supervisor would: a dead worker is replaced. A replacement may take the job and die before it
          // reports ready; its own exit replaces it in turn.
          if (respawn) startWorker().catch(() => {});
        });
      });
    try {
      const queue = await harness.open(options);
      await Promise.all([startWorker(), startWorker()]);
      const id = await queue.enqueue({ type: 'process', fileId: poison });
      const others = await Promise.all(
        Array.from({ length: 20 }, (_, i) => queue.enqueue({ type: 'process', fileId: `fine-${i}` })),
      );
      let dead: DeadLetter[] = [];
      await waitFor(
        async () => (dead = await queue.deadLetters(10)).length === 1,
        'the job to be dead-lettered',
        30_000,
      );
      expect(dead[0]).toMatchObject({
        job: { id, fileId: poison, attempts: 3 },
        error: 'the worker died 3 times while running this job',
      });
      await waitFor(() => others.length === 20 && done.size === 20, 'the other jobs', 30_000);
      expect(took.filter((t) => t.fileId === poison).map((t) => t.attempts)).toEqual([1, 2, 3]);
      expect(killed).toBe(3);
      expect(told).toEqual([{ deadLettered: poison, error: dead[0]!.error }]);
      expect(await queue.deadLetters(10)).toHaveLength(1);
    } finally {
      respawn = false;
      for (const child of children) child.kill('SIGKILL');
      await harness.cleanup();
    }
  });

  it('moves the jobs left in the classic work queue of an earlier version to the quorum queue, and deletes it', async () => {
    const harness = await rabbitHarness();
    try {
      const names = rabbitNames(resolveOptions({ prefix: harness.prefix }));
      const job: Job = { id: randomUUID(), type: 'process', fileId: 'from-before', attempts: 1 };
      // What an earlier version leaves behind: its classic work queue, bound to the work exchange, a job waiting.
      const connection = await amqp.connect(AMQP_URL);
      try {
        const channel = await connection.createConfirmChannel();
        await channel.assertExchange(names.workExchange, 'direct', { durable: true });
        await channel.assertQueue(names.legacyJobs, {
          durable: true,
          deadLetterExchange: '',
          deadLetterRoutingKey: names.dead,
        });
        await channel.bindQueue(names.legacyJobs, names.workExchange, 'job');
        channel.publish(names.workExchange, 'job', Buffer.from(JSON.stringify(job)), { persistent: true });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }

      const queue = await harness.open();
      const seen: Job[] = [];
      await queue.consume(async (j) => void seen.push(j), { concurrency: 1 });
      await waitFor(() => seen.length === 1, 'the job left behind to run');
      expect(seen[0]).toEqual(job);
      await waitFor(async () => !(await queueExists(names.legacyJobs)), 'the classic queue to be deleted');
      const next = await queue.enqueue({ type: 'delete', fileId: 'after' });
      await waitFor(() => seen.length === 2, 'a new job');
      expect(seen[1]!.id).toBe(next);
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

async function queueExists(name: string): Promise<boolean> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => {}); // a missing queue closes the channel; the rejected call tells
    return await channel.checkQueue(name).then(
      () => true,
      () => false,
    );
  } finally {
    await connection.close();
  }
}
