import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { poisonPng } from '../../../test-support/poison-png.js';
import { call, findFiles, queryIndex, uploadBytes, waitFor } from './support.js';

describe('asynchronous variants', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: { jobAttempts: '2', sweepInterval: '0.2' } });
  });
  afterAll(() => cluster?.close());

  const info = async (id: string) => (await call(`${cluster.gateway.url}/v1/files/${id}`)).json;
  const ready = (id: string) =>
    waitFor(async () => (await info(id)).status !== 'processing', `${id} to be processed`, 30_000);

  it('answers the upload before processing, then serves upright, metadata-free variants', async () => {
    const photo = fixtureBytes('photo-large-bird-6028x3391.jpg');
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 1 });
    expect(up.status).toBe(201);
    expect(up.json.status).toBe('processing');
    const early = await call(`${cluster.gateway.url}/v1/files/${up.json.id}/variants/thumb`);
    expect(early.status).toBe(404);
    expect(early.json.error.code).toBe('VARIANT_NOT_READY');
    expect(early.headers.get('retry-after')).toBe('2');

    await ready(up.json.id);
    const file = await info(up.json.id);
    expect(file.status).toBe('ready');
    expect(Object.keys(file.variants).sort()).toEqual(['small', 'thumb', 'webp']);
    expect(file.variants.thumb).toMatchObject({ width: 256, height: 144, contentType: 'image/webp' });
    expect(file.variants.small).toMatchObject({ width: 1024, height: 576 });

    for (const name of ['thumb', 'small', 'webp']) {
      const variant = await call(file.variants[name].url);
      expect(variant.status, name).toBe(200);
      expect(variant.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(variant.body).metadata();
      expect(meta.width).toBe(file.variants[name].width);
      expect(meta.exif).toBeUndefined();
    }
    // Previews never take the one download.
    expect((await info(up.json.id)).downloadsLeft).toBe(1);
    expect(sha256((await call(up.json.url)).body)).toBe(sha256(photo));
  });

  it('answers a conditional request for a current preview 304 without a body; a download never', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('photo-small-flower-1600x1203.jpg'), {
      downloads: 2,
    });
    await ready(up.json.id);
    const thumb = await call(`${cluster.gateway.url}/v1/files/${up.json.id}/variants/thumb`);
    const etag = thumb.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await call(`${cluster.gateway.url}/v1/files/${up.json.id}/variants/thumb`, {
        headers: { 'if-none-match': ifNoneMatch },
      });
      expect([ifNoneMatch, again.status, again.body.length]).toEqual([ifNoneMatch, 304, 0]);
      expect(again.headers.get('etag')).toBe(etag);
    }
    const changed = await call(`${cluster.gateway.url}/v1/files/${up.json.id}/variants/thumb`, {
      headers: { 'if-none-match': '"not-the-same"' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.equals(thumb.body)).toBe(true);
    // The original's tag never spares a download: it is always sent, and counted.
    const download = await call(up.json.url, { headers: { 'if-none-match': `"${up.json.sha256}"` } });
    expect(download.status).toBe(200);
    expect((await info(up.json.id)).downloadsLeft).toBe(1);
  });

  it('applies EXIF orientation and strips GPS and camera data', async () => {
    const rotated = await uploadBytes(cluster.gateway.url, fixtureBytes('jpeg-exif-orientation-6.jpg'));
    const gps = await uploadBytes(cluster.gateway.url, fixtureBytes('jpeg-exif-gps.jpg'));
    await ready(rotated.json.id);
    await ready(gps.json.id);
    const thumb = (await info(rotated.json.id)).variants.thumb;
    expect(thumb.width).toBeGreaterThan(thumb.height);
    for (const name of ['thumb', 'small', 'webp']) {
      const body = (await call((await info(gps.json.id)).variants[name].url)).body;
      expect(body.includes('LGM-SN-0001'), name).toBe(false);
      expect(body.includes('LegimTestCam'), name).toBe(false);
      const meta = await sharp(body).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
    }
  });

  it('marks a poison image failed after its retries; the original stays downloadable', async () => {
    const poison = poisonPng();
    const up = await uploadBytes(cluster.gateway.url, poison);
    expect(up.status).toBe(201);
    await ready(up.json.id);
    const file = await info(up.json.id);
    expect(file.status).toBe('failed');
    expect(file.statusReason).toEqual(expect.any(String));
    const dead = () =>
      queryIndex<{ last_error: string }>(
        cluster.gateway.dataDir,
        "SELECT last_error FROM legim_jobs WHERE state = 'dead'",
      );
    // Dead-lettered once its retries (jobAttempts = 2, with back-off) are spent.
    await waitFor(() => dead().length === 1, 'the job to be dead-lettered', 10_000);
    expect(dead()[0]!.last_error).toEqual(expect.any(String));
    const variant = await call(`${cluster.gateway.url}/v1/files/${up.json.id}/variants/thumb`);
    expect(variant.status).toBe(404);
    expect(variant.json.error.code).toBe('VARIANT_NOT_FOUND');
    expect(sha256((await call(up.json.url)).body)).toBe(sha256(poison));
  });

  it('removes the variants with the original when the file expires', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { ttl: '3s' });
    const id = up.json.id as string;
    await ready(id);
    const blobs = () => cluster.nodes.flatMap((node) => findFiles(`${node.dataDir}/blobs`, id));
    expect(blobs().some((path) => path.includes(`${id}.thumb`))).toBe(true);
    await waitFor(async () => (await call(up.json.url)).status === 410, 'expiry', 10_000);
    await waitFor(() => blobs().length === 0, 'every blob and variant to be gone', 10_000);
    expect(queryIndex(cluster.gateway.dataDir, 'SELECT * FROM variants WHERE file_id = ?', id)).toEqual([]);
  });

  it('removes original and variants of a file that expired while the gateway was down', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('jpeg-cmyk.jpg'), { ttl: '2s' });
    const id = up.json.id as string;
    await ready(id);
    const blobs = () => cluster.nodes.flatMap((node) => findFiles(`${node.dataDir}/blobs`, id));
    expect(blobs().length).toBeGreaterThan(6);
    await cluster.gateway.close();
    await new Promise((r) => setTimeout(r, Date.parse(up.json.expiresAt) - Date.now() + 200));
    await cluster.restartGateway();
    await waitFor(() => blobs().length === 0, 'every blob and variant to be gone', 10_000);
    expect(queryIndex(cluster.gateway.dataDir, 'SELECT * FROM files WHERE id = ?', id)).toEqual([]);
    expect(queryIndex(cluster.gateway.dataDir, 'SELECT * FROM replicas WHERE file_id = ?', id)).toEqual([]);
    expect((await call(up.json.url)).json.error.code).toBe('EXPIRED');
  });
});
