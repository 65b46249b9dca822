import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { Legim, LegimError, type UploadProgress } from '../src/index.js';
import { sendError, startGatewayPeer, type GatewayPeer } from './gateway-peer.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';

let peer: GatewayPeer;
let legim: Legim;

beforeEach(async () => {
  peer = await startGatewayPeer();
  legim = new Legim({ url: peer.url });
});

afterEach(async () => {
  await peer.close();
});

function lastUpload() {
  const request = peer.requests.findLast((r) => r.method === 'POST');
  if (!request) throw new Error('no upload reached the peer');
  return request;
}

describe('upload', () => {
  it('streams a file path with its length, options as query parameters and progress up to the total', async () => {
    const bytes = fixtureBytes(PHOTO);
    const progress: UploadProgress[] = [];
    const file = await legim.upload(fixture(PHOTO), { downloads: 3, ttl: '1h', onProgress: (p) => progress.push(p) });

    const request = lastUpload();
    expect(request.body.equals(bytes)).toBe(true);
    expect(request.headers['content-type']).toBe('application/octet-stream');
    expect(request.headers['content-length']).toBe(String(bytes.length));
    expect(request.headers['transfer-encoding']).toBeUndefined();
    expect(Object.fromEntries(request.url.searchParams)).toEqual({
      downloads: '3',
      ttl: '3600',
      title: 'photo-camera-exif-dune-1680x1050',
    });

    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ sent: bytes.length, total: bytes.length });
    const sent = progress.map((p) => p.sent);
    expect(sent).toEqual([...sent].sort((x, y) => x - y));

    expect(file).toMatchObject({
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: 'image/jpeg',
      maxDownloads: 3,
      downloadsLeft: 3,
      status: 'stored',
      url: `${peer.url}/d/${file.id}`,
    });
    expect(file.deleteToken).toEqual(expect.any(String));
  });

  it('sends a Buffer with its length, in slices when progress is wanted', async () => {
    const bytes = fixtureBytes(PHOTO);
    const progress: UploadProgress[] = [];
    const file = await legim.upload(bytes, { title: 'dune', onProgress: (p) => progress.push(p) });

    const request = lastUpload();
    expect(request.body.equals(bytes)).toBe(true);
    expect(request.headers['content-length']).toBe(String(bytes.length));
    expect(request.url.searchParams.get('title')).toBe('dune');
    expect(request.url.searchParams.has('downloads')).toBe(false);
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(bytes.length / 65_536));
    expect(progress.at(-1)).toEqual({ sent: bytes.length, total: bytes.length });
    expect(file.title).toBe('dune');
  });

  it('sends a Buffer or a plain Uint8Array as the body when no progress is wanted', async () => {
    const bytes = fixtureBytes('tiny-1x1.png');
    await legim.upload(bytes);
    expect(lastUpload().body.equals(bytes)).toBe(true);

    const file = await legim.upload(new Uint8Array(bytes));
    expect(lastUpload().body.equals(bytes)).toBe(true);
    expect(file.contentType).toBe('image/png');
  });

  it('streams a Readable chunked, counting bytes without a total', async () => {
    const bytes = fixtureBytes(PHOTO);
    const progress: UploadProgress[] = [];
    const file = await legim.upload(createReadStream(fixture(PHOTO)), { ttl: 90, onProgress: (p) => progress.push(p) });

    const request = lastUpload();
    expect(request.body.equals(bytes)).toBe(true);
    expect(request.headers['transfer-encoding']).toBe('chunked');
    expect(request.headers['content-length']).toBeUndefined();
    expect(request.url.searchParams.get('ttl')).toBe('90');
    expect(request.url.searchParams.has('title')).toBe(false);
    expect(progress.at(-1)).toEqual({ sent: bytes.length });
    expect(file.sha256).toBe(sha256(bytes));
  });

  it('refuses bad options and unreadable input before sending anything', async () => {
    await expect(legim.upload(fixture(PHOTO), { downloads: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(legim.upload(fixture(PHOTO), { downloads: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(legim.upload(fixture(PHOTO), { ttl: 'soon' })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(legim.upload(fixture('missing.jpg'))).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining('no such file'),
    });
    await expect(legim.upload(fixture('.'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(legim.upload(42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(peer.requests).toHaveLength(0);
  });

  it('turns a stream that fails into IO_ERROR', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(legim.upload(failing)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: 'cannot read the upload stream: disk on fire',
    });
  });

  it('rebuilds the JSON error of the server into a typed LegimError', async () => {
    const error = await legim.upload(fixtureBytes('svg-harmless.svg')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(LegimError.is(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      statusCode: 415,
      message: 'not a JPEG, PNG, GIF, WebP, AVIF or TIFF image',
    });

    await expect(legim.upload(Buffer.alloc(0))).rejects.toMatchObject({ code: 'EMPTY_BODY', statusCode: 400 });
  });

  it('reads an error the server sends before it has read the whole body', async () => {
    peer.route(
      'POST /v1/files',
      (_req, res) => sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'the upload is larger than 1 MiB', { connection: 'close' }),
      { readBody: false },
    );
    const big = 'photo-large-bird-6028x3391.jpg';
    await expect(legim.upload(fixture(big))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
    await expect(legim.upload(fixtureBytes(big))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
  });

  it('passes on Retry-After as details.retryAfter', async () => {
    peer.route('POST /v1/files', (_req, res) =>
      sendError(res, 503, 'NO_STORAGE_NODES', 'no storage node is up', { 'retry-after': '5' }),
    );
    await expect(legim.upload(fixtureBytes('tiny-1x1.png'))).rejects.toMatchObject({
      code: 'NO_STORAGE_NODES',
      statusCode: 503,
      details: { retryAfter: 5 },
    });
  });

  it('rejects with the reason of an aborted signal', async () => {
    const controller = new AbortController();
    peer.route('POST /v1/files', () => controller.abort(new Error('user gave up')));
    await expect(legim.upload(fixtureBytes(PHOTO), { signal: controller.signal })).rejects.toThrow('user gave up');
  });
});
