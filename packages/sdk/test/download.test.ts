import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { Legim, type DownloadProgress, type UploadedFile } from '../src/index.js';
import { startGatewayPeer, type GatewayPeer } from './gateway-peer.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';

let peer: GatewayPeer;
let legim: Legim;
let dir: string;
let bytes: Buffer;
let file: UploadedFile;

beforeEach(async () => {
  peer = await startGatewayPeer();
  legim = new Legim({ url: peer.url });
  dir = mkdtempSync(join(tmpdir(), 'legim-sdk-'));
  bytes = fixtureBytes(PHOTO);
  file = await legim.upload(bytes, { downloads: 2 });
});

afterEach(async () => {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Serves the file's headers with this ETag, then only the first half of the bytes before cutting the connection. */
function serveBroken(options: { etag?: string; cut?: boolean }): void {
  peer.route(`GET /d/`, (_req, res) => {
    res.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': bytes.length,
      etag: options.etag ?? `"${sha256(bytes)}"`,
      'legim-downloads-left': 0,
    });
    if (options.cut) {
      res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
    } else {
      res.end(bytes);
    }
  });
}

describe('download', () => {
  it('streams the original with the facts from the headers', async () => {
    const download = await legim.download(file.url);
    const chunks: Buffer[] = [];
    for await (const chunk of download.stream) chunks.push(chunk as Buffer);

    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(download).toMatchObject({ size: bytes.length, contentType: 'image/jpeg', sha256: sha256(bytes), downloadsLeft: 1 });
  });

  it('makes the stream emit NETWORK_ERROR when the connection breaks', async () => {
    serveBroken({ cut: true });
    const download = await legim.download(file.id);
    await expect(text(download.stream)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('throws DOWNLOADS_EXHAUSTED once the downloads are used', async () => {
    await text((await legim.download(file.id)).stream);
    await text((await legim.download(file.id)).stream);
    await expect(legim.download(file.id)).rejects.toMatchObject({ code: 'DOWNLOADS_EXHAUSTED', statusCode: 410 });
    await expect(legim.download('5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21')).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      statusCode: 404,
    });
  });
});

describe('downloadTo', () => {
  it('writes the file, verifies its SHA-256 and reports progress up to the total', async () => {
    const target = join(dir, 'photo.jpg');
    const progress: DownloadProgress[] = [];
    const saved = await legim.downloadTo(file.url, target, { onProgress: (p) => progress.push(p) });

    expect(saved).toEqual({ path: target, size: bytes.length, sha256: sha256(bytes), downloadsLeft: 1 });
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(readdirSync(dir)).toEqual(['photo.jpg']);
    expect(progress.at(-1)).toEqual({ received: bytes.length, total: bytes.length });
  });

  it('throws DIGEST_MISMATCH and leaves no file when the bytes do not match the ETag', async () => {
    serveBroken({ etag: `"${'0'.repeat(64)}"` });
    const target = join(dir, 'photo.jpg');
    await expect(legim.downloadTo(file.id, target)).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
      message: expect.stringContaining(`expected sha256 ${'0'.repeat(64)}, got ${sha256(bytes)}`),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to write what it cannot verify (no ETag)', async () => {
    serveBroken({ etag: 'not-a-digest' });
    await expect(legim.downloadTo(file.id, join(dir, 'photo.jpg'))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('throws NETWORK_ERROR and deletes the partial file when the connection breaks', async () => {
    serveBroken({ cut: true });
    const target = join(dir, 'photo.jpg');
    await expect(legim.downloadTo(file.id, target)).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: expect.stringContaining(`the connection to the Legim server at ${peer.url} broke`),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('throws IO_ERROR when the target cannot be written', async () => {
    const target = join(dir, 'missing-folder', 'photo.jpg');
    await expect(legim.downloadTo(file.id, target)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(`cannot write ${target}`),
    });
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  it('rejects with the abort reason and deletes the partial file', async () => {
    const controller = new AbortController();
    const target = join(dir, 'photo.jpg');
    const result = legim.downloadTo(file.id, target, {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop')),
    });
    await expect(result).rejects.toThrow('stop');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('info and delete', () => {
  it('reads the metadata without taking a download', async () => {
    const info = await legim.info(file.url);
    expect(info).toMatchObject({ id: file.id, downloadsLeft: 2, maxDownloads: 2, replicas: 2, variants: {} });
    expect(info).not.toHaveProperty('deleteToken');
  });

  it('deletes with the delete token, or else the admin key', async () => {
    await expect(legim.delete(file.id, 'wrong')).rejects.toMatchObject({ code: 'FORBIDDEN', statusCode: 403 });
    await legim.delete(file.url, file.deleteToken);
    expect(peer.requests.at(-1)?.headers.authorization).toBe(`Bearer ${file.deleteToken}`);
    await expect(legim.info(file.id)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });

    const other = await legim.upload(bytes);
    await expect(legim.delete(other.id)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await new Legim({ url: peer.url, apiKey: 'admin-secret' }).delete(other.id);
    expect(peer.files.has(other.id)).toBe(false);
  });
});
