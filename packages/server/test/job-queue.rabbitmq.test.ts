import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, type EngineKind } from '../../../test-support/test-database.js';
import { waitFor } from '../../../test-support/wait.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openIndexEngine } from '../src/backends/open-backends.js';
import {
  deleteTopology,
  MemoryOutbox,
  rabbitNames,
  resolveOptions,
  RabbitJobQueue,
  type DeadLetter,
  type Job,
  type JobQueue,
  type Outbox,
  type RabbitJobQueueOptions,
} from '../src/jobs/index.js';
import { jobQueueContract, type QueueHarness } from './job-queue.contract.js';
import { quietLogger } from '../../../test-support/logger.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const run = promisify(execFile);
/** A worker process (on the built package) that SIGKILLs itself when it takes one particular job. */
const CRASHING_WORKER = join(dirname(fileURLToPath(import.meta.url)), 'job-queue.crashing-worker.mjs');

/** What a test may tune; the harness supplies the prefix, the outbox and the logger. */
type RabbitTestOptions = Omit<RabbitJobQueueOptions, 'outbox' | 'prefix' | 'logger'>;

interface RabbitHarness extends QueueHarness {
  readonly prefix: string;
  open(options?: RabbitTestOptions): Promise<RabbitJobQueue>;
  /**
   * Rows of the outbox due by `at` and not leased past it, as another process sees them: claimed through an
   * outbox of its own until 1 ms after `at` (with `at` now, any relay can take them again at once; with `at`
   * in the future, rows a relay holds count too).
   */
  outboxRows(at?: number): Promise<number>;
}

/**
 * One prefix and one outbox database per test (a SQLite file, or a PostgreSQL schema); each instance has its
 * own broker connection and its own engine on that database, as separate processes would.
 */
async function rabbitHarness(kind: EngineKind = 'sqlite'): Promise<RabbitHarness> {
  const database = freshDatabase(kind);
  const dataDir = mkdtempSync(join(tmpdir(), 'legim-rabbit-'));
  const config = parseDatabase(database.value, dataDir);
  const prefix = `legim_test_${randomUUID().slice(0, 8)}`;
  const engines: IndexEngine[] = [];
  const queues: JobQueue[] = [];
  const usedOptions: RabbitTestOptions[] = [];
  const openOutbox = async () => {
    const engine = await openIndexEngine(config);
    engines.push(engine);
    return engine.outbox(prefix);
  };
  let observer: Outbox | undefined;
  return {
    prefix,
    async open(options = {}) {
      usedOptions.push(options);
      const queue = await RabbitJobQueue.connect(AMQP_URL, {
        ...options,
        prefix,
        outbox: await openOutbox(),
        logger: quietLogger,
      });
      queues.push(queue);
      return queue;
    },
    async outboxRows(at = Date.now()) {
      observer ??= await openOutbox();
      return (await observer.claim(at, 1, 10_000)).length;
    },
    async cleanup() {
      for (const queue of queues) await queue.close();
      for (const engine of engines) await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
      const connection = await amqp.connect(AMQP_URL);
      try {
        const channel = await connection.createChannel();
        // Each instance may have declared other retry queues (they follow the back-off options).
        for (const options of usedOptions)
          await deleteTopology(channel, rabbitNames(resolveOptions({ ...options, prefix, logger: quietLogger })));
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

jobQueueContract('RabbitMQ, outbox in SQLite', () => rabbitHarness('sqlite'));
// What the outbox does (delays, dedupe keys, durability across a restart), once more with it in PostgreSQL.
jobQueueContract('RabbitMQ, outbox in PostgreSQL', () => rabbitHarness('postgres'), {
  only: /exactly one handler|delayed job|dedupe key/,
});

describe.each(ENGINES)('RabbitMQ job queue, outbox in %s', (kind) => {
  it('keeps publishing through a lost connection: jobs wait in the outbox and go out on reconnect', async () => {
    const harness = await rabbitHarness(kind);
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
      expect(Date.now() - started).toBeLessThan(1000); // durable in the index, not waiting for the broker
      expect(await harness.outboxRows()).toBe(20);

      await waitFor(() => ids.every((id) => done.has(id)), 'the jobs enqueued while disconnected', 20_000);
      // The slow job's ack was lost with the connection, so it ran again after the reconnect.
      await waitFor(() => slowRuns === 2, 'the interrupted job to be redelivered');
      expect(done.has(slow)).toBe(true);
      // Every row gone, also those a relay still held: each was removed once its publish was confirmed.
      await waitFor(async () => (await harness.outboxRows(Date.now() + 3600_000)) === 0, 'the outbox to empty');
    } finally {
      await harness.cleanup();
    }
  });
});

describe('RabbitMQ job queue', () => {
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
      const names = rabbitNames(resolveOptions({ prefix: harness.prefix, logger: quietLogger }));
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
    await expect(
      RabbitJobQueue.connect('amqp://guest:secret@127.0.0.1:1', { outbox: new MemoryOutbox(), logger: quietLogger }),
    ).rejects.toThrow(/cannot reach RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
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
