import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDatabase, startWorker, type RunningWorker } from '@legim/server';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { quietLogger } from '../../../test-support/logger.js';
import { startPrivateRabbitMQ, type PrivateRabbitMQ } from '../../../test-support/private-rabbitmq.js';
import { rabbitNames, resolveOptions } from '../src/jobs/index.js';
import { call, queryIndex, uploadBytes, waitFor } from './support.js';

// Restarts a broker, so it runs against one of its own: the shared one on 127.0.0.1:5672 is never stopped.

type Phase = 'up' | 'stopping' | 'down' | 'starting' | 'back';

interface Upload {
  /** The broker's state when the upload was sent. */
  phase: Phase;
  status: number;
  id?: string;
  ms: number;
  error?: string;
}

const UPLOAD_EVERY_MS = 500;
const DOWN_MS = 3000;
/** Uploads go on this long after the broker is back, so some land on the fresh connection too. */
const UPLOAD_AFTER_MS = 2000;
/** Every file must be ready this long after the broker accepts connections again (reconnect back-off is at most 10 s). */
const READY_WITHIN_MS = 40_000;
const IMAGES = [
  'jpeg-progressive.jpg',
  'photo-small-flower-1600x1203.jpg',
  'webp-photo.webp',
  'jpeg-exif-gps.jpg',
  'png-palette.png',
  'photo-portrait-drum-2560x3837.jpg',
].map((name) => fixtureBytes(name));
const BURST_IMAGE = fixtureBytes('photo-mountains-3264x2448.jpg');

describe('RabbitMQ restart while uploads continue', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}`;
  const queues = rabbitNames(resolveOptions({ prefix, logger: quietLogger }));
  let rabbit: PrivateRabbitMQ | undefined;
  let cluster: TestCluster | undefined;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    rabbit = await startPrivateRabbitMQ();
    // Jobs are done both inside the gateway and by a separate worker: two clients that must each ride out the restart.
    cluster = await startCluster({
      nodes: 3,
      gateway: { amqp: rabbit.url, queuePrefix: prefix, workers: '2', jobAttempts: '5' },
    });
    worker = await startWorker({
      dataDir: cluster.gateway.dataDir,
      database: parseDatabase(cluster.database.value, cluster.gateway.dataDir),
      amqpUrl: rabbit.url,
      queuePrefix: prefix,
      jobAttempts: 5,
      maxPixels: 100_000_000,
      healthIntervalMs: 200,
      redisUrl: undefined,
      redisPrefix: 'legim:',
      concurrency: 1,
      variants: ['thumb', 'small', 'webp'],
      purge: undefined,
    });
  }, 60_000);

  afterAll(async () => {
    // Each step runs even if an earlier one failed; the broker goes last and always.
    await worker?.close().catch((error) => console.warn('closing the worker:', error));
    await cluster?.close().catch((error) => console.warn('closing the cluster:', error));
    await rabbit?.close();
  }, 60_000);

  it('loses no job: every upload is answered 201 and every file ends ready, with no dead letters', async () => {
    const { url, dataDir } = cluster!.gateway;
    const statusOf = async (id: string): Promise<string> => (await call(`${url}/v1/files/${id}`)).json?.status;

    let phase: Phase = 'up';
    const uploads: Upload[] = [];
    let uploading = true;
    const uploader = (async () => {
      const sent: Promise<void>[] = [];
      for (let i = 0; uploading; i++) {
        const at = phase;
        const started = Date.now();
        // Sent on a fixed beat, not one after another: a stuck upload does not pause the stream.
        sent.push(
          uploadBytes(url, IMAGES[i % IMAGES.length]!).then(
            (reply) =>
              void uploads.push({
                phase: at,
                status: reply.status,
                id: reply.json?.id,
                ms: Date.now() - started,
                ...(reply.status === 201 ? {} : { error: JSON.stringify(reply.json ?? reply.body.toString()) }),
              }),
            (error: Error) =>
              void uploads.push({ phase: at, status: 0, error: error.message, ms: Date.now() - started }),
          ),
        );
        await sleep(UPLOAD_EVERY_MS);
      }
      await Promise.all(sent);
    })();

    const t0 = Date.now();
    let backAt: number;
    const mark = (what: string) =>
      console.log(`[rabbitmq-restart] +${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
    try {
      // The pipeline works before the outage.
      await waitFor(
        async () => uploads.length >= 4 && (await statusOf(uploads.find((u) => u.id)?.id ?? 'none')) === 'ready',
        'the first file to be processed before the restart',
        20_000,
      );
      // A burst of larger photos, more than the consumers take at once (prefetch 2 + 1), so that jobs are
      // certainly sitting in the broker's queue when it stops: they must come back from its disk.
      const burst = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const started = Date.now();
          const reply = await uploadBytes(url, BURST_IMAGE);
          return { phase: 'up' as const, status: reply.status, id: reply.json?.id, ms: Date.now() - started };
        }),
      );
      uploads.push(...burst);
      const queuedAtStop = await queuedJobs(rabbit!.url, queues.jobs);
      expect(queuedAtStop).toBeGreaterThanOrEqual(1);
      mark(`${uploads.length} uploads, ${queuedAtStop} jobs waiting in the broker's queue; stopping the broker`);
      phase = 'stopping';
      // SIGTERM (the broker's own graceful shutdown) rather than rabbitmqctl, whose VM needs 10-20 s to boot
      // while sharp keeps both cores busy: the jobs queued above must still be in the broker when it stops.
      await rabbit!.stop({ via: 'sigterm' });
      phase = 'down';
      const pendingAtStop = (await Promise.all(uploads.filter((u) => u.id).map((u) => statusOf(u.id!)))).filter(
        (s) => s === 'processing',
      ).length;
      mark(`broker stopped; ${pendingAtStop} files were not processed yet`);
      await sleep(DOWN_MS);
      phase = 'starting';
      mark('starting the broker');
      await rabbit!.start();
      phase = 'back';
      backAt = Date.now();
      mark('broker back');
      await sleep(UPLOAD_AFTER_MS);
    } finally {
      uploading = false;
      await uploader;
    }

    const latency = (p: Phase) => uploads.filter((u) => u.phase === p).map((u) => u.ms);
    mark(
      `${uploads.length} uploads sent; per phase (count, slowest ms): ` +
        (['up', 'stopping', 'down', 'starting', 'back'] as const)
          .map((p) => `${p} ${latency(p).length}/${Math.max(0, ...latency(p))}`)
          .join(', '),
    );
    // Uploads do not depend on the broker: every one is answered 201, also those sent while it was down.
    expect(uploads.filter((u) => u.status !== 201)).toEqual([]);
    const byPhase = (p: Phase) => uploads.filter((u) => u.phase === p).length;
    expect(byPhase('up')).toBeGreaterThanOrEqual(4);
    expect(byPhase('down') + byPhase('starting')).toBeGreaterThanOrEqual(5);
    expect(byPhase('back')).toBeGreaterThanOrEqual(2);
    // While the broker is away an upload waits for nothing but SQLite (the job goes to the outbox), never
    // for the 5 s an enqueue may wait for a publisher confirm.
    const slowestAway = Math.max(
      ...uploads.filter((u) => u.phase === 'down' || u.phase === 'starting').map((u) => u.ms),
    );
    expect(slowestAway).toBeLessThan(4000);

    const ids = uploads.map((u) => u.id!);
    expect(new Set(ids).size).toBe(ids.length);
    let statuses: string[] = [];
    try {
      await waitFor(
        async () => {
          statuses = await Promise.all(ids.map(statusOf));
          return statuses.every((s) => s !== 'processing');
        },
        'every file to be processed',
        Math.max(1000, backAt + READY_WITHIN_MS - Date.now()),
      );
    } finally {
      mark(
        `statuses: ${JSON.stringify(countBy(statuses))}, ${((Date.now() - backAt) / 1000).toFixed(1)} s after the broker came back`,
      );
    }
    expect(statuses.filter((s) => s !== 'ready')).toEqual([]);

    // Nothing was dead-lettered, the work queue drains, and no due job is stuck in the outbox.
    expect(await queuedJobs(rabbit!.url, queues.dead)).toBe(0);
    await waitFor(async () => (await queuedJobs(rabbit!.url, queues.jobs)) === 0, 'the work queue to drain', 10_000);
    // Delayed jobs (expiry, in an hour) rightly wait in the outbox; nothing that is due may be left there.
    const dueInOutbox = () =>
      queryIndex<{ id: string; job: string; due_at: number; lease_until: number }>(
        dataDir,
        `SELECT id, job, due_at, lease_until FROM "${prefix}_outbox" WHERE due_at <= ?`,
        Date.now(),
      );
    try {
      await waitFor(() => dueInOutbox().length === 0, 'the outbox to hand every due job to the broker', 10_000);
    } catch (error) {
      const now = Date.now();
      const rows = dueInOutbox().map((r) => ({ job: JSON.parse(r.job), leasedFor: r.lease_until - now }));
      console.log('due outbox rows left:', rows);
      throw error;
    }
  }, 90_000);
});

/** Messages ready (not delivered) in a queue, read over a connection of its own. */
async function queuedJobs(url: string, queue: string): Promise<number> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
