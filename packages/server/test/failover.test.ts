import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { admin, call, uploadBytes, waitFor } from './support.js';

describe.each(ENGINES)('a storage node dies (SIGKILL) (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, engine });
  });
  afterAll(() => cluster?.close());

  it('keeps every file downloadable and uploads working', async () => {
    const photos = [
      'photo-small-flower-1600x1203.jpg',
      'png-palette.png',
      'gif-animated-8-frames.gif',
      'tiff-lzw.tif',
      'avif-photo.avif',
    ];
    const uploaded = [];
    for (const name of photos) {
      const bytes = fixtureBytes(name);
      const up = await uploadBytes(cluster.gateway.url, bytes, { downloads: 10 });
      expect(up.status).toBe(201);
      uploaded.push({ url: up.json.url as string, sha: sha256(bytes) });
    }
    await waitFor(async () => {
      const view = await call(`${cluster.gateway.url}/v1/health`, { headers: admin });
      return view.json.files === photos.length;
    }, 'the index to list every upload');

    await cluster.nodes[0]!.kill('SIGKILL');

    // Straight away, before the health monitor noticed: reads fail over invisibly.
    for (const file of uploaded) {
      const down = await call(file.url);
      expect(down.status).toBe(200);
      expect(sha256(down.body)).toBe(file.sha);
    }
    // Uploads go on with the two nodes left.
    const bytes = fixtureBytes('jpeg-exif-gps.jpg');
    await waitFor(async () => (await uploadBytes(cluster.gateway.url, bytes)).status === 201, 'an upload to succeed');
    const up = await uploadBytes(cluster.gateway.url, bytes);
    expect(up.status).toBe(201);
    expect(up.json.replicas).toBe(2);
    expect(sha256((await call(up.json.url)).body)).toBe(sha256(bytes));
  });
});

describe.each(ENGINES)('most of the cluster is down (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, engine });
  });
  afterAll(() => cluster?.close());

  it('refuses uploads it cannot store twice, instead of keeping a single copy', async () => {
    await cluster.nodes[0]!.kill('SIGKILL');
    await cluster.nodes[1]!.kill('SIGKILL');
    const bytes = fixtureBytes('tiny-1x1.png');
    await waitFor(async () => (await uploadBytes(cluster.gateway.url, bytes)).status === 503, 'uploads to be refused');
    const refused = await uploadBytes(cluster.gateway.url, bytes);
    expect(refused.json.error.code).toBe('REPLICATION_FAILED');
    expect(refused.headers.get('retry-after')).toBe('5');
  });
});
