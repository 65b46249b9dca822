import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startWorker, type RunningWorker } from '@legim/server';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { quietLogger } from '../../../test-support/logger.js';
import { startSwitchProxy, type SwitchProxy } from '../../../test-support/switch-proxy.js';
import { deleteTopology, rabbitNames, resolveOptions, type Job, type JobBackoff } from '../src/jobs/index.js';
import { call, uploadBytes, waitFor } from './support.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const JOB_ATTEMPTS = 3;
// Every counted attempt of a job spent takes 100 + 200 ms of back-off: the outage below lasts 20 times that.
const BACKOFF: JobBackoff = { backoffBaseMs: 100, backoffMaxMs: 400, transientBackoffMaxMs: 500 };
const OUTAGE_MS = 6000;

/**
 * The job runner rides out an outage of the gateway: a remote worker
 * (`legim worker --gateway`) whose gateway is unreachable far longer than
 * its whole attempt budget spends no attempt, dead-letters nothing, and
 * makes the file ready once the gateway answers again. The gateway itself
 * keeps running; a proxy between it and the worker is what goes down.
 */
describe('a remote worker through a gateway outage', () => {
  // Its own queue names on the shared broker, removed afterwards.
  const prefix = `t_${randomBytes(4).toString('hex')}`;
  let cluster: TestCluster;
  let proxy: SwitchProxy;
  let worker: RunningWorker;
  const done: Job[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 2,
      gateway: { amqp: AMQP_URL, queuePrefix: prefix, workers: '0', jobAttempts: String(JOB_ATTEMPTS) },
    });
    proxy = await startSwitchProxy(cluster.gateway.url);
    worker = await startWorker(
      {
        gateway: { url: proxy.url, clusterSecret: testClusterSecret },
        amqpUrl: AMQP_URL,
        queuePrefix: prefix,
        jobAttempts: JOB_ATTEMPTS,
        jobBackoff: BACKOFF,
        maxPixels: 100_000_000,
        healthIntervalMs: 200,
        redisUrl: undefined,
        redisPrefix: 'legim:',
        concurrency: 1,
        variants: ['thumb', 'small', 'webp'],
        purge: undefined,
      },
      { onJobDone: (job) => void done.push(job) },
    );
  }, 60_000);

  afterAll(async () => {
    await worker?.close().catch((error) => console.warn('closing the worker:', error));
    await proxy?.close();
    await cluster?.close().catch((error) => console.warn('closing the cluster:', error));
    const connection = await amqp.connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      // The gateway's and the worker's back-off each declared their own retry queues.
      for (const options of [{}, BACKOFF]) {
        await deleteTopology(
          channel,
          rabbitNames(resolveOptions({ ...options, prefix, maxAttempts: JOB_ATTEMPTS, logger: quietLogger })),
        );
      }
    } finally {
      await connection.close();
    }
  }, 60_000);

  const statusOf = async (id: string): Promise<string> =>
    (await call(`${cluster.gateway.url}/v1/files/${id}`)).json?.status;

  const deadLetters = async (): Promise<number> => {
    const connection = await amqp.connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      return (await channel.checkQueue(rabbitNames(resolveOptions({ prefix, logger: quietLogger })).dead)).messageCount;
    } finally {
      await connection.close();
    }
  };

  it('spends no attempt while the gateway is unreachable, and the file is ready after it', async () => {
    proxy.down();
    const upload = await uploadBytes(cluster.gateway.url, fixtureBytes('jpeg-progressive.jpg'));
    expect(upload.status).toBe(201);
    const id = upload.json.id as string;

    await sleep(OUTAGE_MS);
    // The worker kept trying (each run is a refused connection), many more times than it has attempts.
    expect(proxy.refused).toBeGreaterThan(2 * JOB_ATTEMPTS);
    expect(await statusOf(id)).toBe('processing');
    expect(await deadLetters()).toBe(0);

    proxy.up();
    await waitFor(async () => (await statusOf(id)) === 'ready', 'the file to be ready after the outage', 30_000);
    const job = done.find((j) => j.type === 'process' && j.fileId === id);
    expect(job?.attempts).toBe(1); // the run that succeeded was still the first attempt
    expect(await deadLetters()).toBe(0);
  }, 90_000);
});
