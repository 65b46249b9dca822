import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { AUTH, SECRET, startTestNode } from './support.js';

describe('authentication', () => {
  it.each([
    ['no header', {}],
    ['a wrong secret', { authorization: 'Bearer not-the-secret' }],
    ['a longer wrong secret', { authorization: `Bearer ${SECRET}x` }],
    ['another scheme', { authorization: `Basic ${SECRET}` }],
  ])('answers 401 JSON to %s on every endpoint', async (_name, headers: Record<string, string>) => {
    const node = await startTestNode();
    const endpoints: Array<[string, string]> = [
      ['GET', '/health'],
      ['GET', '/stats'],
      ['GET', '/blobs'],
      ['GET', '/blobs/some-key'],
      ['PUT', '/blobs/some-key'],
      ['DELETE', '/blobs/some-key'],
      ['POST', '/join'],
      ['GET', '/nowhere'],
    ];
    for (const [method, path] of endpoints) {
      const response = await request(`${node.url}${path}`, {
        method: method as 'GET',
        headers,
        body: method === 'PUT' ? 'x' : undefined,
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(await response.body.json()).toMatchObject({
        error: { code: 'UNAUTHORIZED', message: expect.stringContaining('secret') },
      });
    }
    expect(await node.store.stats()).toMatchObject({ blobCount: 0 });
  });
});

describe('GET /health and GET /stats', () => {
  it('report the node id, uptime and storage figures', async () => {
    const node = await startTestNode();
    const health = await request(`${node.url}/health`, { headers: AUTH });
    expect(await health.body.json()).toEqual({ ok: true, nodeId: node.nodeId, uptimeSeconds: expect.any(Number) });
    const stats = (await (await request(`${node.url}/stats`, { headers: AUTH })).body.json()) as Record<string, number>;
    expect(stats).toEqual({
      nodeId: node.nodeId,
      blobCount: 0,
      usedBytes: 0,
      freeBytes: expect.any(Number),
      totalBytes: expect.any(Number),
      filesystem: { id: expect.any(String), totalBytes: expect.any(Number), freeBytes: expect.any(Number) },
      scrub: expect.objectContaining({ scanned: 0, corrupt: 0 }),
    });
    expect(stats.freeBytes).toBeLessThanOrEqual(stats.totalBytes as number);
    // Not an answer of the gateway: a client given this URL as a gateway's can tell.
    expect(health.headers['legim-role']).toBe('storage-node');
  });

  it('answer unknown paths with 404 and wrong methods with 405', async () => {
    const node = await startTestNode();
    const missing = await request(`${node.url}/v1/files`, { headers: AUTH });
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const wrong = await request(`${node.url}/health`, { method: 'POST', headers: AUTH });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect(await wrong.body.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });
});

describe('node identity', () => {
  it('creates node.json on first start and keeps the id across restarts', async () => {
    const first = await startTestNode();
    expect(first.nodeId).toMatch(/^n-[0-9a-f]{8}$/);
    expect(JSON.parse(await readFile(join(first.dataDir, 'node.json'), 'utf8'))).toEqual({ nodeId: first.nodeId });
    await first.close();
    const second = await startTestNode({ dataDir: first.dataDir });
    expect(second.nodeId).toBe(first.nodeId);
    expect(second.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('says what to do when its port is taken', async () => {
    const first = await startTestNode();
    await expect(startTestNode({ port: first.port })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('already in use: choose another with --port'),
    });
  });

  it('advertises the configured URL', async () => {
    const node = await startTestNode({ advertiseUrl: 'http://10.0.0.7:8888' });
    expect(node.url).toBe('http://10.0.0.7:8888');
  });
});

describe('POST /join', () => {
  it('validates the body', async () => {
    const node = await startTestNode();
    const post = (body: string) =>
      request(`${node.url}/join`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body });
    const valid = {
      nodeId: 'n-child',
      url: 'http://127.0.0.1:9',
      bootId: 'boot-1',
      stats: { blobCount: 0, usedBytes: 0, freeBytes: 1, totalBytes: 1 },
    };

    const ok = await post(JSON.stringify(valid));
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toEqual({ ok: true, heartbeatMs: 1000 });
    // The filesystem a node stores on, absent from nodes older than it.
    const filesystem = { id: '3f2a9c41d07be815:2049', totalBytes: 1, freeBytes: 1 };
    const withDisk = await post(JSON.stringify({ ...valid, stats: { ...valid.stats, filesystem } }));
    expect(withDisk.statusCode).toBe(200);
    await withDisk.body.dump();

    for (const bad of [
      'not json',
      '[]',
      JSON.stringify({ ...valid, url: 'ftp://x' }),
      JSON.stringify({ ...valid, nodeId: '../x' }),
      JSON.stringify({ ...valid, stats: {} }),
      JSON.stringify({ ...valid, stats: { ...valid.stats, filesystem: { id: 7, totalBytes: 1, freeBytes: 1 } } }),
      JSON.stringify({ ...valid, stats: { ...valid.stats, filesystem: { id: 'a', totalBytes: -1, freeBytes: 1 } } }),
      JSON.stringify({ ...valid, bootId: undefined }),
    ]) {
      const response = await post(bad);
      expect(response.statusCode).toBe(400);
      expect(await response.body.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    const huge = await post(JSON.stringify({ ...valid, padding: 'x'.repeat(100_000) }));
    expect(huge.statusCode).toBe(413);
    await huge.body.dump();
  });
});
