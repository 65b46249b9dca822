import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { poisonPng } from '../../../test-support/poison-png.js';
import { Legim, LegimError, type FileInfo } from '../src/index.js';
import { tempDir, UNKNOWN_ID } from './support.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';
/** 20 MP: about a second of processing. */
const BIG = 'photo-large-bird-6028x3391.jpg';
const ID = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Width and height of a lossy (VP8) or lossless (VP8L) WebP, read from its header. */
function webpSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.toString('latin1', 0, 4)).toBe('RIFF');
  expect(bytes.toString('latin1', 8, 12)).toBe('WEBP');
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const type = bytes.toString('latin1', offset, offset + 4);
    const data = offset + 8;
    if (type === 'VP8X') return { width: bytes.readUIntLE(data + 4, 3) + 1, height: bytes.readUIntLE(data + 7, 3) + 1 };
    if (type === 'VP8 ')
      return { width: bytes.readUInt16LE(data + 6) & 0x3fff, height: bytes.readUInt16LE(data + 8) & 0x3fff };
    if (type === 'VP8L') {
      const bits = bytes.readUInt32LE(data + 1);
      return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
    }
    offset = data + bytes.readUInt32LE(offset + 4) + (bytes.readUInt32LE(offset + 4) % 2);
  }
  throw new Error('no VP8 chunk in this WebP');
}

let cluster: TestCluster;
let legim: Legim;

beforeAll(async () => {
  // One in-process worker: a file uploaded after a big one waits its turn, so
  // "still processing" can be observed without racing the worker.
  cluster = await startCluster({ nodes: 3, gateway: { workers: '1', jobAttempts: '2' } });
  legim = new Legim({ url: cluster.gateway.url });
});

/**
 * Gives the worker big photos to chew on; files uploaded next stay `processing` meanwhile.
 * The gateway claims one job more than it has image slots (so a job's I/O overlaps with
 * sharp), so both claims must be taken by big photos: a small photo claimed second could
 * otherwise reach sharp first, while the big one is still being read from its node.
 */
async function keepWorkerBusy(): Promise<void> {
  await Promise.all([legim.upload(fixture(BIG), { ttl: '1m' }), legim.upload(fixture(BIG), { ttl: '1m' })]);
}

afterAll(async () => {
  await cluster?.close();
});

describe('variantUrl', () => {
  it('is <url>/v1/files/<id>/variants/<name>, from an id or any link, without a request', () => {
    const base = new Legim({ url: 'http://127.0.0.1:3333/' });
    expect(base.variantUrl(ID, 'thumb')).toBe(`http://127.0.0.1:3333/v1/files/${ID}/variants/thumb`);
    expect(base.variantUrl(`https://elsewhere.example/d/${ID.toUpperCase()}`, 'webp')).toBe(
      `http://127.0.0.1:3333/v1/files/${ID}/variants/webp`,
    );
    expect(new Legim({ url: 'https://img.example.com/legim' }).variantUrl(ID, 'small')).toBe(
      `https://img.example.com/legim/v1/files/${ID}/variants/small`,
    );
  });

  it('refuses a malformed name or id with INVALID_OPTION', () => {
    for (const name of ['', '../d', 'thumb?x=1', 'a/b', ' thumb']) {
      expect(() => legim.variantUrl(ID, name)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/variant name/) }),
      );
    }
    expect(() => legim.variantUrl('photo.jpg', 'thumb')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('variants of a photo', () => {
  it('answers VARIANT_NOT_READY with retryAfter while processing, then serves every variant without taking a download', async () => {
    await keepWorkerBusy();
    const file = await legim.upload(fixture(BIG), { downloads: 1 });
    expect(file.status).toBe('processing');

    const early = await legim.variant(file.id, 'thumb').catch((error: unknown) => error);
    expect(LegimError.is(early)).toBe(true);
    expect(early).toMatchObject({ code: 'VARIANT_NOT_READY', statusCode: 404, details: { retryAfter: 2 } });

    // A deadline shorter than the processing: UNAVAILABLE, with the last state seen.
    const started = Date.now();
    const late = await legim
      .waitUntilProcessed(file.url, { timeoutMs: 300, intervalMs: 50 })
      .catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(late).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/still processing/),
      details: { timeoutMs: 300, file: { id: file.id, status: 'processing' } },
    });

    const ready = await legim.waitUntilProcessed(file.id, { timeoutMs: 30_000 });
    expect(ready.status).toBe('ready');
    expect(Object.keys(ready.variants).sort()).toEqual(['small', 'thumb', 'webp']);
    expect(ready.variants.thumb).toMatchObject({
      url: legim.variantUrl(file.id, 'thumb'),
      contentType: 'image/webp',
      width: 256,
      height: 144,
    });

    for (const [name, expected] of Object.entries(ready.variants)) {
      const variant = await legim.variant(file.url, name);
      expect(variant).toMatchObject({ size: expected.size, contentType: 'image/webp' });
      const bytes = await readAll(variant.stream);
      expect(bytes.length).toBe(expected.size);
      expect(sha256(bytes)).toBe(variant.sha256);
      expect(webpSize(bytes)).toEqual({ width: expected.width, height: expected.height });
    }
    // The one download the file allows is still there.
    expect((await legim.info(file.id)).downloadsLeft).toBe(1);
  });

  it('upload({ wait: true }) resolves with the variants and the delete token; variantTo saves one verified', async () => {
    const file = await legim.upload(fixture(PHOTO), { wait: true, ttl: '10m' });
    expect(file).toMatchObject({ status: 'ready', deleteToken: expect.any(String), downloadsLeft: 3 });
    expect(file.variants.small).toMatchObject({ width: 1024, height: 640 });
    expect(file.statusReason).toBeUndefined();

    const dir = tempDir();
    const path = join(dir, 'thumb.webp');
    const saved = await legim.variantTo(file.id, 'thumb', path);
    const bytes = readFileSync(path);
    expect(saved).toEqual({ path, size: file.variants.thumb!.size, sha256: sha256(bytes) });
    expect(webpSize(bytes)).toEqual({ width: 256, height: 160 });
    expect(existsSync(`${path}.partial`)).toBe(false);

    // A processed file answers at once.
    const started = Date.now();
    await expect(legim.waitUntilProcessed(file.id)).resolves.toMatchObject({ status: 'ready' });
    expect(Date.now() - started).toBeLessThan(500);
    await legim.delete(file.id, file.deleteToken);
  });

  it('upload({ wait }) that reaches its deadline still resolves, processing, with the delete token', async () => {
    await keepWorkerBusy();
    const file = await legim.upload(fixtureBytes(PHOTO), { wait: { timeoutMs: 200, intervalMs: 50 } });
    expect(file).toMatchObject({ status: 'processing', deleteToken: expect.any(String), variants: {} });
    await legim.delete(file.id, file.deleteToken);
  });

  it('VARIANT_NOT_FOUND for a name the file does not have; variantTo leaves nothing behind', async () => {
    const file = await legim.upload(fixture(PHOTO), { wait: true });
    const path = join(tempDir(), 'x.webp');
    await expect(legim.variant(file.id, 'avif')).rejects.toMatchObject({ code: 'VARIANT_NOT_FOUND', statusCode: 404 });
    await expect(legim.variantTo(file.id, 'huge', path)).rejects.toMatchObject({ code: 'VARIANT_NOT_FOUND' });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.partial`)).toBe(false);
  });
});

describe('a poison image', () => {
  it('ends failed with a reason: wait resolves, variants are VARIANT_NOT_FOUND, the original stays downloadable', async () => {
    const poison = poisonPng();
    const file = await legim.upload(poison, { wait: { timeoutMs: 30_000 } });
    expect(file).toMatchObject({ status: 'failed', statusReason: expect.any(String), variants: {} });
    expect(file.statusReason).not.toBe('');

    const again: FileInfo = await legim.waitUntilProcessed(file.id);
    expect(again).toMatchObject({ status: 'failed', statusReason: file.statusReason });
    await expect(legim.variant(file.id, 'thumb')).rejects.toMatchObject({ code: 'VARIANT_NOT_FOUND' });

    const download = await legim.download(file.id);
    expect(sha256(await readAll(download.stream))).toBe(sha256(poison));
  });
});

describe('waitUntilProcessed', () => {
  it('throws the file errors at once, and checks its options before any request', async () => {
    await expect(legim.waitUntilProcessed(UNKNOWN_ID)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(legim.waitUntilProcessed(ID, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(legim.waitUntilProcessed(ID, { intervalMs: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(legim.upload(fixture(PHOTO), { wait: { timeoutMs: -1 } })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  });

  it('rejects with the abort reason, including while it sleeps between looks', async () => {
    await keepWorkerBusy();
    const file = await legim.upload(fixture(PHOTO));
    const controller = new AbortController();
    const reason = new Error('enough');
    setTimeout(() => controller.abort(reason), 100);
    await expect(legim.waitUntilProcessed(file.id, { intervalMs: 5_000, signal: controller.signal })).rejects.toBe(
      reason,
    );
  });

  it('keeps looking while the gateway cannot be reached, and times out with the last error as the cause', async () => {
    // Nothing listens on a port of a closed gateway; the wait retries NETWORK_ERROR until its deadline.
    const gone = new Legim({ url: 'http://127.0.0.1:9' });
    const error = await gone.waitUntilProcessed(ID, { timeoutMs: 400, intervalMs: 50 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', details: { timeoutMs: 400, file: undefined } });
    expect((error as LegimError).cause).toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
