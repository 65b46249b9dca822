import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { allFiles } from '../../../test-support/files.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { waitFor } from '../../../test-support/wait.js';
import { cliPath } from './helpers.js';
import { dropQueues } from './queues.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

interface WorkerProcess {
  child: ChildProcess;
  done: string[];
}

describe('legim worker processes on RabbitMQ', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}`;
  let cluster: TestCluster;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: { amqp: AMQP_URL, queuePrefix: prefix, workers: '0' } });
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await cluster?.close();
    await dropQueues(prefix);
  });

  async function startWorker(): Promise<WorkerProcess> {
    const child = spawn(
      process.execPath,
      [cliPath, 'worker', '--data', cluster.gateway.dataDir, '--amqp', AMQP_URL, '--queue-prefix', prefix, '--json'],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    const worker: WorkerProcess = { child, done: [] };
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        const message = JSON.parse(line) as { type: string; fileId?: string };
        if (message.type === 'ready') resolve();
        if (message.type === 'job-done') worker.done.push(message.fileId!);
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    workers.push(worker);
    return worker;
  }

  const upload = async (name: string): Promise<string> => {
    const res = await fetch(`${cluster.gateway.url}/v1/files`, { method: 'POST', body: fixtureBytes(name) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const status = async (id: string) =>
    ((await (await fetch(`${cluster.gateway.url}/v1/files/${id}`)).json()) as { status: string }).status;

  it('a job whose worker is SIGKILLed mid-way is redelivered and completed, leaving no orphan blob', async () => {
    const first = await startWorker();
    const id = await upload('photo-large-bird-6028x3391.jpg');
    await new Promise((r) => setTimeout(r, 250)); // the worker is decoding the 20 MP photo
    first.child.kill('SIGKILL');
    expect(first.done).not.toContain(id);

    await startWorker();
    await waitFor(async () => (await status(id)) === 'ready', 'the redelivered job to finish', 30_000);
    // Every variant blob on disk is one the index knows: three variants, each on the copies it records.
    const onDisk = cluster.nodes.flatMap((node) =>
      allFiles(join(node.dataDir, 'blobs')).filter((path) => /\.(thumb|small|webp)$/.test(path) && path.includes(id)),
    );
    const info = (await (await fetch(`${cluster.gateway.url}/v1/files/${id}`)).json()) as { variants: object };
    expect(Object.keys(info.variants).sort()).toEqual(['small', 'thumb', 'webp']);
    expect(onDisk).toHaveLength(9);
  });

  it('two workers share the load', async () => {
    while (workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length < 2) {
      await startWorker();
    }
    const live = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const before = live.map((w) => w.done.length);
    const names = ['photo-mountains-3264x2448.jpg', 'photo-portrait-drum-2560x3837.jpg', 'jpeg-progressive.jpg'];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await upload(names[i % names.length]!));
    await waitFor(
      async () => (await Promise.all(ids.map(status))).every((s) => s === 'ready'),
      'every file to be processed',
      60_000,
    );
    const did = live.map((w, i) => w.done.length - before[i]!);
    expect(did.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(12);
    expect(did.every((n) => n > 0)).toBe(true);
  });
});
