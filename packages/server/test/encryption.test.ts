import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PLAIN_HTTP } from '@legim/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type NodeProcess, type TestCluster } from '../../../test-support/cluster.js';
import { openSealed } from '../src/encryption/blob-cipher.js';
import { GatewayWorkerClient } from '../src/workers/gateway-worker-client.js';
import { flipByte } from '../../../test-support/files.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { admin, allFiles, call, findFiles, indexCopies, queryIndex, uploadBytes, waitFor } from './support.js';

// 1 MB: sixteen 64 KiB chunks, so ranges and resumes cross chunk boundaries.
const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';
const SECOND = 'jpeg-exif-gps.jpg';
const VARIANTS = ['thumb', 'small', 'webp'];

/** Every file under the nodes' data folders, including the ones of nodes that are down. */
function nodeDiskFiles(nodes: NodeProcess[]): string[] {
  return nodes.flatMap((node) => (existsSync(node.dataDir) ? allFiles(node.dataDir) : []));
}

/**
 * Checks that no file on the nodes' disks holds `plain`: not the bytes of
 * a file equal to it (by SHA-256), not its SHA-256 in hex or raw, and none
 * of several 64-byte windows of it (start, middle, end, and more).
 */
function expectNowhereOnDisk(nodes: NodeProcess[], plain: Buffer): void {
  const digest = createHash('sha256').update(plain).digest();
  const windows = [0, 0.25, 0.5, 0.75, 1].map((at) => {
    const start = Math.min(Math.floor(plain.length * at), plain.length - 64);
    return plain.subarray(start, start + 64);
  });
  const files = nodeDiskFiles(nodes);
  expect(files.length).toBeGreaterThan(0);
  for (const path of files) {
    const bytes = readIfPresent(path);
    if (!bytes) continue;
    expect(sha256(bytes), path).not.toBe(digest.toString('hex'));
    expect(bytes.includes(digest), path).toBe(false);
    expect(bytes.includes(digest.toString('hex')), path).toBe(false);
    for (const window of windows)
      expect(bytes.includes(window), `${path} holds a 64-byte window of the image`).toBe(false);
  }
}

/** A file removed since the listing (a deletion or a repair finishing) holds nothing any more. */
function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function blobPaths(node: NodeProcess, key: string): string[] {
  return findFiles(join(node.dataDir, 'blobs'), key).filter((path) => basename(path) === key);
}

async function download(cluster: TestCluster, id: string, headers: Record<string, string> = {}) {
  return call(`${cluster.gateway.url}/d/${id}`, { headers });
}

describe('encryption at rest (--encrypt)', () => {
  let cluster: TestCluster;
  const photo = fixtureBytes(PHOTO);
  let id: string;
  const durableHolders = async (key: string) =>
    (await indexCopies(cluster)).filter((c) => c.blob_key === key && c.state === 'durable').map((c) => c.node_id);
  const nodeById = (nodeId: string) => cluster.nodes.find((node) => node.nodeId === nodeId)!;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 4,
      node: { scrubIntervalMs: 200 },
      gateway: { encrypt: true, repairAfter: '1', deleteGrace: '1' },
    });
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 50 });
    expect(up.status, JSON.stringify(up.json)).toBe(201);
    id = up.json.id as string;
    // The plaintext's size and digest, as without encryption.
    expect(up.json.sha256).toBe(sha256(photo));
    expect(up.json.size).toBe(photo.length);
    await waitFor(
      async () => (await call(`${cluster.gateway.url}/v1/files/${id}`)).json.status === 'ready',
      'the variants',
    );
  });
  afterAll(() => cluster?.close());

  it('stores only sealed bytes: no node disk holds the image, its variants or their digests', async () => {
    const [row] = await queryIndex<{
      sealed_sha256: string;
      sealed_size: number;
      wrapped_key: string;
      master_kid: string;
    }>(cluster, 'SELECT sealed_sha256, sealed_size, wrapped_key, master_kid FROM files WHERE id = ?', id);
    expect(row!.wrapped_key).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(row!.sealed_size).toBeGreaterThan(photo.length);
    // Each node holds the sealed bytes, whose digest the index and the node's sidecar agree on.
    for (const nodeId of await durableHolders(id)) {
      const [path] = blobPaths(nodeById(nodeId), id);
      expect(sha256(readFileSync(path!))).toBe(row!.sealed_sha256);
      const sidecar = readFileSync(`${path}.meta.json`, 'utf8');
      // The sidecar names the file and nothing about the image.
      expect(sidecar).not.toContain('image/jpeg');
      expect(sidecar).not.toContain('1680');
    }
    expectNowhereOnDisk(cluster.nodes, photo);
    const variants = await queryIndex<{ name: string; sealed_sha256: string | null }>(
      cluster,
      'SELECT name, sealed_sha256 FROM variants WHERE file_id = ?',
      id,
    );
    expect(variants.map((v) => v.name).sort()).toEqual([...VARIANTS].sort());
    for (const variant of variants) {
      expect(variant.sealed_sha256).toMatch(/^[0-9a-f]{64}$/);
      const served = await call(`${cluster.gateway.url}/v1/files/${id}/variants/${variant.name}`);
      expect(served.status).toBe(200);
      // A real image, as sharp made it, served in clear.
      const meta = await sharp(served.body).metadata();
      expect(meta.width).toBeGreaterThan(0);
      expect(sha256(served.body)).not.toBe(variant.sealed_sha256);
      expectNowhereOnDisk(cluster.nodes, served.body);
    }
  });

  it('serves the download byte for byte, and Range resumes across chunk boundaries', async () => {
    const whole = await download(cluster, id);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(photo)).toBe(true);
    const token = whole.headers.get('legim-resume')!;
    for (const start of [1000, 65_535, 65_536, 200_000, photo.length - 1]) {
      const resumed = await download(cluster, id, { range: `bytes=${start}-`, 'legim-resume': token });
      expect(resumed.status).toBe(206);
      expect(resumed.headers.get('content-range')).toBe(`bytes ${start}-${photo.length - 1}/${photo.length}`);
      expect(resumed.body.equals(photo.subarray(start))).toBe(true);
    }
  });

  it('serves bounded ranges of the original and of a preview, within and across chunks', async () => {
    for (const [first, last] of [
      [1000, 5000],
      [65_000, 70_000],
      [0, 0],
    ] as const) {
      const part = await download(cluster, id, { range: `bytes=${first}-${last}` });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes ${first}-${last}/${photo.length}`);
      expect(part.body.equals(photo.subarray(first, last + 1))).toBe(true);
    }
    const thumbUrl = `${cluster.gateway.url}/v1/files/${id}/variants/thumb`;
    const thumb = await call(thumbUrl);
    const slice = await call(thumbUrl, { headers: { range: 'bytes=10-99' } });
    expect(slice.status).toBe(206);
    expect(slice.body.equals(thumb.body.subarray(10, 100))).toBe(true);
  });

  it('scrubbing sees a flipped byte of the sealed copy, and the copy is made again', async () => {
    const [row] = await queryIndex<{ sealed_sha256: string }>(
      cluster,
      'SELECT sealed_sha256 FROM files WHERE id = ?',
      id,
    );
    const [holder] = await durableHolders(id);
    const node = nodeById(holder!);
    const [path] = blobPaths(node, id);
    flipByte(path!, 5000);
    const quarantined = join(node.dataDir, 'quarantine', id);
    const allCopiesGood = async () =>
      (await durableHolders(id)).every((nodeId) =>
        blobPaths(nodeById(nodeId), id).every((copy) => sha256(readFileSync(copy)) === row!.sealed_sha256),
      );
    await waitFor(
      async () => existsSync(quarantined) && (await durableHolders(id)).length === 3 && (await allCopiesGood()),
      'the corrupt copy to be quarantined and made again',
      30_000,
    );
    expect(sha256(readFileSync(quarantined))).not.toBe(row!.sealed_sha256);
    const again = await download(cluster, id);
    expect(again.body.equals(photo)).toBe(true);
  });

  it('repairs the copies of a lost node with the sealed bytes unchanged, and the file still opens', async () => {
    const [row] = await queryIndex<{ sealed_sha256: string }>(
      cluster,
      'SELECT sealed_sha256 FROM files WHERE id = ?',
      id,
    );
    const lost = nodeById((await durableHolders(id))[0]!);
    await lost.kill('SIGKILL');
    await waitFor(
      async () => {
        const holders = await durableHolders(id);
        return holders.length === 3 && !holders.includes(lost.nodeId);
      },
      'the original copied again elsewhere',
      30_000,
    );
    for (const nodeId of await durableHolders(id)) {
      expect(sha256(readFileSync(blobPaths(nodeById(nodeId), id)[0]!))).toBe(row!.sealed_sha256);
    }
    expect((await download(cluster, id)).body.equals(photo)).toBe(true);
    // Back to four nodes for what follows.
    cluster.nodes.splice(cluster.nodes.indexOf(lost), 1);
    await cluster.startNode({ dataDir: lost.dataDir });
    await cluster.waitForNodes(4);
  });

  it('expiry destroys the key first: a node down meanwhile keeps only unreadable bytes', async () => {
    const second = fixtureBytes(SECOND);
    const up = await uploadBytes(cluster.gateway.url, second, { ttl: '4s' });
    expect(up.status).toBe(201);
    const expiring = up.json.id as string;
    await waitFor(async () => (await durableHolders(expiring)).length === 3, 'three copies');
    const down = nodeById((await durableHolders(expiring))[0]!);
    await down.kill('SIGKILL');

    await waitFor(
      async () => (await queryIndex(cluster, 'SELECT id FROM tombstones WHERE id = ?', expiring)).length === 1,
      'the expiry',
      20_000,
    );
    // The key went with the file's row, in the purge's transaction.
    expect(await queryIndex(cluster, 'SELECT id FROM files WHERE id = ?', expiring)).toEqual([]);
    const [tombstone] = await queryIndex<{ key_destroyed_at: number }>(
      cluster,
      'SELECT key_destroyed_at FROM tombstones WHERE id = ?',
      expiring,
    );
    expect(tombstone!.key_destroyed_at).toBeGreaterThan(0);
    const gone = await call(`${cluster.gateway.url}/v1/files/${expiring}`);
    expect(gone.status).toBe(410);
    expect(gone.json.error.code).toBe('EXPIRED');
    expect(gone.headers.get('legim-key-destroyed-at')).toBe(new Date(tombstone!.key_destroyed_at).toISOString());
    expect(gone.json.error.message).toContain('encryption key was destroyed');

    // The node that was down still holds its copy, sealed with a key that exists nowhere.
    const leftover = blobPaths(down, expiring);
    expect(leftover).toHaveLength(1);
    expectNowhereOnDisk([down], second);
    cluster.nodes.splice(cluster.nodes.indexOf(down), 1);
    const back = await cluster.startNode({ dataDir: down.dataDir });
    expect((await download(cluster, expiring)).status).toBe(410);
    // The deletion reaches it once it is back.
    await waitFor(() => blobPaths(back, expiring).length === 0, 'the deletion to reach the node', 20_000);
    expectNowhereOnDisk(cluster.nodes, second);
  });

  it('an owner delete destroys the key at once, before the grace period ends', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes(SECOND));
    const deleting = up.json.id as string;
    const token = up.json.deleteToken as string;
    const removed = await call(`${cluster.gateway.url}/v1/files/${deleting}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(removed.status).toBe(204);
    const [row] = await queryIndex<{ wrapped_key: string | null; key_destroyed_at: number | null }>(
      cluster,
      'SELECT wrapped_key, key_destroyed_at FROM files WHERE id = ?',
      deleting,
    );
    // The row may already be a tombstone if the grace (1 s) passed; either way the key is gone.
    if (row) {
      expect(row.wrapped_key).toBeNull();
      expect(row.key_destroyed_at).toBeGreaterThan(0);
    }
    expect((await download(cluster, deleting)).status).toBe(410);
  });

  it('health says encryption is on and which master key wraps the file keys', async () => {
    const health = await call(`${cluster.gateway.url}/v1/health`, { headers: admin });
    expect(health.json.encryption.enabled).toBe(true);
    const kid = health.json.encryption.currentKey as string;
    expect(kid).toMatch(/^[0-9a-f]{12}$/);
    expect(health.json.encryption.fileKeys[kid]).toBeGreaterThanOrEqual(1);
    // Generated on a one-host index, beside it, readable by its owner only.
    const keyFile = join(cluster.gateway.dataDir, 'master.key');
    expect(readFileSync(keyFile, 'utf8')).toContain(`${kid}:`);
  });

  it('hands a worker on another host the data key (cluster secret), and nothing once it is destroyed', async () => {
    const worker = await GatewayWorkerClient.connect(cluster.gateway.url, testClusterSecret, PLAIN_HTTP.peers);
    try {
      const dataKey = await worker.dataKey(id);
      expect(dataKey).toHaveLength(32);
      // With it, a node's sealed copy opens to the image: what the worker does before making variants.
      const [holder] = await durableHolders(id);
      const stored = readFileSync(blobPaths(nodeById(holder!), id)[0]!);
      const opened: Buffer[] = [];
      const secret = { dataKey: dataKey!, fileId: id, blob: 'original' };
      const sealed = (async function* () {
        yield stored;
      })();
      for await (const part of openSealed(sealed, secret, { plainSize: photo.length, start: 0 })) opened.push(part);
      expect(Buffer.concat(opened).equals(photo)).toBe(true);
      const shredded = await uploadBytes(cluster.gateway.url, fixtureBytes(SECOND));
      await call(`${cluster.gateway.url}/v1/files/${shredded.json.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${shredded.json.deleteToken}` },
      });
      expect(await worker.dataKey(shredded.json.id as string)).toBeUndefined();
    } finally {
      await worker.close();
    }
  });

  it('an index rebuilt from the nodes reports encrypted files as unrecoverable, never restores them', async () => {
    await cluster.restartGateway({ loseIndex: true });
    await cluster.waitForNodes(4);
    const started = await call(`${cluster.gateway.url}/v1/index/rebuild`, { method: 'POST', headers: admin });
    expect(started.status).toBe(202);
    let progress: any;
    await waitFor(async () => {
      progress = (await call(`${cluster.gateway.url}/v1/index/rebuild`, { headers: admin })).json;
      return progress.state === 'done';
    }, 'the rebuild');
    expect(progress.unrecoverable.keys).toContain(id);
    expect(progress.filesRestored).toBe(0);
    expect((await download(cluster, id)).status).toBe(404);
  });
});

describe('a sealed copy changed on disk before its node scrubbed it', () => {
  let cluster: TestCluster;
  const photo = fixtureBytes(PHOTO);
  /** Where plaintext chunk `index` sits in a sealed blob (32-byte header, 64 KiB + 16-byte tag per chunk). */
  const chunkAt = (index: number) => 32 + index * (65_536 + 16) + 100;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: { encrypt: true } });
  });
  afterAll(() => cluster?.close());

  it('is passed over for another copy from the chunk that failed; a chunk no copy holds intact cuts the answer, never alters it', async () => {
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 10 });
    const id = up.json.id as string;
    // The upload answers at the write quorum (2); the third copy may still be on its way.
    await waitFor(
      async () => (await indexCopies(cluster)).filter((c) => c.blob_key === id && c.state === 'durable').length === 3,
      'the three copies',
      15_000,
    );
    const paths = cluster.nodes.map((node) => blobPaths(node, id)[0]!);
    expect(paths.every((path) => path !== undefined)).toBe(true);
    // Two of the three copies rot, in different chunks: whichever copy is read first, the answer is whole.
    flipByte(paths[0]!, chunkAt(2));
    flipByte(paths[1]!, chunkAt(9));
    const whole = await download(cluster, id);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(photo)).toBe(true);
    const resumed = await download(cluster, id, {
      range: 'bytes=500000-',
      'legim-resume': whole.headers.get('legim-resume')!,
    });
    expect(resumed.body.equals(photo.subarray(500_000))).toBe(true);

    // Every copy rotten, each in another chunk: each chunk still has a good copy somewhere, and is read from it.
    flipByte(paths[2]!, chunkAt(5));
    expect((await download(cluster, id)).body.equals(photo)).toBe(true);

    // Chunk 2 rotten everywhere: nothing can serve it.
    flipByte(paths[1]!, chunkAt(2));
    flipByte(paths[2]!, chunkAt(2));
    const cut = await download(cluster, id).catch(() => undefined);
    // Cut mid-body (the fetch fails), or short: never a byte that is not the image's.
    if (cut) {
      expect(cut.body.length).toBeLessThan(photo.length);
      expect(cut.body.equals(photo.subarray(0, cut.body.length))).toBe(true);
    }
  });
});
