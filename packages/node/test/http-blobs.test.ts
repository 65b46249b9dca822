import { createReadStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { AUTH, filesUnder, rawRequest, startTestNode, waitFor } from './support.js';

const PHOTOS = [
  'photo-small-flower-1600x1203.jpg',
  'photo-camera-exif-dune-1680x1050.jpg',
  'photo-large-bird-6028x3391.jpg',
];

function putHeaders(digest: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...AUTH, 'legim-sha256': digest, 'content-type': 'application/octet-stream', ...extra };
}

describe('PUT and GET /blobs/:key', () => {
  it.each(PHOTOS)('round-trips %s byte for byte', async (name) => {
    const node = await startTestNode();
    const bytes = fixtureBytes(name);
    const digest = sha256(bytes);
    const key = `9d1c2b3a-0000-4000-8000-00000000000${PHOTOS.indexOf(name)}`;

    const put = await request(`${node.url}/blobs/${key}`, {
      method: 'PUT',
      headers: putHeaders(digest, { 'content-length': String(bytes.length) }),
      body: createReadStream(fixture(name)),
    });
    expect(put.statusCode).toBe(201);
    expect(await put.body.json()).toEqual({ key, size: bytes.length, sha256: digest });

    const get = await request(`${node.url}/blobs/${key}`, { headers: AUTH });
    expect(get.statusCode).toBe(200);
    expect(get.headers).toMatchObject({
      'content-length': String(bytes.length),
      'content-type': 'application/octet-stream',
      'legim-sha256': digest,
      etag: `"${digest}"`,
      'accept-ranges': 'bytes',
    });
    expect(sha256(Buffer.from(await get.body.arrayBuffer()))).toBe(digest);

    const head = await request(`${node.url}/blobs/${key}`, { method: 'HEAD', headers: AUTH });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(bytes.length));
    expect(head.headers['legim-sha256']).toBe(digest);
    await head.body.dump();
  });

  it('stores Legim-Meta in the sidecar', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('tiny-1x1.png');
    const meta = { fileId: 'f1', variant: 'original' };
    const put = await request(`${node.url}/blobs/f1`, {
      method: 'PUT',
      headers: putHeaders(sha256(bytes), { 'legim-meta': Buffer.from(JSON.stringify(meta)).toString('base64url') }),
      body: bytes,
    });
    expect(put.statusCode).toBe(201);
    await put.body.dump();
    expect((await node.store.stat('f1')).meta).toEqual(meta);

    const bad = await request(`${node.url}/blobs/f2`, {
      method: 'PUT',
      headers: putHeaders(sha256(bytes), { 'legim-meta': '!!' }),
      body: bytes,
    });
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('answers 422 DIGEST_MISMATCH and keeps nothing when the digest is wrong', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('jpeg-cmyk.jpg');
    const put = await request(`${node.url}/blobs/wrong`, {
      method: 'PUT',
      headers: putHeaders(sha256(Buffer.from('other'))),
      body: bytes,
    });
    expect(put.statusCode).toBe(422);
    expect(await put.body.json()).toMatchObject({ error: { code: 'DIGEST_MISMATCH' } });
    expect(await filesUnder(node.dataDir)).toEqual(['node.json']);
  });

  it('answers 400 when no digest comes at all', async () => {
    const node = await startTestNode();
    const put = await request(`${node.url}/blobs/nodigest`, { method: 'PUT', headers: AUTH, body: Buffer.from('abc') });
    expect(put.statusCode).toBe(400);
    expect(await put.body.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('takes a Legim-Meta trailer over the header (what the writer learnt while sending)', async () => {
    const node = await startTestNode();
    const bytes = Buffer.from('late meta');
    const encode = (meta: object) => Buffer.from(JSON.stringify(meta)).toString('base64url');
    const status = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(node.url);
      const req = httpRequest({
        hostname,
        port,
        method: 'PUT',
        path: '/blobs/late',
        headers: { ...AUTH, trailer: 'Legim-Sha256, Legim-Meta', 'legim-meta': encode({ maxDownloads: 3 }) },
      });
      req.on('error', reject);
      req.on('response', (res) => resolve(res.resume().statusCode ?? 0));
      req.write(bytes);
      req.addTrailers({ 'Legim-Sha256': sha256(bytes), 'Legim-Meta': encode({ maxDownloads: 1 }) });
      req.end();
    });
    expect(status).toBe(201);
    expect((await node.store.stat('late')).meta).toEqual({ maxDownloads: 1 });
  });

  it('takes the digest from a trailer of a chunked request', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('photo-portrait-drum-2560x3837.jpg');
    const sendChunked = (digest: string | undefined) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const { hostname, port } = new URL(node.url);
        const req = httpRequest({
          hostname,
          port,
          method: 'PUT',
          path: '/blobs/trailed',
          headers: { ...AUTH, trailer: 'Legim-Sha256' },
        });
        req.on('error', reject);
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        for (let offset = 0; offset < bytes.length; offset += 100_000)
          req.write(bytes.subarray(offset, offset + 100_000));
        if (digest !== undefined) req.addTrailers({ 'Legim-Sha256': digest });
        req.end();
      });

    const missing = await sendChunked(undefined);
    expect(missing.status).toBe(400);
    const wrong = await sendChunked('f'.repeat(64));
    expect(wrong.status).toBe(422);
    expect(await filesUnder(node.dataDir)).toEqual(['node.json']);

    const ok = await sendChunked(sha256(bytes));
    expect(ok.status).toBe(201);
    expect(JSON.parse(ok.body)).toEqual({ key: 'trailed', size: bytes.length, sha256: sha256(bytes) });
    const get = await request(`${node.url}/blobs/trailed`, { headers: AUTH });
    expect(sha256(Buffer.from(await get.body.arrayBuffer()))).toBe(sha256(bytes));
  });

  it('keeps nothing of an upload aborted mid-body, and keeps serving', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('photo-large-bird-6028x3391.jpg');
    const { hostname, port } = new URL(node.url);
    const req = httpRequest({
      hostname,
      port,
      method: 'PUT',
      path: '/blobs/aborted',
      headers: { ...putHeaders(sha256(bytes)), 'content-length': String(bytes.length) },
    });
    req.on('error', () => undefined);
    req.write(bytes.subarray(0, 1_000_000));
    // Drop the connection only once the node is writing its temporary file.
    await waitFor(async () => (await readdir(node.store.tmpDir)).length === 1);
    req.destroy();

    await waitFor(async () => (await readdir(node.store.tmpDir)).length === 0);
    expect(await filesUnder(node.dataDir)).toEqual(['node.json']);
    const health = await request(`${node.url}/health`, { headers: AUTH });
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  });

  it.each([
    ['encoded traversal', '/blobs/..%2F..%2Fetc%2Fpasswd'],
    ['raw traversal', '/blobs/../../etc/passwd'],
    ['encoded dots', '/blobs/%2e%2e'],
    ['encoded dot traversal', '/blobs/%2e%2e%2f%2e%2e%2fescape'],
    ['slash', '/blobs/a/b'],
    ['empty', '/blobs/'],
    ['201 characters', `/blobs/${'k'.repeat(201)}`],
    ['bad percent-encoding', '/blobs/%E0%A4%A'],
    ['NUL', '/blobs/a%00b'],
  ])('refuses the key of %s with 400 INVALID_KEY and writes nothing', async (_name, path) => {
    const node = await startTestNode();
    const root = dirname(node.dataDir);
    for (const method of ['PUT', 'GET', 'DELETE', 'HEAD']) {
      const response = await rawRequest(node.url, {
        method,
        path,
        headers: putHeaders(sha256(Buffer.from('x'))),
        body: method === 'PUT' ? Buffer.from('x') : undefined,
      });
      expect(response.status).toBe(400);
      if (method !== 'HEAD')
        expect(JSON.parse(response.body.toString())).toMatchObject({ error: { code: 'INVALID_KEY' } });
    }
    expect(await filesUnder(root)).toEqual(['data/node.json']);
  });
});

describe('ranges', () => {
  it('answers single ranges with 206 and unsatisfiable ones with 416', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('jpeg-exif-gps.jpg');
    const put = await request(`${node.url}/blobs/ranged`, {
      method: 'PUT',
      headers: putHeaders(sha256(bytes)),
      body: bytes,
    });
    expect(put.statusCode).toBe(201);
    await put.body.dump();

    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-', 1000, bytes.length - 1],
      ['bytes=-500', bytes.length - 500, bytes.length - 1],
      [`bytes=100-${bytes.length + 1000}`, 100, bytes.length - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await request(`${node.url}/blobs/ranged`, { headers: { ...AUTH, range } });
      expect(response.statusCode).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${bytes.length}`);
      expect(response.headers['content-length']).toBe(String(end - start + 1));
      expect(Buffer.from(await response.body.arrayBuffer()).equals(bytes.subarray(start, end + 1))).toBe(true);
    }

    const outside = await request(`${node.url}/blobs/ranged`, {
      headers: { ...AUTH, range: `bytes=${bytes.length}-` },
    });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect(await outside.body.json()).toMatchObject({ error: { code: 'RANGE_NOT_SATISFIABLE' } });

    const several = await request(`${node.url}/blobs/ranged`, { headers: { ...AUTH, range: 'bytes=0-1,5-6' } });
    expect(several.statusCode).toBe(200);
    expect((await several.body.arrayBuffer()).byteLength).toBe(bytes.length);
  });
});

describe('DELETE, list and 404', () => {
  it('deletes idempotently and answers 404 for what is gone', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('tiny-1x1.png');
    await (
      await request(`${node.url}/blobs/doomed`, { method: 'PUT', headers: putHeaders(sha256(bytes)), body: bytes })
    ).body.dump();
    for (let i = 0; i < 2; i++) {
      const response = await request(`${node.url}/blobs/doomed`, { method: 'DELETE', headers: AUTH });
      expect(response.statusCode).toBe(204);
      await response.body.dump();
    }
    const get = await request(`${node.url}/blobs/doomed`, { headers: AUTH });
    expect(get.statusCode).toBe(404);
    expect(await get.body.json()).toMatchObject({ error: { code: 'BLOB_NOT_FOUND' } });
    expect(await filesUnder(node.dataDir)).toEqual(['node.json']);
  });

  it('pages through GET /blobs in key order', async () => {
    const node = await startTestNode();
    const keys = ['b', 'a', 'd', 'c', 'e'];
    for (const key of keys) {
      const bytes = Buffer.from(`content of ${key}`);
      await (
        await request(`${node.url}/blobs/${key}`, { method: 'PUT', headers: putHeaders(sha256(bytes)), body: bytes })
      ).body.dump();
    }
    const first = await request(`${node.url}/blobs?limit=2`, { headers: AUTH });
    expect(await first.body.json()).toEqual({
      blobs: [
        { key: 'a', size: 12, sha256: sha256(Buffer.from('content of a')) },
        { key: 'b', size: 12, sha256: sha256(Buffer.from('content of b')) },
      ],
      next: 'b',
    });
    const second = (await (await request(`${node.url}/blobs?after=b&limit=2`, { headers: AUTH })).body.json()) as {
      next: string;
    };
    expect(second).toMatchObject({ blobs: [{ key: 'c' }, { key: 'd' }], next: 'd' });
    const last = await (await request(`${node.url}/blobs?after=d&limit=2`, { headers: AUTH })).body.json();
    expect(last).toMatchObject({ blobs: [{ key: 'e' }], next: null });
    const all = await (await request(`${node.url}/blobs`, { headers: AUTH })).body.json();
    expect(all).toMatchObject({ next: null });

    for (const limit of ['0', '1001', 'x', '-1', '2.5']) {
      const bad = await request(`${node.url}/blobs?limit=${limit}`, { headers: AUTH });
      expect(bad.statusCode).toBe(400);
      await bad.body.dump();
    }
  });
});

describe('capacity', () => {
  it('answers 507 INSUFFICIENT_STORAGE past --capacity, declared or streamed, and keeps nothing', async () => {
    const node = await startTestNode({ capacityBytes: 1_500_000 });
    const photo = fixtureBytes('photo-camera-exif-dune-1680x1050.jpg');
    const digest = sha256(photo);
    const first = await request(`${node.url}/blobs/first`, { method: 'PUT', headers: putHeaders(digest), body: photo });
    expect(first.statusCode).toBe(201);
    await first.body.dump();

    const declared = await request(`${node.url}/blobs/declared`, {
      method: 'PUT',
      headers: putHeaders(digest),
      body: photo,
    });
    expect(declared.statusCode).toBe(507);
    expect(await declared.body.json()).toMatchObject({ error: { code: 'INSUFFICIENT_STORAGE' } });

    // Chunked, so the node only finds out while streaming.
    const streamed = await rawChunkedPut(node.url, '/blobs/streamed', photo, digest);
    expect(streamed.status).toBe(507);
    expect(JSON.parse(streamed.body)).toMatchObject({ error: { code: 'INSUFFICIENT_STORAGE' } });

    expect(await filesUnder(node.dataDir)).toHaveLength(3); // node.json, first, first.meta.json
    const stats = await (await request(`${node.url}/stats`, { headers: AUTH })).body.json();
    expect(stats).toMatchObject({
      blobCount: 1,
      usedBytes: photo.length,
      freeBytes: 1_500_000 - photo.length,
      totalBytes: 1_500_000,
    });
  });
});

function rawChunkedPut(
  url: string,
  path: string,
  bytes: Buffer,
  digest: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      hostname,
      port,
      method: 'PUT',
      path,
      headers: { ...AUTH, 'legim-sha256': digest, 'transfer-encoding': 'chunked' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
      req.write(bytes.subarray(offset, offset + 64 * 1024));
    req.end();
  });
}
