import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { call, findFiles, queryIndex, uploadBytes } from './support.js';

describe('gateway restart', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  afterAll(() => cluster?.close());

  it('keeps files, download counters and pending expiries', async () => {
    const photo = fixtureBytes('photo-portrait-drum-2560x3837.jpg');
    const kept = await uploadBytes(cluster.gateway.url, photo, { downloads: 3 });
    const expiring = await uploadBytes(cluster.gateway.url, fixtureBytes('png-16bit.png'), { ttl: '2s' });
    expect((await call(kept.json.url)).status).toBe(200);

    await cluster.restartGateway();
    await cluster.waitForNodes(3);

    const info = await call(`${cluster.gateway.url}/v1/files/${kept.json.id}`);
    expect(info.json.downloadsLeft).toBe(2);
    const down = await call(kept.json.url);
    expect(sha256(down.body)).toBe(sha256(photo));
    expect(down.headers.get('legim-downloads-left')).toBe('1');

    const expiringId = expiring.json.id as string;
    await expect.poll(async () => (await call(expiring.json.url)).status, { timeout: 5000 }).toBe(410);
    await expect
      .poll(() => cluster.nodes.flatMap((n) => findFiles(n.dataDir, expiringId)), { timeout: 5000 })
      .toEqual([]);
    expect(queryIndex(cluster.gateway.dataDir, 'SELECT id FROM files WHERE id = ?', expiringId)).toEqual([]);
  });

  it('finishes an expiry that fell due while it was down', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('tiny-1x1.png'), { ttl: '1s' });
    const id = up.json.id as string;
    await cluster.gateway.close();
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.restartGateway();
    await expect.poll(() => cluster.nodes.flatMap((n) => findFiles(n.dataDir, id)), { timeout: 5000 }).toEqual([]);
    expect((await call(up.json.url)).json.error.code).toBe('EXPIRED');
  });
});
