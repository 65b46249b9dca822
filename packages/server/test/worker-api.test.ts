import { randomUUID } from 'node:crypto';
import { PLAIN_HTTP } from '@legim/node';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openIndexEngine } from '../src/backends/open-backends.js';
import { GatewayWorkerClient } from '../src/workers/gateway-worker-client.js';
import { call, findFiles, queryIndex, uploadBytes, waitFor } from './support.js';
import { workerStoreContract } from './worker-store.contract.js';

// The gateway does no image work (workers 0) and sweeps only at start (1 h), so what
// the tests record stays in the index to be checked, and only an explicit reap removes files.
let cluster: TestCluster;
/** The gateway's own index, opened as `legim worker --data` on its host does. */
let sqlite: IndexEngine;
let remote: GatewayWorkerClient;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, gateway: { workers: '0', sweepInterval: '3600' } });
  sqlite = await openIndexEngine({ kind: 'sqlite', path: join(cluster.gateway.dataDir, 'metadata.db') });
  remote = await GatewayWorkerClient.connect(cluster.gateway.url, testClusterSecret, PLAIN_HTTP.peers);
});
afterAll(async () => {
  await remote?.close();
  await sqlite?.close();
  await cluster?.close();
});

workerStoreContract(
  'SQLite, on the gateway host',
  () => cluster,
  () => sqlite.metadata,
);
workerStoreContract(
  'the gateway internal API',
  () => cluster,
  () => remote,
);

describe('the internal worker API', () => {
  const api = (path: string, init: RequestInit & { secret?: string | null } = {}) => {
    const { secret = testClusterSecret, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (secret !== null) headers.set('authorization', `Bearer ${secret}`);
    if (rest.body !== undefined) headers.set('content-type', 'application/json');
    return call(`${cluster.gateway.url}/internal/v1${path}`, { ...rest, headers });
  };

  it('refuses a request without the cluster secret, with a wrong one, or with the admin key', async () => {
    for (const secret of [null, 'wrong-secret-0123456789abcdef', testAdminKey]) {
      const reply = await api('/nodes', { secret });
      expect(reply.status, String(secret)).toBe(401);
      expect(reply.json.error.code).toBe('UNAUTHORIZED');
      expect(reply.json.error.message).toMatch(/cluster secret/);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    }
    const post = await api(`/files/${randomUUID()}/failed`, {
      method: 'POST',
      secret: 'wrong-secret-0123456789abcdef',
      body: JSON.stringify({ reason: 'x' }),
    });
    expect(post.status).toBe(401);
  });

  it('a worker client with a wrong secret fails to connect with a message that says what to do', async () => {
    const error = await GatewayWorkerClient.connect(
      cluster.gateway.url,
      'wrong-secret-0123456789abcdef',
      PLAIN_HTTP.peers,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((error as Error).message).toMatch(/refused the cluster secret.*--secret or LEGIM_CLUSTER_SECRET/);
  });

  it('refuses malformed requests with 400 BAD_REQUEST and never a 500', async () => {
    const id = randomUUID();
    const cases: [string, RequestInit][] = [
      ['/files/not-a-uuid', {}],
      ['/blobs/..%2Fetc%2Fpasswd/replicas', {}],
      [`/blobs/${id}.thumb/intent`, { method: 'POST', body: '{"nodeIds": ["n1"]}' }],
      [`/blobs/${id}.thumb/intent`, { method: 'POST', body: '{"nodeIds": "n1", "forMs": 1000}' }],
      [`/blobs/${id}.thumb/intent`, { method: 'POST', body: '{"nodeIds": ["../x"], "forMs": 1000}' }],
      [`/blobs/${id}.thumb/intent`, { method: 'POST', body: '{"nodeIds": ["n1"], "forMs": -5}' }],
      [`/blobs/${id}.a.b/intent`, { method: 'POST', body: '{"nodeIds": ["n1"], "forMs": 5}' }],
      [`/files/${id}/variants`, { method: 'POST', body: 'not json' }],
      [`/files/${id}/variants`, { method: 'POST', body: '{"variants": [{"variant": {"name": "thumb"}}]}' }],
      [`/files/${id}/variants`, { method: 'POST', body: '[]' }],
      [`/files/${id}/failed`, { method: 'POST', body: '{"reason": 42}' }],
      [`/files/${id}/failed`, { method: 'POST', body: JSON.stringify({ reason: 'x'.repeat(5000) }) }],
      ['/blob-deletes', { method: 'POST', body: '{"locations": [{"nodeId": "n1", "key": "/etc/passwd"}]}' }],
    ];
    for (const [path, init] of cases) {
      const reply = await api(path, init);
      expect(reply.status, `${init.method ?? 'GET'} ${path} ${String(init.body)}`).toBe(400);
      expect(reply.json.error.code).toBe('BAD_REQUEST');
      expect(reply.json.error.message).not.toMatch(/^\s*$/);
    }
    const large = await api(`/files/${id}/variants`, {
      method: 'POST',
      body: JSON.stringify({ pad: 'x'.repeat(70_000) }),
    });
    expect(large.status).toBe(413);
    expect(large.json.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 404 FILE_NOT_FOUND for an unknown file and never shows the delete token hash', async () => {
    const unknown = await api(`/files/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('FILE_NOT_FOUND');
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('tiny-1x1.png'));
    const known = await api(`/files/${up.json.id}`);
    expect(known.status).toBe(200);
    expect(known.json.file.id).toBe(up.json.id);
    expect(Object.keys(known.json.file)).not.toContain('deleteTokenHash');
    expect(known.body.toString()).not.toContain(
      queryIndex<{ h: string }>(
        cluster.gateway.dataDir,
        'SELECT delete_token_hash AS h FROM files WHERE id = ?',
        up.json.id,
      )[0]!.h,
    );
  });

  it('reaps a due file through the gateway: tombstone, and every blob gone from every node', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { ttl: '4s' });
    const id = up.json.id as string;
    const indexed = () => queryIndex(cluster.gateway.dataDir, 'SELECT id FROM files WHERE id = ?', id);
    // Not due yet: nothing happens.
    await remote.reap(id);
    expect(indexed()).toEqual([{ id }]);
    const blobs = () => cluster.nodes.flatMap((node) => findFiles(join(node.dataDir, 'blobs'), id));
    await waitFor(() => blobs().filter((path) => !path.endsWith('.json')).length === 3, 'three copies');
    await waitFor(async () => (await call(`${cluster.gateway.url}/v1/files/${id}`)).status === 410, 'expiry', 10_000);
    await remote.reap(id);
    expect(blobs()).toEqual([]);
    expect(indexed()).toEqual([]);
    expect(queryIndex(cluster.gateway.dataDir, 'SELECT reason FROM tombstones WHERE id = ?', id)).toEqual([
      { reason: 'expired' },
    ]);
    // Twice does no harm.
    await remote.reap(id);
    expect((await call(`${cluster.gateway.url}/v1/files/${id}`)).json.error.code).toBe('EXPIRED');
  });

  it('fails loudly, never as "file gone", when the gateway cannot be reached', async () => {
    const client = await GatewayWorkerClient.connect(cluster.gateway.url, testClusterSecret, PLAIN_HTTP.peers);
    const id = (await uploadBytes(cluster.gateway.url, fixtureBytes('tiny-1x1.png'))).json.id as string;
    expect((await client.getFile(id))?.id).toBe(id);
    await client.close();
    await expect(client.getFile(id)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const closed = await GatewayWorkerClient.connect('http://127.0.0.1:1', testClusterSecret, PLAIN_HTTP.peers).catch(
      (e: unknown) => e,
    );
    expect(closed).toMatchObject({ code: 'UNAVAILABLE' });
    expect((closed as Error).message).toMatch(/unreachable.*--gateway/);
  });
});
