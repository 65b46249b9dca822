import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type NodeProcess, type TestCluster } from '../../../test-support/cluster.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { admin, call, findFiles, queryIndex, uploadBytes, waitFor } from './support.js';

interface Photo {
  id: string;
  url: string;
  sha: string;
  max: number;
  /** Downloads served before the index was lost. */
  served: number;
}

describe.each(ENGINES)('rebuilding the index from the nodes (%s)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, engine, gateway: { deleteGrace: '2' } });
  });
  afterAll(() => cluster?.close());

  const gatewayUrl = () => cluster.gateway.url;
  /** The expiry of the latest upload. */
  let expiringAt = '';
  const blobsOn = (id: string) => cluster.nodes.flatMap((node) => findFiles(join(node.dataDir, 'blobs'), id));

  async function upload(name: string, query: Record<string, string | number>): Promise<Photo> {
    const bytes = fixtureBytes(name);
    const up = await uploadBytes(gatewayUrl(), bytes, query);
    expect(up.status, JSON.stringify(up.json)).toBe(201);
    expiringAt = up.json.expiresAt;
    return { id: up.json.id, url: up.json.url, sha: sha256(bytes), max: up.json.maxDownloads, served: 0 };
  }

  /** Takes downloads until refused; each body must be the original, byte for byte. */
  async function downloadAll(photo: Photo, atMost = Infinity): Promise<number> {
    let served = 0;
    while (served < atMost) {
      const res = await call(photo.url);
      if (res.status !== 200) break;
      expect(sha256(res.body)).toBe(photo.sha);
      served++;
    }
    return served;
  }

  async function rebuild(): Promise<any> {
    const started = await call(`${gatewayUrl()}/v1/index/rebuild`, { method: 'POST', headers: admin });
    expect(started.status, JSON.stringify(started.json)).toBe(202);
    expect(started.json.state).toBe('running');
    let progress = started.json;
    await waitFor(async () => {
      progress = (await call(`${gatewayUrl()}/v1/index/rebuild`, { headers: admin })).json;
      return progress.state !== 'running';
    }, 'the rebuild');
    expect(progress.state, progress.lastError).toBe('done');
    return progress;
  }

  it('restores live files, variants and counts; deleted, used-up and expired files stay gone; orphans are reported', async () => {
    // Live files with various limits and some downloads taken.
    const flower = await upload('photo-small-flower-1600x1203.jpg', { downloads: 3 });
    const dune = await upload('photo-camera-exif-dune-1680x1050.jpg', { downloads: 20, title: 'dune' });
    const alpha = await upload('png-alpha.png', { downloads: 1000 });
    // Deleted by its owner (purged after the grace period: tombstones on the nodes).
    const deleted = await upload('webp-photo.webp', { downloads: 3 });
    // Used up long before (purged), and used up just before the index is lost (copies still there).
    const usedUp = await upload('png-palette.png', { downloads: 2 });
    const usedUpLate = await upload('gif-animated-8-frames.gif', { downloads: 2 });
    const live = [flower, dune, alpha];
    await waitFor(async () => {
      const infos = await Promise.all(live.map((file) => call(`${gatewayUrl()}/v1/files/${file.id}`)));
      return infos.every((info) => info.json.status === 'ready');
    }, 'the variants');

    flower.served = await downloadAll(flower, 1);
    dune.served = await downloadAll(dune, 5);
    alpha.served = await downloadAll(alpha, 2);
    usedUp.served = await downloadAll(usedUp);
    expect(usedUp.served).toBe(2);
    // A copy of the deleted file that survives its deletion (a node that kept it): its sidecar, as it was.
    const [survivor] = findFiles(join(cluster.nodes[0]!.dataDir, 'blobs'), deleted.id).filter((path) =>
      path.endsWith(`${deleted.id}.meta.json`),
    );
    const survivorSidecar = JSON.parse(readFileSync(survivor!, 'utf8'));
    const survivorBytes = readFileSync(survivor!.slice(0, -'.meta.json'.length));
    const gone = await call(`${gatewayUrl()}/v1/files/${deleted.id}?token=x`, { method: 'DELETE', headers: admin });
    expect(gone.status).toBe(204);
    // Purged after the grace period: the nodes delete the blobs and keep tombstones.
    await waitFor(() => blobsOn(deleted.id).length === 0 && blobsOn(usedUp.id).length === 0, 'the purge');
    usedUpLate.served = await downloadAll(usedUpLate);
    expect(usedUpLate.served).toBe(2);

    // Expires while the gateway is down: its copies are still on the nodes.
    const expiring = await upload('jpeg-progressive.jpg', { downloads: 5, ttl: '3s' });
    const putBack = await fetch(`${cluster.nodes[1]!.url}/blobs/${deleted.id}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${testClusterSecret}`,
        'legim-sha256': survivorSidecar.sha256,
        'legim-meta': Buffer.from(JSON.stringify(survivorSidecar.meta)).toString('base64url'),
      },
      body: survivorBytes,
    });
    expect(putBack.status).toBe(201);
    // An orphan planted straight on a node: a blob whose sidecar carries no meta.
    const orphanId = randomUUID();
    const orphanBytes = fixtureBytes('tiny-1x1.png');
    const planted = await fetch(`${cluster.nodes[0]!.url}/blobs/${orphanId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${testClusterSecret}`, 'legim-sha256': sha256(orphanBytes) },
      body: orphanBytes,
    });
    expect(planted.status).toBe(201);

    // The index is lost: stop the gateway, delete its database, start it again.
    await cluster.restartGateway({ loseIndex: true });
    await cluster.waitForNodes(3);
    expect((await call(flower.url, { method: 'HEAD' })).status).toBe(404);
    // Past the expiry of the short-lived file.
    await waitFor(() => Date.now() > Date.parse(expiringAt) + 50, 'the expiry');

    const progress = await rebuild();
    expect(progress).toMatchObject({
      nodes: { total: 3, scanned: 3, unreachable: [] },
      filesRestored: 3,
      variantsRestored: 9,
      skipped: { alreadyIndexed: 0, inFlight: 0, deleted: 1, expired: 1, exhausted: 1 },
      mismatches: { count: 0 },
    });
    expect(progress.orphans.keys).toContain(orphanId);
    expect(progress.filesPerSecond).toBeGreaterThan(0);

    // Every live file is back, byte-identical, never over its limit in total.
    for (const photo of live) {
      const info = await call(`${gatewayUrl()}/v1/files/${photo.id}`);
      expect(info.status).toBe(200);
      expect(info.json).toMatchObject({ sha256: photo.sha, maxDownloads: photo.max, status: 'ready', replicas: 3 });
      expect(Object.keys(info.json.variants).sort()).toEqual(['small', 'thumb', 'webp']);
      const thumb = await call(info.json.variants.thumb.url);
      expect(thumb.status).toBe(200);
      const [variant] = await queryIndex<{ sha256: string }>(
        cluster,
        "SELECT sha256 FROM variants WHERE file_id = ? AND name = 'thumb'",
        photo.id,
      );
      expect(sha256(thumb.body)).toBe(variant!.sha256);
    }
    expect((await call(`${gatewayUrl()}/v1/files/${dune.id}`)).json.title).toBe('dune');
    // A limit of 3 checkpoints every download: nothing lost. 20: blocks of 3, so 5 taken → checkpoint 6.
    expect((await call(`${gatewayUrl()}/v1/files/${flower.id}`)).json.downloadsLeft).toBe(2);
    expect((await call(`${gatewayUrl()}/v1/files/${dune.id}`)).json.downloadsLeft).toBe(14);
    expect((await call(`${gatewayUrl()}/v1/files/${alpha.id}`)).json.downloadsLeft).toBe(1000 - 125);
    for (const photo of [flower, dune]) {
      const after = await downloadAll(photo);
      expect(photo.served + after).toBeLessThanOrEqual(photo.max);
      expect(photo.served + after).toBeGreaterThan(photo.max - Math.ceil(photo.max / 8));
    }

    // Gone stays gone: the surviving copy of the deleted file is not served, and is deleted.
    expect((await call(deleted.url)).json.error?.code).toBe('DELETED');
    expect((await call(usedUp.url)).status).toBe(404);
    expect((await call(usedUpLate.url)).json.error?.code).toBe('DOWNLOADS_EXHAUSTED');
    expect((await call(expiring.url)).json.error?.code).toBe('EXPIRED');
    // Their surviving copies are deleted (and tombstoned) by the sweep.
    await waitFor(
      () => [usedUpLate, expiring, deleted].every((file) => blobsOn(file.id).length === 0),
      'the copies to be deleted',
    );
    // The orphan is never served.
    expect((await call(`${gatewayUrl()}/d/${orphanId}`)).status).toBe(404);

    // Running it again changes nothing.
    const again = await rebuild();
    expect(again).toMatchObject({ filesRestored: 0, variantsRestored: 0 });
    expect(again.skipped.alreadyIndexed).toBeGreaterThanOrEqual(2);
    expect((await call(`${gatewayUrl()}/v1/files/${alpha.id}`)).json.downloadsLeft).toBe(1000 - 125);
    expect((await call(usedUpLate.url)).json.error?.code).toBe('DOWNLOADS_EXHAUSTED');
  }, 90_000);

  it('refuses a second rebuild while one runs, needs the admin key, and lets uploads go on', async () => {
    const [first, second, ...uploads] = await Promise.all([
      call(`${gatewayUrl()}/v1/index/rebuild`, { method: 'POST', headers: admin }),
      call(`${gatewayUrl()}/v1/index/rebuild`, { method: 'POST', headers: admin }),
      ...['png-16bit.png', 'jpeg-cmyk.jpg', 'tiff-lzw.tif'].map((name) => upload(name, { downloads: 2 })),
    ]);
    expect([first.status, second.status].sort()).toEqual([202, 409]);
    const refused = first.status === 409 ? first : second;
    expect(refused.json.error.code).toBe('REBUILD_RUNNING');
    expect((await call(`${gatewayUrl()}/v1/index/rebuild`)).status).toBe(401);
    await waitFor(
      async () => (await call(`${gatewayUrl()}/v1/index/rebuild`, { headers: admin })).json.state !== 'running',
      'the rebuild',
    );
    // Uploads made while it ran are whole: both downloads, byte for byte, and no more.
    for (const photo of uploads as Photo[]) expect(await downloadAll(photo)).toBe(2);
  });
});

describe('download checkpoints', () => {
  let cluster: TestCluster;
  const nodeAuth = { authorization: `Bearer ${testClusterSecret}` };
  const health = async () => (await call(`${cluster.gateway.url}/v1/health`, { headers: admin })).json;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  afterAll(() => cluster?.close());

  it('are written to the copies that are up, and fail the download closed, given back, when none records it', async () => {
    const bytes = fixtureBytes('png-alpha.png');
    const up = await uploadBytes(cluster.gateway.url, bytes, { downloads: 3 });
    expect(up.status).toBe(201);
    const id = up.json.id as string;
    await waitFor(
      async () =>
        (await queryIndex(cluster, "SELECT 1 FROM replicas WHERE blob_key = ? AND state = 'durable'", id)).length === 3,
      'three durable copies',
    );
    const checkpointOn = async (node: NodeProcess) =>
      (await fetch(`${node.url}/blobs/${id}`, { method: 'HEAD', headers: nodeAuth })).headers.get(
        'legim-downloads-taken',
      );
    expect(sha256((await call(up.json.url)).body)).toBe(sha256(bytes));
    for (const node of cluster.nodes) expect(await checkpointOn(node)).toBe('1');
    // Two of three copies gone: the survivor serves, and records the download first.
    await cluster.nodes[0]!.kill();
    await cluster.nodes[1]!.kill();
    await waitFor(async () => (await health()).nodes.down === 2, 'two nodes seen down');
    expect(sha256((await call(up.json.url)).body)).toBe(sha256(bytes));
    expect(await checkpointOn(cluster.nodes[2]!)).toBe('2');
    // The survivor loses its copy: nothing can record the download, so nothing is served and it is given back.
    for (const path of findFiles(join(cluster.nodes[2]!.dataDir, 'blobs'), id)) rmSync(path, { force: true });
    const refused = await call(up.json.url);
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('CHECKPOINT_FAILED');
    expect(refused.headers.get('retry-after')).toBe('2');
    const [left] = await queryIndex<{ downloads_left: number }>(
      cluster,
      'SELECT downloads_left FROM files WHERE id = ?',
      id,
    );
    expect(left!.downloads_left).toBe(1);
  });
});
