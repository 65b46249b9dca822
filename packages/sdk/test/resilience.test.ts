/**
 * The SDK when the cluster misbehaves for real: storage node processes are
 * frozen (SIGSTOP) or killed (SIGKILL) under a running gateway. Tests run in
 * order and the last ones leave nodes dead.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { Legim, LegimError, type UploadedFile } from '../src/index.js';
import { replicaFiles, tempDir, waitFor } from './support.js';

let cluster: TestCluster;
let legim: Legim;
let admin: Legim;
let dir: string;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
  legim = new Legim({ url: cluster.gateway.url });
  admin = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
});

afterAll(async () => {
  thawNodes();
  await cluster?.close();
});

beforeEach(() => {
  dir = tempDir();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Freezes every storage node process: connections stay open, nothing answers. */
function freezeNodes(): void {
  for (const node of cluster.nodes) if (node.child.exitCode === null) node.child.kill('SIGSTOP');
}

function thawNodes(): void {
  for (const node of cluster?.nodes ?? []) if (node.child.exitCode === null) node.child.kill('SIGCONT');
}

async function uploadEverywhere(bytes: Buffer, downloads: number): Promise<UploadedFile> {
  const file = await legim.upload(bytes, { downloads });
  await waitFor(() => replicaFiles(cluster, file.id).length === 3, 'all three replicas');
  return file;
}

describe('a gateway that stops answering', () => {
  afterEach(async () => {
    thawNodes();
    await cluster.waitForNodes(3);
  });

  it('turns no answer within timeoutMs into NETWORK_ERROR, leaving no file', async () => {
    const file = await uploadEverywhere(fixtureBytes('photo-small-flower-1600x1203.jpg'), 10);
    freezeNodes(); // the gateway now waits on a replica that never answers
    const impatient = new Legim({ url: cluster.gateway.url, timeoutMs: 300 });

    const error = await impatient.download(file.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({
      code: 'NETWORK_ERROR',
      details: { code: 'UND_ERR_HEADERS_TIMEOUT' },
      message: expect.stringContaining('no answer within 300 ms'),
    });

    const target = join(dir, 'flower.jpg');
    await expect(impatient.downloadTo(file.id, target)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(readdirSync(dir)).toEqual([]);
  });

  describe('mid-transfer', () => {
    // A real photo followed by 40 MiB of trailing bytes (accepted, like any
    // data after a JPEG's end marker): far more than the socket buffers
    // between node, gateway and client hold, so freezing the nodes stalls
    // the transfer partway.
    let big: Buffer;
    let file: UploadedFile;

    beforeAll(async () => {
      big = Buffer.concat([fixtureBytes('photo-large-bird-6028x3391.jpg'), randomBytes(40 * 1024 * 1024)]);
      file = await uploadEverywhere(big, 10);
      expect(file).toMatchObject({ size: big.length, sha256: sha256(big), contentType: 'image/jpeg' });
    });

    it('makes the download stream fail with NETWORK_ERROR when the data stops', async () => {
      const impatient = new Legim({ url: cluster.gateway.url, timeoutMs: 1000 });
      const download = await impatient.download(file.id);
      freezeNodes();
      let received = 0;
      const error = await (async () => {
        for await (const chunk of download.stream) received += (chunk as Buffer).length;
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LegimError);
      expect(error).toMatchObject({
        code: 'NETWORK_ERROR',
        details: { code: 'UND_ERR_BODY_TIMEOUT' },
        message: expect.stringContaining('broke during the transfer: no data for 1000 ms'),
      });
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(big.length);
    });

    it('makes downloadTo throw NETWORK_ERROR and delete the partial file', async () => {
      const impatient = new Legim({ url: cluster.gateway.url, timeoutMs: 1000 });
      const target = join(dir, 'bird.jpg');
      let received = 0;
      const result = impatient.downloadTo(file.id, target, {
        onProgress: (p) => {
          if (received === 0) freezeNodes();
          received = p.received;
        },
      });
      await expect(result).rejects.toMatchObject({ code: 'NETWORK_ERROR', details: { code: 'UND_ERR_BODY_TIMEOUT' } });
      expect(received).toBeLessThan(big.length);
      expect(readdirSync(dir)).toEqual([]);
    });

    it('downloads the whole file, verified, once the nodes answer again', async () => {
      const saved = await legim.downloadTo(file.id, join(dir, 'bird.jpg'));
      expect(saved).toMatchObject({ size: big.length, sha256: sha256(big) });
    });
  });
});

describe('storage nodes that die', () => {
  const mountains = fixtureBytes('photo-mountains-3264x2448.jpg');
  const wings = fixtureBytes('jpeg-progressive.jpg');
  let first: UploadedFile;
  let second: UploadedFile;

  beforeAll(async () => {
    first = await uploadEverywhere(mountains, 3);
    second = await uploadEverywhere(wings, 2);
  });

  it('does not notice a download served from another replica', async () => {
    await cluster.nodes[0]!.kill('SIGKILL');
    await cluster.nodes[1]!.kill('SIGKILL');

    const target = join(dir, 'mountains.jpg');
    const saved = await legim.downloadTo(first.url, target);
    expect(saved).toEqual({ path: target, size: mountains.length, sha256: sha256(mountains), downloadsLeft: 2 });
    await expect.poll(async () => (await admin.health()).status).toBe('degraded');
  });

  it('throws UNAVAILABLE with retryAfter when no replica is left, and gives the download back', async () => {
    await cluster.nodes[2]!.kill('SIGKILL');

    const error = await legim.download(second.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', statusCode: 503, details: { retryAfter: 5 } });
    await expect(legim.downloadTo(second.id, join(dir, 'wings.jpg'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(readdirSync(dir)).toEqual([]);
    await expect(legim.info(second.id)).resolves.toMatchObject({ downloadsLeft: 2 });
  });

  it('throws NO_STORAGE_NODES (503) on upload once no node is up', async () => {
    await expect.poll(async () => (await admin.health()).nodes.down, { timeout: 10_000 }).toBe(3);
    const error = await legim.upload(fixtureBytes('tiny-1x1.png')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({ code: 'NO_STORAGE_NODES', statusCode: 503 });
    await expect(admin.health()).resolves.toMatchObject({ status: 'degraded', nodes: { up: 0 } });
  });
});

describe('an upload whose source stalls', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  afterAll(() => cluster?.close());

  it('fails with NETWORK_ERROR after timeoutMs without progress, and stores nothing', async () => {
    const legim = new Legim({ url: cluster.gateway.url, timeoutMs: 500 });
    const photo = fixtureBytes('photo-small-flower-1600x1203.jpg');
    // Sends the first half, then never another byte.
    const stalled = new Readable({ read() {} });
    stalled.push(photo.subarray(0, photo.length / 2));
    const started = Date.now();
    const error = await legim.upload(stalled).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(Date.now() - started).toBeLessThan(5000);
    const admin = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
    await expect.poll(async () => (await admin.health()).files).toBe(0);
  });
});
