import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { startPrivateRedis, type PrivateRedis } from '../../../test-support/private-redis.js';
import { admin, call, uploadBytes, type Reply } from './support.js';

/**
 * The counter fails closed: while Redis is gone no download is served, and a
 * Redis that comes back empty is re-seeded from SQLite, so the limit holds
 * over the whole outage. Runs on a Redis of its own, never the shared one.
 */
describe('Redis outage during a download storm', () => {
  let redis: PrivateRedis;
  let cluster: TestCluster;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    cluster = await startCluster({
      nodes: 2,
      gateway: { replicas: 2, redis: redis.url, redisPrefix: `test-${randomUUID().slice(0, 8)}:` },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    await redis?.close();
  });

  const health = () => call(`${cluster.gateway.url}/v1/health`, { headers: admin });

  it('never serves more than the limit, answers 503 COUNTER_UNAVAILABLE while down, and recovers', async () => {
    const photo = fixtureBytes('photo-small-flower-1600x1203.jpg');
    const limit = 40;
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: limit });
    expect(up.status).toBe(201);

    const replies: Reply[] = [];
    let storming = true;
    const storm = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (storming) {
          replies.push(await call(up.json.url));
          await sleep(5);
        }
      }),
    );
    await waitUntil(() => okCount(replies) >= 10);
    await redis.kill();
    const servedBeforeOutage = okCount(replies);
    await waitUntil(() => replies.some((r) => r.status === 503));
    expect((await health()).json).toMatchObject({
      status: 'degraded',
      counter: { backend: 'redis', reachable: false },
    });
    await sleep(300);
    const duringOutage = replies.length;
    await redis.start();
    // Back and empty: the counts come from SQLite, so the storm ends at exactly the limit.
    await waitUntil(() => replies.slice(duringOutage).some((r) => r.status === 410), 20_000);
    storming = false;
    await storm;

    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(limit);
    for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(photo));
    const unavailable = replies.filter((r) => r.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const reply of unavailable) expect(reply.json.error.code).toBe('COUNTER_UNAVAILABLE');
    expect(servedBeforeOutage).toBeLessThan(limit);
    const others = replies.filter((r) => ![200, 410, 503].includes(r.status));
    expect(others.map((r) => r.status)).toEqual([]);
    const info = await call(`${cluster.gateway.url}/v1/files/${up.json.id}`);
    expect(info.status).toBe(410);
    expect((await health()).json).toMatchObject({ status: 'ok', counter: { backend: 'redis', reachable: true } });
  });
});

function okCount(replies: Reply[]): number {
  return replies.filter((r) => r.status === 200).length;
}

async function waitUntil(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}
