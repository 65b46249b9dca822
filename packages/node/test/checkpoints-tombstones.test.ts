import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { AUTH, startTestNode } from './support.js';

const KEY = '3f2a9c1e-0000-4000-8000-000000000001';

async function put(url: string, key: string, bytes: Buffer, headers: Record<string, string> = {}): Promise<void> {
  const res = await request(`${url}/blobs/${key}`, {
    method: 'PUT',
    headers: { ...AUTH, 'legim-sha256': sha256(bytes), ...headers },
    body: bytes,
  });
  expect(res.statusCode).toBe(201);
  await res.body.dump();
}

async function checkpoint(url: string, key: string, downloadsTaken: unknown): Promise<{ status: number; body: any }> {
  const res = await request(`${url}/blobs/${key}/checkpoint`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ downloadsTaken }),
  });
  return { status: res.statusCode, body: await res.body.json() };
}

async function listWithMeta(url: string): Promise<any> {
  const res = await request(`${url}/blobs?meta=1&limit=10`, { headers: AUTH });
  expect(res.statusCode).toBe(200);
  return res.body.json();
}

const meta = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('POST /blobs/:key/checkpoint', () => {
  it('keeps the highest checkpoint, durably in the sidecar, and lists it with the meta', async () => {
    const node = await startTestNode();
    const bytes = fixtureBytes('tiny-1x1.png');
    await put(node.url, KEY, bytes, { 'legim-meta': meta({ fileId: KEY, title: 't' }) });

    expect(await checkpoint(node.url, KEY, 4)).toEqual({ status: 200, body: { key: KEY, downloadsTaken: 4 } });
    // Monotonic: a lower value (a late or repeated request) changes nothing.
    expect((await checkpoint(node.url, KEY, 2)).body.downloadsTaken).toBe(4);
    expect((await checkpoint(node.url, KEY, 7)).body.downloadsTaken).toBe(7);

    const sidecar = JSON.parse(await readFile(node.store.paths(KEY).sidecar, 'utf8'));
    expect(sidecar).toMatchObject({ key: KEY, sha256: sha256(bytes), downloadsTaken: 7, meta: { fileId: KEY } });
    const page = await listWithMeta(node.url);
    expect(page.blobs).toEqual([
      expect.objectContaining({ key: KEY, downloadsTaken: 7, meta: { fileId: KEY, title: 't' } }),
    ]);
    expect(page.next).toBeNull();

    // The blob still reads whole, and HEAD carries what a copy must keep.
    const get = await request(`${node.url}/blobs/${KEY}`, { headers: AUTH });
    expect(sha256(Buffer.from(await get.body.arrayBuffer()))).toBe(sha256(bytes));
    const head = await request(`${node.url}/blobs/${KEY}`, { method: 'HEAD', headers: AUTH });
    await head.body.dump();
    expect(head.headers['legim-downloads-taken']).toBe('7');
    expect(JSON.parse(Buffer.from(String(head.headers['legim-meta']), 'base64url').toString())).toEqual({
      fileId: KEY,
      title: 't',
    });
  });

  it('survives a restart, and a copy can start with a checkpoint', async () => {
    const first = await startTestNode();
    const bytes = fixtureBytes('tiny-1x1.png');
    await put(first.url, KEY, bytes, { 'legim-downloads-taken': '3' });
    expect((await checkpoint(first.url, KEY, 1)).body.downloadsTaken).toBe(3);
    await first.close();
    const again = await startTestNode({ dataDir: first.dataDir });
    expect((await listWithMeta(again.url)).blobs[0].downloadsTaken).toBe(3);
  });

  it('answers 404 for a missing key and 400 for a bad body', async () => {
    const node = await startTestNode();
    const missing = await checkpoint(node.url, KEY, 1);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('BLOB_NOT_FOUND');
    await put(node.url, KEY, fixtureBytes('tiny-1x1.png'));
    for (const bad of [-1, 1.5, 'x', null]) expect((await checkpoint(node.url, KEY, bad)).status).toBe(400);
    const unauthorized = await request(`${node.url}/blobs/${KEY}/checkpoint`, { method: 'POST', body: '{}' });
    expect(unauthorized.statusCode).toBe(401);
    await unauthorized.body.dump();
  });

  it('never races a delete: concurrent checkpoints and a delete leave no sidecar behind', async () => {
    const node = await startTestNode();
    await put(node.url, KEY, fixtureBytes('tiny-1x1.png'));
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => checkpoint(node.url, KEY, i + 1)),
      request(`${node.url}/blobs/${KEY}`, { method: 'DELETE', headers: AUTH }).then(async (res) => {
        await res.body.dump();
        return { status: res.statusCode, body: undefined };
      }),
    ]);
    expect(results.every((result) => [200, 204, 404].includes(result.status))).toBe(true);
    expect((await listWithMeta(node.url)).blobs).toEqual([]);
    await expect(readFile(node.store.paths(KEY).sidecar)).rejects.toThrow(/ENOENT/);
  });
});

describe('tombstones', () => {
  it('are kept for deletes that ask for one, listed in key order, and survive a restart', async () => {
    const first = await startTestNode();
    const bytes = fixtureBytes('tiny-1x1.png');
    const keys = ['b-key', 'a-key', 'c-key'];
    for (const key of keys) await put(first.url, key, bytes);
    for (const key of ['b-key', 'a-key']) {
      const res = await request(`${first.url}/blobs/${key}?tombstone=1`, { method: 'DELETE', headers: AUTH });
      expect(res.statusCode).toBe(204);
      await res.body.dump();
    }
    // A plain delete (a repair moving a copy away) keeps none.
    await (await request(`${first.url}/blobs/c-key`, { method: 'DELETE', headers: AUTH })).body.dump();

    const page1 = await (await request(`${first.url}/tombstones?limit=1`, { headers: AUTH })).body.json();
    expect(page1).toEqual({ tombstones: [{ key: 'a-key', deletedAt: expect.any(Number) }], next: 'a-key' });
    const page2 = await (await request(`${first.url}/tombstones?after=a-key`, { headers: AUTH })).body.json();
    expect(page2).toEqual({ tombstones: [{ key: 'b-key', deletedAt: expect.any(Number) }], next: null });

    await first.close();
    const again = await startTestNode({ dataDir: first.dataDir });
    const all = (await await request(`${again.url}/tombstones`, { headers: AUTH }).then((r) => r.body.json())) as {
      tombstones: { key: string }[];
    };
    expect(all.tombstones.map((t) => t.key)).toEqual(['a-key', 'b-key']);
  });

  it('are pruned after the tombstone period', async () => {
    const node = await startTestNode();
    await put(node.url, 'old-key', fixtureBytes('tiny-1x1.png'));
    await node.store.delete('old-key', { tombstone: true });
    expect(node.store.tombstones(undefined, 10).tombstones).toHaveLength(1);
    await node.close();
    // A line from 8 days ago, as if the node had been off since.
    const path = join(node.dataDir, 'tombstones.jsonl');
    const line = JSON.stringify({ key: 'old-key', deletedAt: Date.now() - 8 * 24 * 3600 * 1000 });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, line + '\n{"torn');
    const again = await startTestNode({ dataDir: node.dataDir });
    expect(again.store.tombstones(undefined, 10).tombstones).toEqual([]);
    expect(await readFile(path, 'utf8')).toBe('');
  });
});
