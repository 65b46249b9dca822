import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sha256 } from '../../../test-support/fixtures.js';
import {
  freePortRange,
  hasStack,
  isAlive,
  lines,
  runCli,
  sandbox,
  startLongRunning,
  stop,
  type Running,
  type Sandbox,
  type UpMember,
  type UpReady,
} from './helpers.js';
import { deleteRedisKeys, redisKeys } from '../../../test-support/redis-keys.js';
import { dropQueues } from './queues.js';
import { freshDatabase } from '../../../test-support/test-database.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const PHOTO = 'photo-small-flower-1600x1203.jpg';

type Ready = UpReady;

/** `legim up --gateways 2` with the given backends, on free ports in a sandbox. */
function upHarness(backendArgs: () => string[]) {
  const harness = {
    box: undefined as unknown as Sandbox,
    port: 0,
    up: undefined as Running | undefined,
    ready: undefined as unknown as Ready,
    legim: (args: string[]) => runCli(args, { env: harness.box.env, timeoutMs: 150_000 }),
    /** The admin key `up` generated, as a request header. */
    admin: () => {
      const secrets = JSON.parse(readFileSync(join(harness.box.dir, 'cluster', 'cluster.json'), 'utf8'));
      return { authorization: `Bearer ${(secrets as { adminKey: string }).adminKey}` };
    },
    pids: () => [
      ...harness.ready.gateways.map((g) => g.pid),
      ...harness.ready.nodes.map((n) => n.pid),
      ...harness.ready.workers.map((w) => w.pid),
    ],
  };
  beforeAll(async () => {
    harness.box = sandbox();
    harness.port = await freePortRange(3); // 2 gateways + 2 nodes
    const args = ['up', '--gateways', '2', '--nodes', '2', '--port', String(harness.port)];
    args.push('--data', join(harness.box.dir, 'cluster'), ...backendArgs(), '--json');
    // Generous: other suites share this machine; `up` itself gives up after its own 30 s.
    harness.up = await startLongRunning(args, harness.box.env, 120_000);
    harness.ready = harness.up.ready as unknown as Ready;
  }, 150_000);
  afterAll(async () => {
    const { up } = harness;
    if (up && up.child.exitCode === null && up.child.signalCode === null) await stop(up, 'SIGTERM');
    harness.box?.cleanup();
  });
  return harness;
}

describe('legim up --gateways 2 --redis: gateways sharing a database and Redis', { timeout: 150_000 }, () => {
  const prefix = `test-up-${randomBytes(4).toString('hex')}:`;
  const h = upHarness(() => ['--redis', REDIS_URL, '--redis-prefix', prefix]);
  afterAll(() => deleteRedisKeys(prefix));

  it('starts two gateways on port and port + 1, the nodes above them, each its own process', () => {
    const { ready, port } = h;
    expect(ready.gateways.map((g) => [g.name, g.url])).toEqual([
      ['gateway-1', `http://127.0.0.1:${port}`],
      ['gateway-2', `http://127.0.0.1:${port + 1}`],
    ]);
    expect(ready.gateway).toEqual(ready.gateways[0]);
    expect(ready.nodes.map((n) => n.url)).toEqual([2, 3].map((i) => `http://127.0.0.1:${port + i}`));
    expect(ready.workers).toEqual([]);
    expect(ready.backends).toEqual({
      index: 'sqlite',
      counter: 'redis',
      redis: REDIS_URL,
      redisPrefix: prefix,
      jobs: 'embedded',
    });
    const pids = h.pids();
    expect(new Set(pids).size).toBe(4);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
  });

  it('answers /v1/health on both gateways, each seeing both nodes up', async () => {
    for (const gateway of h.ready.gateways) {
      const res = await fetch(`${gateway.url}/v1/health`, { headers: h.admin() });
      expect(res.status, gateway.url).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', nodes: { up: 2 } });
    }
  });

  it('serves through gateway 2 what was uploaded through gateway 1, and the limit holds across both', async () => {
    const [g1, g2] = h.ready.gateways as [UpMember, UpMember];
    const config = await h.legim(['config', 'get', 'server', '--json']);
    expect(config.stdout).toContain(g1.url); // the settings point at the first gateway

    const upload = await h.legim(['upload', fixture(PHOTO), '--downloads', '2', '--ttl', '10m', '--json']);
    expect(upload.code, upload.stderr).toBe(0);
    const { id, url } = JSON.parse(upload.stdout) as { id: string; url: string };
    expect(url).toBe(`${g1.url}/d/${id}`);
    const expected = sha256(readFileSync(fixture(PHOTO)));

    const target = join(h.box.dir, 'via-gateway-2.jpg');
    const viaTwo = await h.legim(['--server', g2.url, 'download', id, '-o', target]);
    expect(viaTwo.code, viaTwo.stderr).toBe(0);
    expect(sha256(readFileSync(target))).toBe(expected);

    const viaOne = await fetch(`${g1.url}/d/${id}`);
    expect(viaOne.status).toBe(200);
    expect(sha256(Buffer.from(await viaOne.arrayBuffer()))).toBe(expected);

    for (const gateway of [g2, g1]) {
      const third = await fetch(`${gateway.url}/d/${id}`);
      await third.arrayBuffer();
      expect(third.status, gateway.name).toBe(410);
    }
    // The count lives in Redis, under this cluster's prefix.
    expect(await redisKeys(prefix)).toContainEqual(expect.stringContaining(id));
  });

  it('reports a gateway that dies like any other child', async () => {
    const victim = h.ready.gateways[1]!;
    process.kill(victim.pid, 'SIGKILL');
    const line = await h.up!.waitForStderr(/gateway-2 .*killed by SIGKILL/, 30_000);
    expect(line).toMatch(/^✖ /);
    const res = await fetch(`${h.ready.gateway.url}/v1/health`, { headers: h.admin() });
    expect(res.status).toBe(200);
  });

  it('stops every process on Ctrl-C', async () => {
    const pids = h.pids();
    const exit = await stop(h.up!, 'SIGINT', 60_000);
    expect(exit).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(h.up!.stderrLines.filter((l) => l.startsWith('✖'))).toHaveLength(1); // only the killed gateway
  });
});

describe(
  'legim up --gateways 2 --amqp --database postgres: a worker process makes the previews, the index in PostgreSQL',
  { timeout: 150_000 },
  () => {
    const queuePrefix = `t_up_${randomBytes(4).toString('hex')}`;
    const database = freshDatabase('postgres');
    const h = upHarness(() => ['--amqp', AMQP_URL, '--queue-prefix', queuePrefix, '--database', database.value]);
    afterAll(async () => {
      await dropQueues(queuePrefix);
      await database.drop();
    });

    it('starts a worker process besides the gateways and nodes, and masks the broker password', () => {
      expect(h.ready.workers).toEqual([{ name: 'worker', pid: expect.any(Number) }]);
      expect(h.ready.backends).toEqual({
        index: 'postgres',
        database: database.value,
        counter: 'postgres',
        jobs: 'rabbitmq',
        amqp: 'amqp://guest:***@127.0.0.1:5672',
        queuePrefix,
      });
      expect(new Set(h.pids()).size).toBe(5);
      for (const pid of h.pids()) expect(isAlive(pid)).toBe(true);
      expect(h.up!.stdoutLines.join('\n')).not.toContain('guest:guest');
    });

    it('makes the previews of uploads through either gateway', async () => {
      for (const gateway of h.ready.gateways) {
        const upload = await h.legim([
          '--server',
          gateway.url,
          'upload',
          fixture(PHOTO),
          '--ttl',
          '10m',
          '--wait-timeout',
          '120s',
          '--json',
        ]);
        expect(upload.code, upload.stderr).toBe(0);
        const file = JSON.parse(upload.stdout) as { status: string; variants: Record<string, unknown> };
        expect(file.status, gateway.name).toBe('ready');
        expect(Object.keys(file.variants).sort()).toEqual(['small', 'thumb', 'webp']);
      }
    });

    it('stops every process, the worker too, on Ctrl-C', async () => {
      const pids = h.pids();
      const exit = await stop(h.up!, 'SIGINT', 60_000);
      expect(exit).toEqual({ code: 0, signal: null });
      for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
      expect(h.up!.stderrLines.filter((l) => l.startsWith('✖'))).toEqual([]);
    });
  },
);

describe('legim up --gateways: validation', () => {
  it('refuses several gateways without storage nodes in one red line', async () => {
    const box = sandbox();
    try {
      const result = await runCli(['up', '--gateways', '2', '--nodes', '0', '--data', join(box.dir, 'cluster')], {
        env: box.env,
      });
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/^✖ .*--gateways 2 needs storage nodes.*--nodes 1 or more/);
      expect(hasStack(result.stderr)).toBe(false);
      expect(result.stdout).toBe('');
    } finally {
      box.cleanup();
    }
  });

  it('refuses a port range that runs past 65535', async () => {
    const box = sandbox();
    try {
      const result = await runCli(['up', '--gateways', '3', '--nodes', '3', '--port', '65531'], { env: box.env });
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/no room above it for 3 gateways and 3 nodes \(the last would be 65536/);
    } finally {
      box.cleanup();
    }
  });
});
