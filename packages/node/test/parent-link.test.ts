import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { JoinRequest } from '../src/index.js';
import { AUTH, SECRET, startTestNode, waitFor } from './support.js';

interface ReceivedJoin {
  body: JoinRequest;
  headers: IncomingHttpHeaders;
}

/** A stand-in gateway: a plain HTTP server that records every join. */
async function startFakeParent(
  options: { port?: number; heartbeatMs?: number } = {},
): Promise<{ url: string; joins: ReceivedJoin[]; server: Server }> {
  const joins: ReceivedJoin[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/join')
        joins.push({ body: JSON.parse(text) as JoinRequest, headers: req.headers });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, heartbeatMs: options.heartbeatMs ?? 50 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, joins, server };
}

function joinsFrom(joins: ReceivedJoin[], nodeId: string): ReceivedJoin[] {
  return joins.filter((join) => join.body.nodeId === nodeId);
}

describe('joining the tree', () => {
  it('joins its parent at start and keeps heartbeating with fresh stats', async () => {
    const parent = await startFakeParent();
    const node = await startTestNode({ parentUrl: parent.url, heartbeatMs: 50 });
    await waitFor(() => joinsFrom(parent.joins, node.nodeId).length >= 3);

    const [first] = joinsFrom(parent.joins, node.nodeId);
    expect(first?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(first?.body).toEqual({
      nodeId: node.nodeId,
      url: node.url,
      bootId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      stats: {
        blobCount: 0,
        usedBytes: 0,
        freeBytes: expect.any(Number),
        totalBytes: expect.any(Number),
        filesystem: {
          id: expect.stringMatching(/^[0-9a-f]{16}:\d+$/),
          totalBytes: expect.any(Number),
          freeBytes: expect.any(Number),
        },
      },
    });

    const bytes = Buffer.from('fresh stats');
    const { createHash } = await import('node:crypto');
    const put = await request(`${node.url}/blobs/counted`, {
      method: 'PUT',
      headers: { ...AUTH, 'legim-sha256': createHash('sha256').update(bytes).digest('hex') },
      body: bytes,
    });
    expect(put.statusCode).toBe(201);
    await put.body.dump();
    await waitFor(() =>
      parent.joins.some((join) => join.body.stats.blobCount === 1 && join.body.stats.usedBytes === bytes.length),
    );
    await waitFor(() => node.parentLink?.status().connected === true);
  });

  it('relays the joins of its children, and theirs, naming the right parent', async () => {
    const gateway = await startFakeParent();
    const cluster = await startTestNode({ parentUrl: gateway.url, heartbeatMs: 50 });
    const leaf = await startTestNode({ parentUrl: cluster.url, heartbeatMs: 50 });
    const grandchild = await startTestNode({ parentUrl: leaf.url, heartbeatMs: 50 });

    await waitFor(
      () =>
        joinsFrom(gateway.joins, cluster.nodeId).length > 0 &&
        joinsFrom(gateway.joins, leaf.nodeId).length > 0 &&
        joinsFrom(gateway.joins, grandchild.nodeId).length > 0,
    );
    expect(joinsFrom(gateway.joins, cluster.nodeId)[0]?.body.parentId).toBeUndefined();
    expect(joinsFrom(gateway.joins, leaf.nodeId)[0]?.body).toMatchObject({ parentId: cluster.nodeId, url: leaf.url });
    expect(joinsFrom(gateway.joins, grandchild.nodeId)[0]?.body).toMatchObject({
      parentId: leaf.nodeId,
      url: grandchild.url,
    });
    // Relayed as sent: all three store in one temporary folder's filesystem, and say so alike.
    const filesystems = [cluster, leaf, grandchild].map(
      (node) =>
        (joinsFrom(gateway.joins, node.nodeId)[0]?.body.stats as { filesystem?: { id: string } }).filesystem?.id,
    );
    expect(filesystems[0]).toEqual(expect.any(String));
    expect(new Set(filesystems).size).toBe(1);
    for (const join of gateway.joins) expect(join.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('retries with back-off while the parent is down, serving meanwhile, and joins once it is up', async () => {
    const placeholder = await startFakeParent();
    const port = Number(new URL(placeholder.url).port);
    await new Promise<void>((resolve) => {
      placeholder.server.closeAllConnections();
      placeholder.server.close(() => resolve());
    });

    const node = await startTestNode({ parentUrl: `http://127.0.0.1:${port}`, heartbeatMs: 20 });
    await waitFor(() => (node.parentLink?.status().consecutiveFailures ?? 0) >= 3);
    expect(node.parentLink?.status()).toMatchObject({ connected: false, lastError: expect.any(String) });
    const health = await request(`${node.url}/health`, { headers: AUTH });
    expect(health.statusCode).toBe(200);
    await health.body.dump();

    const parent = await startFakeParent({ port });
    await waitFor(() => node.parentLink?.status().connected === true, 10_000);
    expect(node.parentLink?.status()).toMatchObject({ consecutiveFailures: 0, lastError: undefined });
    expect(joinsFrom(parent.joins, node.nodeId).length).toBeGreaterThan(0);
  });

  it('adopts the heartbeat interval its parent asks for', async () => {
    const parent = await startFakeParent({ heartbeatMs: 30 });
    const node = await startTestNode({ parentUrl: parent.url, heartbeatMs: 5000 });
    await waitFor(() => joinsFrom(parent.joins, node.nodeId).length >= 3, 3000);
    expect(node.parentLink?.status().heartbeatMs).toBe(30);
  });

  it('stops heartbeating when closed', async () => {
    const parent = await startFakeParent();
    const node = await startTestNode({ parentUrl: parent.url, heartbeatMs: 20 });
    await waitFor(() => joinsFrom(parent.joins, node.nodeId).length > 0);
    await node.close();
    // A join already on the wire when close() aborted it may still land.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const count = parent.joins.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(parent.joins.length).toBe(count);
  });
});
