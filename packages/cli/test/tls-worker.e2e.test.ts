import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Legim } from '@legim/sdk';
import { ensureLocalTls, type LocalTlsFiles } from 'legim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { cliPath, lines, runCli, sandbox, type Sandbox } from './helpers.js';
import { dropQueues } from './queues.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * `legim worker --gateway https://…` on a cluster that speaks only HTTPS:
 * the worker reaches the gateway's internal API and the storage nodes over
 * TLS, trusting the cluster's CA given with the global --ca; without TLS on
 * the gateway's URL it refuses to send the secret at all.
 */
describe('legim worker over TLS', { timeout: 60_000 }, () => {
  const prefix = `t_${randomBytes(4).toString('hex')}`;
  let box: Sandbox;
  let tls: LocalTlsFiles;
  let cluster: TestCluster;
  let worker: ChildProcess | undefined;
  const done: string[] = [];
  const stderr: string[] = [];

  beforeAll(async () => {
    box = sandbox();
    tls = await ensureLocalTls(join(box.dir, 'cluster'), '127.0.0.1');
    cluster = await startCluster({
      nodes: 2,
      tls: { cert: tls.cert, key: tls.key, ca: tls.ca },
      gateway: { amqp: AMQP_URL, queuePrefix: prefix, workers: '0', replicas: '2' },
    });
    const args = ['--ca', tls.ca, 'worker', '--gateway', cluster.gateway.url, '--amqp', AMQP_URL];
    const child = spawn(process.execPath, [cliPath, ...args, '--queue-prefix', prefix, '--json'], {
      env: { ...box.env, LEGIM_CLUSTER_SECRET: testClusterSecret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = child;
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as { type: string; jobType?: string; fileId?: string };
        if (message.type === 'ready') resolve();
        if (message.type === 'job-done' && message.jobType === 'process') done.push(message.fileId!);
      });
      child.once('exit', (code) => reject(new Error(`the worker exited with ${code}:\n${stderr.join('\n')}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGINT');
      await exited;
    }
    await cluster?.close();
    box?.cleanup();
    await dropQueues(prefix);
  });

  it('makes the variants of an upload, reading and writing the nodes over HTTPS', async () => {
    const legim = new Legim({ url: cluster.gateway.url, ca: readFileSync(tls.ca) });
    const uploaded = await legim.upload(fixtureBytes('photo-small-flower-1600x1203.jpg'));
    const file = await legim.waitUntilProcessed(uploaded.id, { timeoutMs: 45_000 });
    expect(file.status).toBe('ready');
    expect(Object.keys(file.variants).sort()).toEqual(['small', 'thumb', 'webp']);
    expect(done).toContain(uploaded.id);
    expect(stderr.filter((line) => /refus|certificate/i.test(line))).toEqual([]);
  });

  it('refuses to send the secret to a gateway on http:// once given --ca', async () => {
    const plain = cluster.gateway.url.replace('https:', 'http:').replace('127.0.0.1', 'localhost');
    const result = await runCli(
      ['--ca', tls.ca, 'worker', '--gateway', plain, '--secret', testClusterSecret, '--amqp', AMQP_URL],
      { env: box.env },
    );
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        /refusing to send the cluster secret to the gateway at http:\/\/localhost:\d+ over plain HTTP/,
      ),
    ]);
  });
});
