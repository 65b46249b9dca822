import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { admin, call, findFiles, uploadBytes } from './support.js';

describe.each(ENGINES)('upload and limited download through a 3-node cluster (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // A short grace, so a delete's purge can be watched.
    cluster = await startCluster({ nodes: 3, engine, gateway: { deleteGrace: '2' } });
  });
  afterAll(() => cluster?.close());

  it('stores 3 verified replicas on distinct nodes and serves exactly N downloads', async () => {
    const photo = fixtureBytes('photo-camera-exif-dune-1680x1050.jpg');
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 3, ttl: '1h', title: 'dune' });
    expect(up.status).toBe(201);
    expect(up.json).toMatchObject({
      title: 'dune',
      size: photo.length,
      contentType: 'image/jpeg',
      width: 1680,
      height: 1050,
      sha256: sha256(photo),
      maxDownloads: 3,
      downloadsLeft: 3,
      status: 'processing',
    });
    expect(up.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(up.json.url).toBe(`${cluster.gateway.url}/d/${up.json.id}`);
    expect(typeof up.json.deleteToken).toBe('string');
    expect(up.json.replicas).toBeGreaterThanOrEqual(2);
    expect(Date.parse(up.json.expiresAt) - Date.now()).toBeGreaterThan(3500_000);

    // Every node holds a byte-identical copy once the background copy is done.
    const id = up.json.id as string;
    await expect
      .poll(() => cluster.nodes.filter((n) => findFiles(n.dataDir, id).some((p) => !p.endsWith('.json'))).length)
      .toBe(3);
    for (const node of cluster.nodes) {
      const blob = findFiles(node.dataDir, id).find((p) => !p.endsWith('.json'))!;
      expect(sha256(readFileSync(blob))).toBe(sha256(photo));
    }

    // Metadata reads and HEAD never take a download.
    expect((await call(`${cluster.gateway.url}/v1/files/${id}`)).json.downloadsLeft).toBe(3);
    const head = await call(`${cluster.gateway.url}/d/${id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(photo.length));

    for (let left = 2; left >= 0; left--) {
      const down = await call(`${cluster.gateway.url}/d/${id}`);
      expect(down.status).toBe(200);
      expect(sha256(down.body)).toBe(sha256(photo));
      expect(down.headers.get('legim-downloads-left')).toBe(String(left));
      expect(down.headers.get('etag')).toBe(`"${sha256(photo)}"`);
      expect(down.headers.get('cache-control')).toBe('no-store, private');
      expect(down.headers.get('content-type')).toBe('image/jpeg');
      expect(down.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const fourth = await call(`${cluster.gateway.url}/d/${id}`);
    expect(fourth.status).toBe(410);
    expect(fourth.json.error.code).toBe('DOWNLOADS_EXHAUSTED');
  });

  it('accepts multipart uploads with form fields', async () => {
    const photo = fixtureBytes('png-alpha.png');
    const form = new FormData();
    form.set('downloads', '2');
    form.set('ttl', '15m');
    form.set('file', new Blob([photo]), 'alpha.png');
    const up = await call(`${cluster.gateway.url}/v1/files`, { method: 'POST', body: form });
    expect(up.status).toBe(201);
    expect(up.json).toMatchObject({
      title: 'alpha.png',
      contentType: 'image/png',
      maxDownloads: 2,
      size: photo.length,
    });
    const down = await call(up.json.url);
    expect(sha256(down.body)).toBe(sha256(photo));
    expect(down.headers.get('content-disposition')).toContain('alpha.png');
  });

  it('deletes with the delete token, and refuses a wrong one', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('tiny-1x1.png'));
    const id = up.json.id as string;
    const wrong = await call(`${cluster.gateway.url}/v1/files/${id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer not-the-token' },
    });
    expect(wrong.status).toBe(403);
    const ok = await call(`${cluster.gateway.url}/v1/files/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${up.json.deleteToken}` },
    });
    expect(ok.status).toBe(204);
    const after = await call(`${cluster.gateway.url}/d/${id}`);
    expect(after.status).toBe(410);
    expect(after.json.error.code).toBe('DELETED');
    // The bytes stay for the grace period (downloads already streaming end whole), then go.
    expect(cluster.nodes.flatMap((n) => findFiles(n.dataDir, id)).length).toBeGreaterThan(0);
    await expect.poll(() => cluster.nodes.flatMap((n) => findFiles(n.dataDir, id)).length, { timeout: 15_000 }).toBe(0);
  });

  it('reports the cluster and its health to the admin only', async () => {
    expect((await call(`${cluster.gateway.url}/v1/cluster`)).status).toBe(401);
    const view = await call(`${cluster.gateway.url}/v1/cluster`, { headers: admin });
    expect(view.json.nodes).toHaveLength(3);
    for (const node of view.json.nodes) {
      expect(node.status).toBe('up');
      expect(node.stats.freeBytes).toBeGreaterThan(0);
    }
    const health = await call(`${cluster.gateway.url}/v1/health`, { headers: admin });
    expect(health.json).toMatchObject({ status: 'ok', nodes: { up: 3, down: 0 } });
  });
});
