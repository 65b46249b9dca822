import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, truncateSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseNodeConfig, type JoinRequest, type RunningNode } from '../src/index.js';
import { flipByte } from '../../../test-support/files.js';
import { AUTH, startTestNode, waitFor } from './support.js';

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function putBlob(node: RunningNode, key: string, bytes: Buffer): Promise<void> {
  const res = await request(`${node.url}/blobs/${key}`, {
    method: 'PUT',
    headers: { ...AUTH, 'legim-sha256': sha256(bytes) },
    body: bytes,
  });
  await res.body.dump();
  expect(res.statusCode).toBe(201);
}

async function getBlob(node: RunningNode, key: string): Promise<{ status: number; body: Buffer }> {
  const res = await request(`${node.url}/blobs/${key}`, { headers: AUTH });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) };
}

async function getJson(node: RunningNode, path: string): Promise<any> {
  const res = await request(`${node.url}${path}`, { headers: AUTH });
  expect(res.statusCode).toBe(200);
  return res.body.json();
}

/** The pass a node starts with (over its empty store), so the test's own pass is the only one reading. */
async function firstPassDone(node: RunningNode): Promise<void> {
  await waitFor(() => node.scrubber.stats().lastPassAt !== null);
}

describe('a scrub pass', () => {
  it('quarantines exactly the blobs that no longer match their sidecar, and reports them', async () => {
    const node = await startTestNode({ scrubRate: 0 });
    const blobs = new Map<string, Buffer>([
      ['good-a', randomBytes(3000)],
      ['good-b', randomBytes(70_000)],
      ['good-c', randomBytes(1)],
      ['rotten', randomBytes(5000)],
      ['short', randomBytes(200_000)],
    ]);
    for (const [key, bytes] of blobs) await putBlob(node, key, bytes);
    // Read once, so their size and digest sit in the read cache as on a busy node.
    for (const key of blobs.keys()) expect((await getBlob(node, key)).status).toBe(200);

    flipByte(node.store.paths('rotten').blob, 1234);
    truncateSync(node.store.paths('short').blob, 100_000);
    const rottenBytes = readFileSync(node.store.paths('rotten').blob);

    const pass = await node.scrubber.runPass();
    expect(pass).toEqual({ scanned: 5, corrupt: ['rotten', 'short'] });

    expect(readdirSync(node.store.quarantineDir).sort()).toEqual([
      'rotten',
      'rotten.meta.json',
      'short',
      'short.meta.json',
    ]);
    expect(readFileSync(`${node.store.quarantineDir}/rotten`)).toEqual(rottenBytes);
    for (const key of ['rotten', 'short']) {
      const res = await request(`${node.url}/blobs/${key}`, { headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(await res.body.json()).toMatchObject({ error: { code: 'BLOB_NOT_FOUND' } });
      expect(existsSync(node.store.paths(key).blob)).toBe(false);
      expect(existsSync(node.store.paths(key).sidecar)).toBe(false);
    }
    for (const key of ['good-a', 'good-b', 'good-c']) {
      const read = await getBlob(node, key);
      expect(read.status).toBe(200);
      expect(read.body.equals(blobs.get(key)!)).toBe(true);
    }

    const listed = await getJson(node, '/blobs');
    expect(listed.blobs.map((blob: { key: string }) => blob.key)).toEqual(['good-a', 'good-b', 'good-c']);
    const stats = await getJson(node, '/stats');
    expect(stats).toMatchObject({
      blobCount: 3,
      usedBytes: 3000 + 70_000 + 1,
      scrub: { scanned: 5, corrupt: 2, lastPassAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    expect(node.scrubber.reports.pending(100)).toEqual(['rotten', 'short']);

    // What is left is intact.
    expect(await node.scrubber.runPass()).toEqual({ scanned: 3, corrupt: [] });
  });

  it('does not report a blob replaced while it was being read', async () => {
    // 384 KiB at 128 KiB/s: the pass reads the old bytes for about 3 s.
    const node = await startTestNode({ scrubRate: 128 * 1024, scrubIntervalMs: 3600_000 });
    await firstPassDone(node);
    await putBlob(node, 'changing', randomBytes(384 * 1024));
    const pass = node.scrubber.runPass();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const replacement = randomBytes(50_000);
    await putBlob(node, 'changing', replacement);

    expect(await pass).toEqual({ scanned: 0, corrupt: [] });
    expect(existsSync(node.store.quarantineDir)).toBe(false);
    expect(node.scrubber.reports.pending(100)).toEqual([]);
    const read = await getBlob(node, 'changing');
    expect(read.body.equals(replacement)).toBe(true);
    expect(await node.scrubber.runPass()).toEqual({ scanned: 1, corrupt: [] });
  });

  it('reads no faster than its rate: N bytes take at least N / rate seconds', async () => {
    const rate = 200 * 1024;
    const node = await startTestNode({ scrubRate: rate, scrubIntervalMs: 3600_000 });
    await firstPassDone(node);
    const sizes = [100 * 1024, 150 * 1024, 50 * 1024];
    for (const [index, size] of sizes.entries()) await putBlob(node, `blob-${index}`, randomBytes(size));
    const total = sizes.reduce((sum, size) => sum + size, 0);

    const started = performance.now();
    expect(await node.scrubber.runPass()).toEqual({ scanned: 3, corrupt: [] });
    const elapsedMs = performance.now() - started;
    // Timers round to whole milliseconds.
    expect(elapsedMs).toBeGreaterThanOrEqual((total / rate) * 1000 - 2);
  });

  it('runs by itself and starts again after its interval', async () => {
    const node = await startTestNode({ scrubRate: 64 * 2 ** 20, scrubIntervalMs: 50 });
    await putBlob(node, 'kept', randomBytes(1000));
    await putBlob(node, 'rotting', randomBytes(1000));
    await waitFor(() => node.scrubber.stats().scanned >= 4);
    flipByte(node.store.paths('rotting').blob, 10);
    await waitFor(() => node.scrubber.stats().corrupt === 1);
    expect(readdirSync(node.store.quarantineDir)).toContain('rotting');
    expect((await getBlob(node, 'kept')).status).toBe(200);
  });
});

interface FakeGateway {
  url: string;
  joins: JoinRequest[];
  /** Whether answers confirm the `corrupt` keys of a join. */
  confirm: boolean;
}

/** A stand-in gateway that records joins and confirms their corrupt keys only when told to. */
async function startFakeGateway(): Promise<FakeGateway> {
  const gateway: FakeGateway = { url: '', joins: [], confirm: false };
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const join = JSON.parse(text) as JoinRequest;
      gateway.joins.push(join);
      const reply = { ok: true, heartbeatMs: 50, ...(gateway.confirm && join.corrupt && { corruptReceived: true }) };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gateway;
}

describe('corrupt blob reports', () => {
  it('travel up the tree in joins, unchanged, until the gateway confirms them', async () => {
    const gateway = await startFakeGateway();
    const middle = await startTestNode({ parentUrl: gateway.url, heartbeatMs: 50, scrubRate: 0 });
    const leaf = await startTestNode({ parentUrl: middle.url, heartbeatMs: 50, scrubRate: 0 });
    for (const key of ['x-1', 'x-2', 'x-3']) await putBlob(leaf, key, randomBytes(2000));
    flipByte(leaf.store.paths('x-1').blob, 0);
    flipByte(leaf.store.paths('x-3').blob, 1999);
    expect((await leaf.scrubber.runPass()).corrupt).toEqual(['x-1', 'x-3']);

    const reportsOfLeaf = () => gateway.joins.filter((join) => join.nodeId === leaf.nodeId && join.corrupt);
    // Not confirmed yet: sent again with every heartbeat.
    await waitFor(() => reportsOfLeaf().length >= 3);
    for (const join of reportsOfLeaf())
      expect(join).toMatchObject({ parentId: middle.nodeId, corrupt: ['x-1', 'x-3'] });
    expect(gateway.joins.some((join) => join.nodeId === middle.nodeId && join.corrupt)).toBe(false);

    gateway.confirm = true;
    await waitFor(() => leaf.scrubber.reports.pending(100).length === 0);
    const sent = reportsOfLeaf().length;
    const joinsBefore = gateway.joins.filter((join) => join.nodeId === leaf.nodeId).length;
    await waitFor(() => gateway.joins.filter((join) => join.nodeId === leaf.nodeId).length >= joinsBefore + 3);
    expect(reportsOfLeaf().length).toBe(sent);
  });

  it('are refused in a join unless they are valid blob keys', async () => {
    const node = await startTestNode({ scrubRate: 0 });
    const join = {
      nodeId: 'child-1',
      url: 'http://127.0.0.1:1',
      bootId: 'boot-1',
      stats: { blobCount: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0 },
    };
    for (const corrupt of [['../node.json'], 'x-1', Array.from({ length: 101 }, (_, i) => `k-${i}`)]) {
      const res = await request(`${node.url}/join`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ ...join, corrupt }),
      });
      expect(res.statusCode).toBe(400);
      expect(await res.body.json()).toMatchObject({ error: { code: 'BAD_REQUEST', message: /corrupt/ } });
    }
  });

  it('of blobs quarantined before a restart are queued again unless the blob is back', async () => {
    const first = await startTestNode({ scrubRate: 0 });
    for (const key of ['lost-1', 'lost-2']) await putBlob(first, key, randomBytes(500));
    flipByte(first.store.paths('lost-1').blob, 5);
    flipByte(first.store.paths('lost-2').blob, 5);
    expect((await first.scrubber.runPass()).corrupt).toEqual(['lost-1', 'lost-2']);
    // A good copy of lost-2 came back (a repair) before the node stopped.
    await putBlob(first, 'lost-2', randomBytes(500));
    await first.close();

    const again = await startTestNode({ dataDir: first.dataDir, scrubRate: 0 });
    await waitFor(() => again.scrubber.reports.pending(100).length > 0);
    expect(again.scrubber.reports.pending(100)).toEqual(['lost-1']);
  });
});

describe('the scrubRate setting', () => {
  it('takes a byte rate, with or without /s, and 0 to turn scrubbing off', () => {
    const parse = (scrubRate: string) => parseNodeConfig({ flags: { secret: 's', scrubRate } }).scrubRate;
    expect(parse('32MB')).toBe(32_000_000);
    expect(parse('64MiB/s')).toBe(64 * 2 ** 20);
    expect(parse('0')).toBe(0);
    expect(parseNodeConfig({ yamlText: 'secret: s\nscrubRate: 1GB\n' }).scrubRate).toBe(1e9);
    expect(parseNodeConfig({ flags: { secret: 's' } }).scrubRate).toBeUndefined();
    expect(() => parse('fast')).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/scrubRate/) }),
    );
  });
});
