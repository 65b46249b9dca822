import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { call, findFiles, queryIndex, uploadBytes } from './support.js';

describe.each(ENGINES)('expiry and deletion after the last download (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, engine, gateway: { deleteGrace: '1' } });
  });
  afterAll(() => cluster?.close());

  const blobsOf = (id: string) => cluster.nodes.flatMap((node) => findFiles(node.dataDir, id));
  const rowsOf = (id: string) => queryIndex(cluster, 'SELECT id FROM files WHERE id = ?', id);

  it('answers 410 from the expiry instant, then removes blobs and metadata', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('jpeg-progressive.jpg'), { ttl: '3s' });
    expect(up.status).toBe(201);
    const id = up.json.id as string;
    const expiresAt = Date.parse(up.json.expiresAt);
    await expect.poll(() => blobsOf(id).length).toBeGreaterThanOrEqual(6); // blob + sidecar on 3 nodes

    expect((await call(`${cluster.gateway.url}/v1/files/${id}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 20));
    const late = await call(up.json.url);
    expect(late.status).toBe(410);
    expect(late.json.error.code).toBe('EXPIRED');

    await expect.poll(() => blobsOf(id), { timeout: 5000 }).toEqual([]);
    expect(await rowsOf(id)).toEqual([]);
    // The tombstone keeps the answer meaningful after the metadata is gone.
    expect((await call(`${cluster.gateway.url}/v1/files/${id}`)).json.error.code).toBe('EXPIRED');
  });

  it('deletes a used-up file after the grace period', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('webp-photo.webp'), { downloads: 1 });
    const id = up.json.id as string;
    expect((await call(up.json.url)).status).toBe(200);
    expect(await rowsOf(id)).toHaveLength(1); // still there during the grace period
    await expect.poll(async () => (await rowsOf(id)).length, { timeout: 5000 }).toBe(0);
    await expect.poll(() => blobsOf(id), { timeout: 5000 }).toEqual([]);
    expect((await call(up.json.url)).json.error.code).toBe('DOWNLOADS_EXHAUSTED');
  });
});
