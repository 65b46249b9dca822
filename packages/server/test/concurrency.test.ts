import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { call, uploadBytes } from './support.js';

/** Each index engine, counting downloads itself or with Redis in front (a key prefix of its own per run). */
const MATRIX = ENGINES.flatMap((engine) => [
  { engine, counter: 'index', gateway: {} },
  {
    engine,
    counter: 'Redis',
    gateway: { redis: 'redis://127.0.0.1:6379', redisPrefix: `test-${randomUUID().slice(0, 8)}:` },
  },
]);

describe.each(MATRIX)('download limit under concurrency ($engine index, $counter counter)', ({ engine, gateway }) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, engine, gateway });
  });
  afterAll(() => cluster?.close());

  it('lets exactly 5 of 200 simultaneous downloads through, with full bodies', async () => {
    const photo = fixtureBytes('photo-small-flower-1600x1203.jpg');
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 5 });
    expect(up.status).toBe(201);

    const replies = await Promise.all(Array.from({ length: 200 }, () => call(up.json.url)));
    const ok = replies.filter((r) => r.status === 200);
    const gone = replies.filter((r) => r.status === 410);
    expect(ok).toHaveLength(5);
    expect(gone).toHaveLength(195);
    for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(photo));
    for (const reply of gone) expect(reply.json.error.code).toBe('DOWNLOADS_EXHAUSTED');
    expect(new Set(ok.map((r) => r.headers.get('legim-downloads-left')))).toEqual(new Set(['0', '1', '2', '3', '4']));
  });
});
