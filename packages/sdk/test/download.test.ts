import { existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { startCuttingProxy } from '../../../test-support/cutting-proxy.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { Legim, LegimError, type DownloadProgress, type UploadedFile } from '../src/index.js';
import { replicaFiles, tempDir, UNKNOWN_ID, waitFor } from './support.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';

let cluster: TestCluster;
let legim: Legim;
let bytes: Buffer;
let dir: string;

beforeAll(async () => {
  // A short grace, so a delete's purge can be watched.
  cluster = await startCluster({ nodes: 3, gateway: { deleteGrace: '2' } });
  legim = new Legim({ url: cluster.gateway.url });
  bytes = fixtureBytes(PHOTO);
});

afterAll(async () => {
  await cluster?.close();
});

beforeEach(() => {
  dir = tempDir();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function upload(downloads = 2): Promise<UploadedFile> {
  return legim.upload(bytes, { downloads });
}

async function drain(idOrUrl: string): Promise<void> {
  await text((await legim.download(idOrUrl)).stream);
}

describe('download', () => {
  it('streams the original with the facts from the headers', async () => {
    const file = await upload();
    const download = await legim.download(file.url);
    const chunks: Buffer[] = [];
    for await (const chunk of download.stream) chunks.push(chunk as Buffer);

    expect(sha256(Buffer.concat(chunks))).toBe(sha256(bytes));
    expect(download).toMatchObject({
      size: bytes.length,
      contentType: 'image/jpeg',
      sha256: sha256(bytes),
      downloadsLeft: 1,
    });
    await expect(legim.info(file.id)).resolves.toMatchObject({ downloadsLeft: 1, maxDownloads: 2 });
  });

  it('takes exactly the downloads allowed, then throws DOWNLOADS_EXHAUSTED (410)', async () => {
    const file = await upload(2);
    await drain(file.id);
    await drain(file.id);
    const error = await legim.download(file.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({
      code: 'DOWNLOADS_EXHAUSTED',
      statusCode: 410,
      message: expect.stringContaining('2 downloads'),
    });
    await expect(legim.info(file.id)).rejects.toMatchObject({ code: 'DOWNLOADS_EXHAUSTED', statusCode: 410 });
  });

  it('throws FILE_NOT_FOUND (404) for an id the gateway never gave out', async () => {
    for (const call of [
      () => legim.download(UNKNOWN_ID),
      () => legim.info(`${cluster.gateway.url}/d/${UNKNOWN_ID}`),
      () => legim.delete(UNKNOWN_ID, 'some-token'),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LegimError);
      expect(error).toMatchObject({ code: 'FILE_NOT_FOUND', statusCode: 404 });
    }
  });

  it('throws EXPIRED (410) once the time to live has passed', async () => {
    const file = await legim.upload(fixtureBytes('tiny-1x1.png'), { ttl: '1s' });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(file.expiresAt) - Date.now()) + 50));
    await expect(legim.download(file.id)).rejects.toMatchObject({ code: 'EXPIRED', statusCode: 410 });
    await expect(legim.info(file.id)).rejects.toMatchObject({ code: 'EXPIRED', statusCode: 410 });
    await expect(legim.downloadTo(file.id, join(dir, 'late.png'))).rejects.toMatchObject({ code: 'EXPIRED' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('makes the stream fail with the abort reason', async () => {
    const file = await upload();
    const controller = new AbortController();
    const download = await legim.download(file.id, { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(text(download.stream)).rejects.toThrow('stop');
  });
});

describe('downloadTo', () => {
  it('writes the file, verifies its SHA-256 and reports progress up to the total', async () => {
    const file = await upload();
    const target = join(dir, 'photo.jpg');
    const progress: DownloadProgress[] = [];
    const saved = await legim.downloadTo(file.url, target, { onProgress: (p) => progress.push(p) });

    expect(saved).toEqual({ path: target, size: bytes.length, sha256: sha256(bytes), downloadsLeft: 1 });
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(readdirSync(dir)).toEqual(['photo.jpg']);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ received: bytes.length, total: bytes.length });
  });

  it('throws DOWNLOADS_EXHAUSTED and leaves nothing behind for a used-up file', async () => {
    const file = await upload(1);
    await legim.downloadTo(file.id, join(dir, 'first.jpg'));
    const target = join(dir, 'second.jpg');
    await expect(legim.downloadTo(file.id, target)).rejects.toMatchObject({
      code: 'DOWNLOADS_EXHAUSTED',
      statusCode: 410,
    });
    expect(readdirSync(dir)).toEqual(['first.jpg']);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  it('throws IO_ERROR when the target cannot be written', async () => {
    const file = await upload();
    const target = join(dir, 'missing-folder', 'photo.jpg');
    await expect(legim.downloadTo(file.id, target)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(`cannot write ${target}`),
    });
    expect(existsSync(`${target}.partial`)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects with the abort reason and deletes the partial file', async () => {
    const file = await upload();
    const controller = new AbortController();
    const target = join(dir, 'photo.jpg');
    let received = 0;
    const result = legim.downloadTo(file.id, target, {
      signal: controller.signal,
      onProgress: (p) => {
        received = p.received;
        controller.abort(new Error('stop'));
      },
    });
    await expect(result).rejects.toThrow('stop');
    expect(received).toBeLessThan(bytes.length);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('throws DIGEST_MISMATCH and keeps nothing when every replica rotted on disk', async () => {
    // Bit rot: the same size, one byte changed, in every copy on the nodes' disks.
    // The gateway streams them as they are; only the ETag check can tell.
    const file = await upload();
    await waitFor(() => replicaFiles(cluster, file.id).length === 3, 'the third replica');
    const offset = bytes.length >> 1;
    for (const path of replicaFiles(cluster, file.id)) {
      expect(statSync(path).size).toBe(bytes.length);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from([bytes[offset]! ^ 0xff]), 0, 1, offset);
      closeSync(fd);
    }
    const rotten = Buffer.from(bytes);
    rotten[offset] = bytes[offset]! ^ 0xff;

    const target = join(dir, 'photo.jpg');
    const error = await legim.downloadTo(file.id, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({
      code: 'DIGEST_MISMATCH',
      message: expect.stringContaining(`expected sha256 ${sha256(bytes)}, got ${sha256(rotten)}`),
    });
    expect(readdirSync(dir)).toEqual([]);

    // The raw stream hands the bytes over as they came, with the digest they should have had.
    const download = await legim.download(file.id);
    const chunks: Buffer[] = [];
    for await (const chunk of download.stream) chunks.push(chunk as Buffer);
    expect(download.sha256).toBe(sha256(bytes));
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(rotten));
  });
});

describe('info and delete', () => {
  it('reads the metadata without taking a download', async () => {
    const file = await upload();
    const info = await legim.info(file.url);
    const { deleteToken: _token, ...uploaded } = file;
    expect(info).toEqual({ ...uploaded, replicas: expect.any(Number) });
    expect(info.replicas).toBeGreaterThanOrEqual(2);
    expect(info).not.toHaveProperty('deleteToken');
    expect((await legim.info(file.id)).downloadsLeft).toBe(2);
  });

  it('deletes with the delete token; a wrong token is FORBIDDEN', async () => {
    const file = await upload();
    const wrong = await legim.delete(file.id, 'not-the-delete-token').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(LegimError);
    expect(wrong).toMatchObject({ code: 'FORBIDDEN', statusCode: 403 });
    await expect(legim.info(file.id)).resolves.toMatchObject({ downloadsLeft: 2 });

    await legim.delete(file.url, file.deleteToken);
    await expect(legim.info(file.id)).rejects.toMatchObject({ code: 'DELETED', statusCode: 410 });
    await expect(legim.download(file.id)).rejects.toMatchObject({ code: 'DELETED', statusCode: 410 });
    // Once swept from the nodes, a tombstone keeps answering.
    await waitFor(() => replicaFiles(cluster, file.id).length === 0, 'the blobs to be removed from the nodes');
    await expect(legim.info(file.id)).rejects.toMatchObject({ code: 'DELETED', statusCode: 410 });
  });

  it('deletes any file with the admin key, and needs a token or the key', async () => {
    const file = await upload();
    await expect(legim.delete(file.id)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(
      new Legim({ url: cluster.gateway.url, apiKey: 'not-the-admin-key-at-all' }).delete(file.id),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      statusCode: 403,
    });
    await new Legim({ url: cluster.gateway.url, apiKey: testAdminKey }).delete(file.id);
    await expect(legim.info(file.id)).rejects.toMatchObject({ code: 'DELETED', statusCode: 410 });
  });

  it('deletes a used-up file with its token', async () => {
    const file = await upload(1);
    await drain(file.id);
    await legim.delete(file.id, file.deleteToken);
    await expect(legim.download(file.id)).rejects.toMatchObject({ statusCode: 410 });
  });
});

describe('a connection that breaks mid-download', () => {
  it('is resumed where it stopped, taking no further download', async () => {
    const photo = fixtureBytes('photo-large-bird-6028x3391.jpg');
    const file = await legim.upload(photo, { downloads: 1 });
    // Two connections cut after ~1 MB each: the download and its first resume.
    const proxy = await startCuttingProxy(cluster.gateway.url, { afterBytes: 1_000_000, cuts: 2 });
    try {
      const saved = await new Legim({ url: proxy.url }).downloadTo(file.id, join(dir, 'bird.jpg'));
      expect(proxy.cut).toBe(2);
      expect(saved.sha256).toBe(sha256(photo));
      expect(sha256(readFileSync(join(dir, 'bird.jpg')))).toBe(sha256(photo));
    } finally {
      await proxy.close();
    }
    // The one download was taken once.
    await expect(legim.download(file.id)).rejects.toMatchObject({ code: 'DOWNLOADS_EXHAUSTED' });
  });

  it('fails with NETWORK_ERROR when it keeps breaking, and leaves nothing behind', async () => {
    const photo = fixtureBytes('photo-large-bird-6028x3391.jpg');
    const file = await legim.upload(photo, { downloads: 1 });
    const proxy = await startCuttingProxy(cluster.gateway.url, { afterBytes: 500_000, cuts: 100 });
    try {
      await expect(new Legim({ url: proxy.url }).downloadTo(file.id, join(dir, 'bird.jpg'))).rejects.toMatchObject({
        code: 'NETWORK_ERROR',
      });
      expect(proxy.cut).toBe(4); // the download and 3 resumes
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
