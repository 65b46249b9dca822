import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { startPrivateRedis } from '../../../test-support/private-redis.js';
import { admin, call, uploadBytes, waitFor, type Reply } from './support.js';

const PHOTO = fixtureBytes('photo-small-flower-1600x1203.jpg');

/** One gateway on a Redis of its own (never the shared one), to kill and restart. */
async function startOnPrivateRedis(options: { persist?: boolean } = {}) {
  const redis = await startPrivateRedis(options);
  const prefix = `test-${randomUUID().slice(0, 8)}:`;
  const cluster = await startCluster({ nodes: 2, gateway: { replicas: 2, redis: redis.url, redisPrefix: prefix } });
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  client.on('error', () => {});
  const url = cluster.gateway.url;
  const connected = async () => {
    if (client.status === 'wait') await client.connect();
    await waitFor(() => client.status === 'ready', 'the test client to reach Redis');
  };
  return {
    redis,
    cluster,
    url,
    /** What Redis holds for a file: its count and whether it is of the current epoch (stale ones are re-seeded). */
    async count(id: string): Promise<{ left: number; current: boolean } | undefined> {
      await connected();
      const [epoch, [keyEpoch, left]] = await Promise.all([
        client.get(`${prefix}downloads-epoch`),
        client.hmget(`${prefix}downloads:${id}`, 'epoch', 'left'),
      ]);
      return left === null ? undefined : { left: Number(left), current: keyEpoch === (epoch ?? '0') };
    },
    /** Overwrites a file's count in the current epoch. */
    async setLeft(id: string, left: number): Promise<void> {
      await connected();
      await client.hset(`${prefix}downloads:${id}`, 'left', left);
    },
    health: async () => (await call(`${url}/v1/health`, { headers: admin })).json,
    info: (id: string) => call(`${url}/v1/files/${id}`),
    async close() {
      client.disconnect();
      await cluster.close();
      await redis.close();
    },
  };
}

/**
 * While Redis is unreachable the gateway counts on the index (one exact
 * UPDATE per download) instead of refusing; before it uses Redis again it
 * starts a new counter epoch, so counts Redis kept from before the outage
 * are re-seeded from the index and never hand out a download twice.
 */
describe('Redis outage during a download storm', () => {
  let setup: Awaited<ReturnType<typeof startOnPrivateRedis>>;
  beforeAll(async () => {
    setup = await startOnPrivateRedis();
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('Redis SIGKILLed mid-storm: downloads go on, exactly the limit is served, counts are right after Redis returns empty', async () => {
    const { redis, url } = setup;
    const limit = 30;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const up = await uploadBytes(url, PHOTO, { downloads: limit });
      expect(up.status).toBe(201);
      ids.push(up.json.id);
    }
    // Downloaded a little in each phase, so its count is checked while still open.
    const quiet = await uploadBytes(url, PHOTO, { downloads: 10 });
    const quietId: string = quiet.json.id;
    const takeQuiet = async () => expect((await call(quiet.json.url)).status).toBe(200);

    const replies = new Map<string, Reply[]>(ids.map((id) => [id, []]));
    const all = () => [...replies.values()].flat();
    let storming = true;
    const storm = Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let n = worker; storming; n++) {
          const id = ids[n % ids.length]!;
          replies.get(id)!.push(await call(`${url}/d/${id}`));
        }
      }),
    );
    await waitFor(() => okCount(all()) >= 20, 'downloads counted in Redis');
    await takeQuiet();
    await redis.kill();
    const killedAt = all().length;
    await takeQuiet();
    await waitFor(() => okCount(all().slice(killedAt)) >= 20, 'downloads counted on the index while Redis is down');
    expect(await setup.health()).toMatchObject({ status: 'degraded', counter: { backend: 'redis', reachable: false } });
    await takeQuiet();

    await redis.start();
    await waitFor(async () => (await setup.health()).counter.reachable === true, 'the counter back on Redis');
    await takeQuiet();
    await waitFor(() => ids.every((id) => replies.get(id)!.at(-1)?.status === 410), 'every file used up', 30_000);
    storming = false;
    await storm;

    for (const id of ids) {
      const ok = replies.get(id)!.filter((r) => r.status === 200);
      expect(ok, `downloads of ${id}`).toHaveLength(limit);
      for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(PHOTO));
      const others = replies.get(id)!.filter((r) => r.status !== 200);
      expect(others.map((r) => [r.status, r.json?.error?.code])).toEqual(
        others.map(() => [410, 'DOWNLOADS_EXHAUSTED']),
      );
      expect((await setup.info(id)).status).toBe(410);
      // A count Redis holds for a used-up file says so; a stale one is never used.
      const count = await setup.count(id);
      if (count?.current) expect(count.left).toBe(0);
    }
    expect((await setup.info(quietId)).json).toMatchObject({ downloadsLeft: 6 });
    expect(await setup.count(quietId)).toEqual({ left: 6, current: true });
    expect(await setup.health()).toMatchObject({ status: 'ok', counter: { backend: 'redis', reachable: true } });
  });

  it('a count Redis holds above the index is refused by the index: no gateway serves beyond the limit', async () => {
    const up = await uploadBytes(setup.url, PHOTO, { downloads: 3 });
    const id: string = up.json.id;
    expect((await call(up.json.url)).status).toBe(200);
    // As a gateway that missed another's outage could see it: Redis says 5 left, the index 2.
    await setup.setLeft(id, 5);
    expect((await call(up.json.url)).status).toBe(200);
    expect((await call(up.json.url)).status).toBe(200);
    const next = await call(up.json.url);
    expect([next.status, next.json.error.code]).toEqual([410, 'DOWNLOADS_EXHAUSTED']);
    // Redis granted it (its count went down); the index's conditional write-through refused it.
    expect(await setup.count(id)).toEqual({ left: 2, current: true });
    expect((await setup.info(id)).status).toBe(410);
  });
});

describe('Redis returning with the counts it had before the outage', () => {
  let setup: Awaited<ReturnType<typeof startOnPrivateRedis>>;
  beforeAll(async () => {
    setup = await startOnPrivateRedis({ persist: true });
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('does not hand out again a download counted on the index meanwhile', async () => {
    const up = await uploadBytes(setup.url, PHOTO, { downloads: 3 });
    const id: string = up.json.id;
    expect((await call(up.json.url)).status).toBe(200);
    expect(await setup.count(id)).toEqual({ left: 2, current: true });

    await setup.redis.kill();
    expect((await call(up.json.url)).status).toBe(200);
    expect((await setup.info(id)).json).toMatchObject({ downloadsLeft: 1 });

    await setup.redis.start();
    // Kept on disk: the count from before the outage, now stale.
    expect(await setup.count(id)).toMatchObject({ left: 2 });
    await waitFor(async () => (await setup.health()).counter.reachable === true, 'the counter back on Redis');
    expect(await setup.count(id)).toEqual({ left: 2, current: false });

    expect((await call(up.json.url)).status).toBe(200);
    // Re-seeded from the index (1 left), then taken: Redis agrees with the index.
    expect(await setup.count(id)).toEqual({ left: 0, current: true });
    const last = await call(up.json.url);
    expect([last.status, last.json.error.code]).toEqual([410, 'DOWNLOADS_EXHAUSTED']);
    expect((await setup.info(id)).status).toBe(410);
  });
});

describe('Deleting while Redis is unreachable', () => {
  let setup: Awaited<ReturnType<typeof startOnPrivateRedis>>;
  beforeAll(async () => {
    setup = await startOnPrivateRedis({ persist: true });
  });
  afterAll(async () => {
    await setup?.close();
  });

  it('answers 204 and every download is refused, also after Redis returns with the open count', async () => {
    const up = await uploadBytes(setup.url, PHOTO, { downloads: 5 });
    const id: string = up.json.id;
    expect((await call(up.json.url)).status).toBe(200);
    await setup.redis.kill();
    const deleted = await call(`${setup.url}/v1/files/${id}`, { method: 'DELETE', headers: admin });
    expect(deleted.status).toBe(204);
    const during = await call(up.json.url);
    expect([during.status, during.json.error.code]).toEqual([410, 'DELETED']);

    await setup.redis.start();
    expect(await setup.count(id)).toMatchObject({ left: 4 });
    await waitFor(async () => (await setup.health()).counter.reachable === true, 'the counter back on Redis');
    const after = await call(up.json.url);
    expect([after.status, after.json.error.code]).toEqual([410, 'DELETED']);
  });
});

function okCount(replies: Reply[]): number {
  return replies.filter((r) => r.status === 200).length;
}
