import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '@legim/server';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { admin, call, queryIndex, uploadBytes, waitFor } from './support.js';

interface Purge {
  method: string;
  url: string;
  key: string | undefined;
}

/** A CDN's purge API as a real HTTP server: records each request; the first one to each URL fails, as a busy API does. */
async function startCdn(): Promise<{ url: string; purges: Purge[]; server: Server }> {
  const purges: Purge[] = [];
  const seen = new Set<string>();
  const server = createServer((req: IncomingMessage, res) => {
    purges.push({ method: req.method!, url: req.url!, key: req.headers['cdn-key'] as string | undefined });
    const first = !seen.has(req.url!);
    seen.add(req.url!);
    res.writeHead(first ? 503 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, purges, server };
}

describe('the CDN purge hook', () => {
  let cluster: TestCluster;
  let cdn: Awaited<ReturnType<typeof startCdn>>;

  beforeAll(async () => {
    cdn = await startCdn();
    cluster = await startCluster({
      // Three nodes, a write quorum of two: one node slow to answer a probe on a busy machine fails nothing.
      nodes: 3,
      gateway: {
        deleteGrace: '0',
        purgeUrl: `${cdn.url}/purge{path}`,
        purgeMethod: 'purge',
        purgeHeader: 'CDN-Key: k-123',
      },
    });
  });
  afterAll(async () => {
    await cluster?.close();
    cdn?.server.close();
  });

  const previewPaths = (id: string) =>
    ['thumb', 'small', 'webp', 'full'].map((name) => `/purge/v1/files/${id}/variants/${name}`).sort();
  const purgedOnce = (id: string) =>
    [...new Set(cdn.purges.filter((p) => p.url.includes(id)).map((p) => p.url))].sort();

  it('purges every preview of a file used up or deleted before its expiry, retrying a CDN that fails', async () => {
    const used = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { downloads: 1 });
    const deleted = await uploadBytes(cluster.gateway.url, fixtureBytes('png-palette.png'), { downloads: 5 });
    const download = await call(`${cluster.gateway.url}/d/${used.json.id}`);
    expect(download.status, JSON.stringify(download.json)).toBe(200);
    expect(
      (await call(`${cluster.gateway.url}/v1/files/${deleted.json.id}`, { method: 'DELETE', headers: admin })).status,
    ).toBe(204);

    for (const id of [used.json.id as string, deleted.json.id as string]) {
      // Each URL: one refused attempt, then one that went through.
      await waitFor(
        async () => cdn.purges.filter((p) => p.url.includes(id)).length === 8,
        `the purges of ${id}`,
        20_000,
      );
      expect(purgedOnce(id)).toEqual(previewPaths(id));
    }
    expect(new Set(cdn.purges.map((p) => `${p.method} ${p.key}`))).toEqual(new Set(['PURGE k-123']));
  });

  it('purges when an edit brings the expiry closer, not when it moves it away', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { ttl: '1h' });
    const edit = (ttl: string) =>
      call(`${cluster.gateway.url}/v1/files/${up.json.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${up.json.deleteToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ttl }),
      });
    expect((await edit('2h')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(cdn.purges.filter((p) => p.url.includes(up.json.id))).toEqual([]);
    expect((await edit('10m')).status).toBe(200);
    await waitFor(async () => purgedOnce(up.json.id).length === 4, 'the purge after the edit', 20_000);
    expect(purgedOnce(up.json.id)).toEqual(previewPaths(up.json.id));
  });

  it('leaves a file that simply expired alone: its previews expire in every cache at that moment', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('png-palette.png'), { ttl: '1s' });
    await waitFor(
      async () => (await queryIndex(cluster, 'SELECT id FROM files WHERE id = ?', up.json.id)).length === 0,
      'the sweep to reap it',
      15_000,
    );
    // A purge would have gone out with the reap; give one time to show up.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(cdn.purges.filter((p) => p.url.includes(up.json.id))).toEqual([]);
  });

  it('refuses purge settings it could not honour', () => {
    const parse = (flags: Record<string, string>) => () => parseGatewayConfig({ flags });
    expect(parse({ purgeUrl: 'https://cdn.example/purge' })).toThrow(/\{path\}.*\{id\}/);
    expect(parse({ purgeUrl: 'ftp://cdn.example/{id}' })).toThrow(/http\(s\) URL/);
    expect(parse({ purgeUrl: 'https://cdn.example/{id}', purgeMethod: 'PATCH' })).toThrow(/POST, PURGE/);
    expect(parse({ purgeUrl: 'https://cdn.example/{id}', purgeHeader: 'no colon' })).toThrow(/Name: value/);
    expect(parse({ purgeMethod: 'POST' })).toThrow(/purgeUrl/);
    expect(parseGatewayConfig({ flags: { purgeUrl: 'https://cdn.example/p?id={id}' } }).purge).toEqual({
      template: 'https://cdn.example/p?id={id}',
      method: 'POST',
    });
  });
});
