import { describe, expect, it } from 'vitest';
import { portLayout } from '../src/cluster/ports.js';
import { backendRows, backendsJson, clusterView, redactUrl, type BackendSummary } from '../src/output.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');

const sqlite: BackendSummary = {
  databaseUrl: undefined,
  redisUrl: undefined,
  redisPrefix: 'legim:',
  amqpUrl: undefined,
  queuePrefix: 'legim',
  jobsRunBy: 'in the gateway',
};
const shared: BackendSummary = {
  databaseUrl: 'postgres://legim:pgs3cret@10.0.0.4:5432/legim',
  redisUrl: 'redis://:s3cret@10.0.0.5:6379/2',
  redisPrefix: 'prod:',
  amqpUrl: 'amqp://legim:hunter2@10.0.0.5:5672/vhost',
  queuePrefix: 'prod',
  jobsRunBy: 'by the worker process',
};
const member = (name: string, port: number, pid: number) => ({ name, url: `http://127.0.0.1:${port}`, pid });

describe('cluster output', () => {
  it('masks the password of a URL and nothing else', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672')).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(redactUrl('redis://:pw@host:6379/1')).toBe('redis://:***@host:6379/1');
    expect(redactUrl('rediss://user:p%40ss@host')).toBe('rediss://user:***@host');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url://a:b@c')).toBe('not a url://a:***@c');
  });

  it('names the backends, never showing a password', () => {
    const rows = backendRows(shared).map(([label, value]) => `${label} ${plain(value)}`);
    expect(rows).toEqual([
      'index PostgreSQL postgres://legim:***@10.0.0.4:5432/legim (shared by gateways on any host)',
      'counters Redis redis://:***@10.0.0.5:6379/2 (download counters, locks, cache invalidation; keys prod:…)',
      'jobs RabbitMQ amqp://legim:***@10.0.0.5:5672/vhost (queues prod.…), run by the worker process',
    ]);
    expect(backendRows(sqlite).map(([, value]) => plain(value))).toEqual([
      'SQLite (in the data directory)',
      'SQLite (download counters and locks in the index)',
      'embedded queue (in the index), run in the gateway',
    ]);
    expect(JSON.stringify(backendsJson(shared))).not.toMatch(/s3cret|hunter2/);
    expect(backendsJson(shared)).toMatchObject({ index: 'postgres', counter: 'redis' });
    expect(backendsJson(sqlite)).toEqual({ index: 'sqlite', counter: 'sqlite', jobs: 'embedded' });
  });

  it('lists every gateway, node and worker, and points at nginx for failover', () => {
    const gateways = [member('gateway-1', 3333, 11), member('gateway-2', 3334, 12)];
    const view = plain(
      clusterView({
        gateway: gateways[0]!,
        gateways,
        nodes: [member('node-1', 3335, 21)],
        workers: [{ name: 'worker', pid: 31 }],
        backends: shared,
        dataDir: '/data',
        settings: '/config.json',
        pid: 4242,
        profile: { name: 'local', isDefault: true },
      }),
    );
    expect(view).toContain('Legim is up: 2 gateways, 1 storage node and an image worker, each its own process');
    expect(view).toContain('(legim up is pid 4242)');
    expect(view).toContain('Press Ctrl-C to stop, or run kill 4242 from elsewhere');
    expect(view).toMatch(/gateway-1 +http:\/\/127\.0\.0\.1:3333 +pid 11/);
    expect(view).toMatch(/gateway-2 +http:\/\/127\.0\.0\.1:3334 +pid 12/);
    expect(view).toMatch(/worker +image jobs +pid 31/);
    expect(view).toMatch(
      /settings +server \(gateway-1\) and apiKey saved to profile local \(the default\) in \/config\.json/,
    );
    expect(view).not.toContain('--profile');
    expect(view).toContain('nginx');
    expect(view).toContain('docs/operations.md');
    expect(view).not.toMatch(/s3cret|hunter2/);
    expect(view).toMatch(/index +PostgreSQL/);
  });

  it('keeps the one-gateway summary as it was', () => {
    const gateway = member('gateway', 3333, 11);
    const view = plain(
      clusterView({
        gateway,
        gateways: [gateway],
        nodes: [],
        workers: [],
        backends: sqlite,
        dataDir: '/data',
        settings: '/config.json',
        pid: 7,
        profile: { name: 'local', isDefault: true },
      }),
    );
    expect(view).toContain('Legim is up: a gateway storing on its own disk');
    expect(view).toMatch(/settings +server and apiKey saved/);
    expect(view).not.toContain('nginx');
  });

  it('names a profile that is not the default in the hints', () => {
    const gateway = member('gateway', 4000, 11);
    const view = plain(
      clusterView({
        gateway,
        gateways: [gateway],
        nodes: [],
        workers: [],
        backends: sqlite,
        dataDir: '/data',
        settings: '/config.json',
        pid: 7,
        profile: { name: 'second', isDefault: false },
      }),
    );
    expect(view).toMatch(/settings +server and apiKey saved to profile second in \/config\.json/);
    expect(view).toContain('Commands reach this cluster with --profile second (or LEGIM_PROFILE=second)');
    expect(view).toContain('legim config use second');
    expect(view).toContain('upload photo.jpg --downloads 3 --ttl 1h --profile second');
  });

  it('puts the gateways first, then the nodes, one port each', () => {
    expect(portLayout(3333, 1, 3)).toEqual({ gateways: [3333], nodes: [3334, 3335, 3336] });
    expect(portLayout(3333, 2, 3)).toEqual({ gateways: [3333, 3334], nodes: [3335, 3336, 3337] });
  });
});
