import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { allFiles, call, queryIndex, uploadBytes } from './support.js';

describe('bad input gets a clear 4xx JSON error and changes nothing', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: { maxUpload: '2MB' } });
  });
  afterAll(() => cluster?.close());

  /** Nothing in the index, nothing on any node's disk (aborted copies are cleaned up promptly). */
  const nothingStored = async () => {
    expect(queryIndex(cluster.gateway.dataDir, 'SELECT id FROM files')).toEqual([]);
    const leftovers = () =>
      cluster.nodes.flatMap((node) => [...allFiles(`${node.dataDir}/blobs`), ...allFiles(`${node.dataDir}/tmp`)]);
    await expect.poll(leftovers, { timeout: 2000 }).toEqual([]);
  };

  const refusals: [string, string, number, string][] = [
    ['a zero-byte file', 'bad-empty-0-bytes.jpg', 400, 'EMPTY_BODY'],
    ['text named .jpg', 'bad-text-named.jpg', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['HTML named .png', 'bad-html-named.png', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a truncated JPEG', 'bad-truncated-half.jpg', 422, 'INVALID_IMAGE'],
    ['a decompression bomb', 'bad-png-bomb-30000x30000.png', 413, 'IMAGE_TOO_LARGE'],
    ['a huge truncated PNG', 'bad-png-huge-declared-truncated.png', 413, 'IMAGE_TOO_LARGE'],
    ['an SVG with a script', 'svg-with-script.svg', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body over the size limit', 'photo-large-bird-6028x3391.jpg', 413, 'PAYLOAD_TOO_LARGE'],
  ];
  it.each(refusals)('refuses %s', async (_what, name, status, code) => {
    const reply = await uploadBytes(cluster.gateway.url, fixtureBytes(name));
    expect(reply.status).toBe(status);
    expect(reply.json.error.code).toBe(code);
    expect(reply.json.error.message).toEqual(expect.any(String));
    await nothingStored();
  });

  it('refuses an oversized body sent without a length (chunked)', async () => {
    const photo = fixtureBytes('photo-large-bird-6028x3391.jpg');
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < photo.length; i += 65536) controller.enqueue(photo.subarray(i, i + 65536));
        controller.close();
      },
    });
    const reply = await call(`${cluster.gateway.url}/v1/files`, {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(reply.status).toBe(413);
    expect(reply.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    await nothingStored();
  });

  it.each([
    ['downloads=0', { downloads: 0 }],
    ['downloads=abc', { downloads: 'abc' }],
    ['downloads over the limit', { downloads: 100000 }],
    ['ttl=soon', { ttl: 'soon' }],
    ['ttl=-5s', { ttl: '-5s' }],
    ['ttl over the maximum', { ttl: '400d' }],
  ])('refuses malformed options: %s', async (_what, query) => {
    const reply = await uploadBytes(cluster.gateway.url, fixtureBytes('tiny-1x1.png'), query);
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('INVALID_OPTION');
    await nothingStored();
  });

  it('names the longest ttl as people write it, and the one asked for as it was given', async () => {
    for (const [ttl, asked] of [
      ['90d', '90d'],
      ['7776000', '90d'],
      ['2000h', '2000h'],
    ] as const) {
      const reply = await uploadBytes(cluster.gateway.url, fixtureBytes('tiny-1x1.png'), { ttl });
      expect(reply.status).toBe(400);
      expect(reply.json.error.message).toBe(`ttl must be at most 30d on this server, got ${asked}`);
    }
    await nothingStored();
  });

  it('answers 404 JSON for an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope', '..%2F..%2Fetc%2Fpasswd']) {
      for (const path of [`/d/${id}`, `/v1/files/${id}`]) {
        const reply = await call(`${cluster.gateway.url}${path}`);
        expect(reply.status).toBe(404);
        expect(reply.json.error.code).toMatch(/NOT_FOUND/);
      }
    }
  });

  it('storage nodes refuse requests without the cluster secret and path-traversal keys', async () => {
    const node = cluster.nodes[0]!;
    const anonymous = await call(`${node.url}/blobs`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('UNAUTHORIZED');
    const traversal = await call(`${node.url}/blobs/..%2F..%2Fescape`, {
      method: 'PUT',
      body: 'x',
      headers: { authorization: `Bearer ${testClusterSecret}`, 'legim-sha256': '0'.repeat(64) },
    });
    expect(traversal.status).toBe(400);
    expect(traversal.json.error.code).toBe('INVALID_KEY');
    await nothingStored();
  });

  it('accepts the odd-but-valid files', async () => {
    const cases = {
      'bad-trailing-garbage.jpg': 'image/jpeg',
      'bad-polyglot-jpeg-zip.jpg': 'image/jpeg',
      'tiny-1x1.png': 'image/png',
      'jpeg-cmyk.jpg': 'image/jpeg',
    };
    for (const [name, type] of Object.entries(cases)) {
      const reply = await uploadBytes(cluster.gateway.url, fixtureBytes(name));
      expect(reply.status, name).toBe(201);
      expect(reply.json.contentType, name).toBe(type);
      const down = await call(reply.json.url);
      expect(down.headers.get('content-type'), name).toBe(type);
    }
  });
});
