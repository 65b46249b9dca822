import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { findFiles } from '../../../test-support/files.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { waitFor } from '../../../test-support/wait.js';
import { cliPath, closedPort, hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';
import { dropQueues } from './queues.js';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Photos with their variants' expected sizes (thumb, small, webp), upright. */
const PHOTOS: [file: string, sizes: [number, number][]][] = [
  [
    'photo-camera-exif-dune-1680x1050.jpg',
    [
      [256, 160],
      [1024, 640],
      [1680, 1050],
    ],
  ],
  [
    'jpeg-exif-orientation-6.jpg',
    [
      [256, 171],
      [1024, 683],
      [1200, 800],
    ],
  ],
  [
    'jpeg-exif-gps.jpg',
    [
      [256, 173],
      [1024, 693],
      [1024, 693],
    ],
  ],
  [
    'png-alpha.png',
    [
      [256, 256],
      [512, 512],
      [512, 512],
    ],
  ],
];

interface JobDone {
  jobType: string;
  fileId: string;
}

/**
 * `legim worker --gateway`: a worker that shares nothing with the gateway
 * but its URL, the cluster secret and the broker. Its HOME, XDG folders and
 * working directory are its own; the gateway's data directory is never named.
 */
describe('legim worker on another host (--gateway)', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}`;
  let cluster: TestCluster;
  let box: Sandbox;
  let worker: ChildProcess | undefined;
  const done: JobDone[] = [];
  const stderr: string[] = [];

  beforeAll(async () => {
    // No image work in the gateway, and its sweep runs only at start: only the worker's jobs do anything.
    cluster = await startCluster({
      nodes: 3,
      gateway: { amqp: AMQP_URL, queuePrefix: prefix, workers: '0', sweepInterval: '3600', deleteGrace: '0' },
    });
    box = sandbox();
    mkdirSync(join(box.dir, 'cwd'));
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'worker',
        '--gateway',
        cluster.gateway.url,
        '--amqp',
        AMQP_URL,
        '--queue-prefix',
        prefix,
        '--concurrency',
        '2',
        '--json',
      ],
      {
        cwd: join(box.dir, 'cwd'),
        env: { ...box.env, LEGIM_CLUSTER_SECRET: testClusterSecret },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    worker = child;
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    const output = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      output.on('line', (line) => {
        const message = JSON.parse(line) as { type: string } & JobDone;
        if (message.type === 'ready') resolve();
        if (message.type === 'job-done') done.push({ jobType: message.jobType, fileId: message.fileId });
      });
      child.once('exit', (code) => reject(new Error(`the worker exited with ${code}:\n${stderr.join('\n')}`)));
    });
  });

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

  const gateway = () => cluster.gateway.url;
  const info = async (id: string) => (await (await fetch(`${gateway()}/v1/files/${id}`)).json()) as any;
  const upload = async (name: string, query = ''): Promise<{ id: string; deleteToken: string }> => {
    const res = await fetch(`${gateway()}/v1/files${query}`, { method: 'POST', body: fixtureBytes(name) });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; deleteToken: string };
  };
  const ready = (id: string) =>
    waitFor(async () => (await info(id)).status !== 'processing', `${id} to be processed`, 60_000);
  const blobs = (id: string) => cluster.nodes.flatMap((node) => findFiles(join(node.dataDir, 'blobs'), id));
  const jobDone = (jobType: string, fileId: string) =>
    waitFor(
      () => done.some((job) => job.jobType === jobType && job.fileId === fileId),
      `the worker to finish the ${jobType} job of ${fileId}`,
      30_000,
    );

  it('makes correct variants of uploaded photos, reading and writing the nodes directly', async () => {
    const uploaded = await Promise.all(PHOTOS.map(([file]) => upload(file)));
    for (const [i, { id }] of uploaded.entries()) {
      await ready(id);
      const file = await info(id);
      expect(file.status, PHOTOS[i]![0]).toBe('ready');
      await jobDone('process', id);
      const names = ['thumb', 'small', 'webp'];
      expect(Object.keys(file.variants).sort()).toEqual([...names].sort());
      for (const [j, name] of names.entries()) {
        const [width, height] = PHOTOS[i]![1][j]!;
        expect(file.variants[name], `${PHOTOS[i]![0]} ${name}`).toMatchObject({
          width,
          height,
          contentType: 'image/webp',
        });
        const body = Buffer.from(await (await fetch(file.variants[name].url)).arrayBuffer());
        const meta = await sharp(body).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['webp', width, height]);
        expect(meta.exif).toBeUndefined();
        expect(body.includes('LGM-SN-0001')).toBe(false);
      }
      // Each variant is stored like an original: three copies on the nodes.
      expect(blobs(id).filter((path) => /\.(thumb|small|webp)$/.test(path))).toHaveLength(9);
    }
    // The worker never made a database of its own: it had no gateway data directory to open.
    expect(existsSync(join(box.dir, 'data', 'legim'))).toBe(false);
    expect(readdirSync(join(box.dir, 'cwd'))).toEqual([]);
    expect(stderr.filter((line) => /error|fail/i.test(line))).toEqual([]);
  });

  it('runs expire jobs: the blobs, variants included, leave every node', async () => {
    // Long enough to be processed first even on a busy machine.
    const { id } = await upload('jpeg-progressive.jpg', '?ttl=10s');
    await ready(id);
    expect(blobs(id).filter((path) => !path.endsWith('.json'))).toHaveLength(12);
    await jobDone('expire', id);
    expect(blobs(id)).toEqual([]);
    expect((await info(id)).error.code).toBe('EXPIRED');
  });

  it('runs delete jobs: DELETE with the token removes the file from every node', async () => {
    const { id, deleteToken } = await upload('webp-photo.webp');
    await ready(id);
    expect(blobs(id).length).toBeGreaterThan(0);
    const res = await fetch(`${gateway()}/v1/files/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${deleteToken}` },
    });
    expect(res.status).toBe(204);
    await jobDone('delete', id);
    expect(blobs(id)).toEqual([]);
    expect((await info(id)).error.code).toBe('DELETED');
  });

  describe('refuses to start, in one clear line', () => {
    const failsWith = async (args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}) => {
      const result = await runCli(['worker', ...args], { env: { ...box.env, ...env }, cwd: join(box.dir, 'cwd') });
      expect(result.code, result.stderr).toBe(1);
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/^✖ /);
      expect(result.stderr).toMatch(pattern);
      expect(hasStack(result.stderr)).toBe(false);
      expect(result.stdout).toBe('');
    };

    it('with a wrong cluster secret', async () => {
      await failsWith(
        [
          '--gateway',
          gateway(),
          '--secret',
          'wrong-secret-0123456789abcdef',
          '--amqp',
          AMQP_URL,
          '--queue-prefix',
          prefix,
        ],
        /refused the cluster secret.*--secret or LEGIM_CLUSTER_SECRET \(UNAUTHORIZED\)/,
      );
    });

    it('without the cluster secret', async () => {
      await failsWith(['--gateway', gateway(), '--amqp', AMQP_URL], /needs the cluster secret/);
    });

    it('with --gateway but no --amqp', async () => {
      await failsWith(['--gateway', gateway(), '--secret', testClusterSecret], /add --amqp URL/);
    });

    it('with both --gateway and --data', async () => {
      await failsWith(
        ['--gateway', gateway(), '--data', cluster.gateway.dataDir, '--secret', testClusterSecret, '--amqp', AMQP_URL],
        /either --gateway .* or --data/,
      );
    });

    it('when the gateway cannot be reached', async () => {
      const port = await closedPort();
      await failsWith(
        ['--gateway', `http://127.0.0.1:${port}`, '--secret', testClusterSecret, '--amqp', AMQP_URL],
        /unreachable.*check --gateway/,
      );
    });
  });
});
