import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { Legim, LegimError, type UploadProgress } from '../src/index.js';
import { RecordingAgent } from './support.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';
const BIG = 'photo-large-bird-6028x3391.jpg'; // 4.4 MB, over this cluster's upload limit
const MAX_UPLOAD = 2 * 1024 * 1024;

let cluster: TestCluster;
let agent: RecordingAgent;
let legim: Legim;
let admin: Legim;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, gateway: { maxUpload: '2MiB' } });
  admin = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
});

afterAll(async () => {
  await agent?.close();
  await cluster?.close();
});

beforeEach(async () => {
  await agent?.close();
  agent = new RecordingAgent();
  legim = new Legim({ url: cluster.gateway.url, dispatcher: agent });
});

/** What the SDK handed to undici for its last upload. */
function lastUpload() {
  const request = agent.dispatched.findLast((d) => d.method === 'POST');
  if (!request) throw new Error('no upload was sent');
  return request;
}

/** The bytes the gateway serves for a file: what it really stored. */
async function storedBytes(id: string): Promise<Buffer> {
  const download = await legim.download(id);
  const chunks: Buffer[] = [];
  for await (const chunk of download.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const seconds = (file: { createdAt: string; expiresAt: string }) =>
  (Date.parse(file.expiresAt) - Date.parse(file.createdAt)) / 1000;

describe('upload', () => {
  it('streams a file path with its length, options as query parameters and progress up to the total', async () => {
    const bytes = fixtureBytes(PHOTO);
    const progress: UploadProgress[] = [];
    const file = await legim.upload(fixture(PHOTO), { downloads: 3, ttl: '1h', onProgress: (p) => progress.push(p) });

    expect(lastUpload().headers['content-length']).toBe(String(bytes.length));
    expect(lastUpload().headers['content-type']).toBe('application/octet-stream');
    expect(agent.lastQuery('POST', '/v1/files')).toEqual({
      downloads: '3',
      ttl: '3600',
      title: 'photo-camera-exif-dune-1680x1050',
    });

    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ sent: bytes.length, total: bytes.length });
    const sent = progress.map((p) => p.sent);
    expect(sent).toEqual([...sent].sort((x, y) => x - y));

    expect(file).toMatchObject({
      title: 'photo-camera-exif-dune-1680x1050',
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: 'image/jpeg',
      width: 1680,
      height: 1050,
      maxDownloads: 3,
      downloadsLeft: 3,
      status: 'processing',
      url: `${cluster.gateway.url}/d/${file.id}`,
      variants: {},
    });
    expect(file.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(file.deleteToken).toEqual(expect.any(String));
    expect(file.replicas).toBeGreaterThanOrEqual(2);
    expect(seconds(file)).toBe(3600);
    expect(sha256(await storedBytes(file.id))).toBe(sha256(bytes));
  });

  it('sends a Buffer with its length, in slices when progress is wanted', async () => {
    const bytes = fixtureBytes(PHOTO);
    const progress: UploadProgress[] = [];
    const file = await legim.upload(bytes, { title: 'dune', onProgress: (p) => progress.push(p) });

    expect(lastUpload().headers['content-length']).toBe(String(bytes.length));
    expect(agent.lastQuery('POST', '/v1/files')).toEqual({ title: 'dune' });
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(bytes.length / 65_536));
    expect(progress.at(-1)).toEqual({ sent: bytes.length, total: bytes.length });
    // The server's defaults apply to what the SDK did not send.
    expect(file).toMatchObject({ title: 'dune', maxDownloads: 3, size: bytes.length, sha256: sha256(bytes) });
    expect(seconds(file)).toBe(3600);
    expect((await storedBytes(file.id)).equals(bytes)).toBe(true);
  });

  it('sends a Buffer or a plain Uint8Array as the body when no progress is wanted', async () => {
    const png = fixtureBytes('tiny-1x1.png');
    const fromBuffer = await legim.upload(png);
    expect(fromBuffer).toMatchObject({
      contentType: 'image/png',
      width: 1,
      height: 1,
      size: png.length,
      sha256: sha256(png),
    });

    const webp = fixtureBytes('webp-photo.webp');
    const fromArray = await legim.upload(new Uint8Array(webp));
    expect(lastUpload().headers['content-length']).toBe(String(webp.length));
    expect(fromArray).toMatchObject({ contentType: 'image/webp', width: 1024, height: 640, sha256: sha256(webp) });
    expect((await storedBytes(fromArray.id)).equals(webp)).toBe(true);
  });

  it('streams a Readable chunked, counting bytes without a total', async () => {
    const bytes = fixtureBytes(PHOTO);
    const progress: UploadProgress[] = [];
    const file = await legim.upload(createReadStream(fixture(PHOTO)), { ttl: 90, onProgress: (p) => progress.push(p) });

    expect(lastUpload().headers['content-length']).toBeUndefined();
    expect(agent.lastQuery('POST', '/v1/files')).toEqual({ ttl: '90' });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ sent: bytes.length });
    expect(file).toMatchObject({ title: '', size: bytes.length, sha256: sha256(bytes), contentType: 'image/jpeg' });
    expect(seconds(file)).toBe(90);
    expect((await storedBytes(file.id)).equals(bytes)).toBe(true);
  });

  it('refuses bad options and unreadable input before sending anything', async () => {
    await expect(legim.upload(fixture(PHOTO), { downloads: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(legim.upload(fixture(PHOTO), { downloads: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const soon = await legim.upload(fixture(PHOTO), { ttl: 'soon' }).catch((e: unknown) => e);
    expect(soon).toBeInstanceOf(LegimError);
    expect(soon).toMatchObject({ code: 'INVALID_OPTION', statusCode: 400, message: expect.stringContaining('soon') });
    await expect(legim.upload(fixture('missing.jpg'))).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining('no such file'),
    });
    await expect(legim.upload(fixture('.'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(legim.upload(42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(agent.dispatched).toHaveLength(0);
  });

  it('rebuilds the options the gateway refuses into INVALID_OPTION', async () => {
    const tiny = fixtureBytes('tiny-1x1.png');
    // Valid for the SDK, over this gateway's limits (1000 downloads, 30 days, 200 characters).
    const refused = [
      [{ downloads: 1001 }, 'downloads'],
      [{ ttl: '31d' }, 'ttl'],
      [{ title: 'x'.repeat(201) }, 'title'],
    ] as const;
    for (const [options, name] of refused) {
      const error = await legim.upload(tiny, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LegimError);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', statusCode: 400, message: expect.stringContaining(name) });
    }
    expect(agent.dispatched).toHaveLength(3);
  });

  it('rebuilds the gateway refusing the bytes into a typed LegimError', async () => {
    const text = await legim.upload(fixture('bad-text-named.jpg')).catch((e: unknown) => e);
    expect(text).toBeInstanceOf(LegimError);
    expect(LegimError.is(text)).toBe(true);
    expect(text).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      statusCode: 415,
      message: expect.stringContaining('JPEG, PNG, GIF, WebP, AVIF and TIFF'),
    });
    await expect(legim.upload(fixtureBytes('bad-html-named.png'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      statusCode: 415,
    });
    await expect(legim.upload(fixture('svg-with-script.svg'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      statusCode: 415,
      message: expect.stringContaining('SVG'),
    });
    await expect(legim.upload(fixture('bad-empty-0-bytes.jpg'))).rejects.toMatchObject({
      code: 'EMPTY_BODY',
      statusCode: 400,
    });
    await expect(legim.upload(Buffer.alloc(0))).rejects.toMatchObject({ code: 'EMPTY_BODY', statusCode: 400 });
    await expect(legim.upload(fixture('bad-truncated-half.jpg'))).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      statusCode: 422,
    });
    await expect(legim.upload(fixture('bad-png-bomb-30000x30000.png'))).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      statusCode: 413,
    });
  });

  it('reads PAYLOAD_TOO_LARGE that the gateway sends before it has read the whole body', async () => {
    const before = (await admin.health()).files;
    const big = fixtureBytes(BIG);
    expect(big.length).toBeGreaterThan(MAX_UPLOAD);
    // A path and a Buffer declare their length: refused before the body is read.
    await expect(legim.upload(fixture(BIG))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
    await expect(legim.upload(big, { onProgress: () => undefined })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
    });
    // A stream goes chunked: refused once the limit is crossed.
    await expect(legim.upload(createReadStream(fixture(BIG)))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
    });
    expect((await admin.health()).files).toBe(before);
    // The gateway is fine afterwards.
    await expect(legim.upload(fixtureBytes('tiny-1x1.png'))).resolves.toMatchObject({ status: 'processing' });
  });

  it('turns a stream that fails into IO_ERROR, and the gateway keeps nothing', async () => {
    const before = (await admin.health()).files;
    const head = fixtureBytes(PHOTO).subarray(0, 200_000);
    let pushed = false;
    const failing = new Readable({
      read() {
        if (!pushed) {
          pushed = true;
          this.push(head);
        } else {
          setTimeout(() => this.destroy(new Error('disk on fire')), 20);
        }
      },
    });
    await expect(legim.upload(failing)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: 'cannot read the upload stream: disk on fire',
    });
    expect((await admin.health()).files).toBe(before);
  });

  it('rejects with the reason of an aborted signal, and the gateway keeps nothing', async () => {
    const before = (await admin.health()).files;
    const controller = new AbortController();
    const upload = legim.upload(fixtureBytes(PHOTO), {
      signal: controller.signal,
      onProgress: ({ sent }) => {
        if (sent >= 128 * 1024) controller.abort(new Error('user gave up'));
      },
    });
    await expect(upload).rejects.toThrow('user gave up');

    const already = AbortSignal.abort(new Error('never started'));
    await expect(legim.upload(fixture(PHOTO), { signal: already })).rejects.toThrow('never started');
    expect((await admin.health()).files).toBe(before);
  });

  it('uploads what the stream gives even when it is slow', async () => {
    const bytes = fixtureBytes('jpeg-progressive.jpg');
    const slow = Readable.from(
      (async function* () {
        for (let offset = 0; offset < bytes.length; offset += 16 * 1024) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          yield bytes.subarray(offset, offset + 16 * 1024);
        }
      })(),
    );
    const file = await legim.upload(slow, { title: 'wings' });
    expect(file).toMatchObject({ title: 'wings', size: bytes.length, sha256: sha256(bytes), width: 1280, height: 800 });
    expect((await storedBytes(file.url)).equals(bytes)).toBe(true);
  });
});
