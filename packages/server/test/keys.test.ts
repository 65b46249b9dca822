import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags, RunningGateway } from '@legim/server';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { deleteRedisKeys } from '../../../test-support/redis-keys.js';
import { admin, call, waitFor, type Reply } from './support.js';

const PHOTO = fixtureBytes('photo-small-flower-1600x1203.jpg');
const REDIS_PREFIX = `test-keys-${randomBytes(6).toString('hex')}:`;

/**
 * `--uploads key` on two gateways sharing one index and one Redis: keys,
 * scopes, revocation, quotas and rate limits hold across both, and the
 * probes answer without credentials.
 */
describe('API keys, quotas and rate limits on two gateways', () => {
  let cluster: TestCluster;
  let other: RunningGateway;
  const flags: GatewayFlags = {
    uploads: 'key',
    redis: 'redis://127.0.0.1:6379',
    redisPrefix: REDIS_PREFIX,
    // Per hour, so that no token comes back during the test: the counts are exact.
    downloadRatePerAddress: '4/h',
    uploadRate: '1000/h',
  };
  const gateways = () => [cluster.gateway.url, other.url];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: flags });
    other = await cluster.startPeerGateway();
  });
  afterAll(async () => {
    await other?.close();
    await cluster?.close();
    await deleteRedisKeys(REDIS_PREFIX);
  });

  async function createKey(body: object): Promise<{ id: string; secret: string }> {
    const reply = await call(`${cluster.gateway.url}/v1/keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(reply.status).toBe(201);
    return reply.json;
  }

  function upload(url: string, secret?: string, query = 'downloads=100'): Promise<Reply> {
    return call(`${url}/v1/files?${query}`, {
      method: 'POST',
      body: PHOTO,
      headers: { 'content-type': 'image/jpeg', ...(secret && { authorization: `Bearer ${secret}` }) },
    });
  }

  it('refuses anonymous uploads, takes a key with the upload scope on either gateway, refuses one without', async () => {
    const anonymous = await upload(cluster.gateway.url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('UNAUTHORIZED');

    const uploader = await createKey({ name: 'uploader', scopes: ['upload'] });
    for (const url of gateways()) expect((await upload(url, uploader.secret)).status).toBe(201);

    const reader = await createKey({ name: 'reader', scopes: ['read'] });
    const refused = await upload(other.url, reader.secret);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('MISSING_SCOPE');

    const wrong = await upload(other.url, 'lgm_000000000000_not-a-real-secret');
    expect(wrong.status).toBe(401);
  });

  it('refuses a revoked key on every gateway within a second', async () => {
    const key = await createKey({ name: 'soon revoked', scopes: ['upload'] });
    expect((await upload(other.url, key.secret)).status).toBe(201);
    const revoked = await call(`${cluster.gateway.url}/v1/keys/${key.id}`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).not.toBeNull();
    const start = Date.now();
    for (const url of gateways()) {
      await waitFor(async () => (await upload(url, key.secret)).status === 401, 'the revocation', 1000);
    }
    expect(Date.now() - start).toBeLessThan(2000);
    expect((await upload(other.url, key.secret)).json.error.code).toBe('KEY_REVOKED');
  });

  it('holds quotas with their own codes: size 413, files, ttl and downloads 403', async () => {
    const small = await createKey({ name: 'small', scopes: ['upload'], quotas: { maxFileBytes: 1000 } });
    const tooBig = await upload(cluster.gateway.url, small.secret);
    expect([tooBig.status, tooBig.json.error.code]).toEqual([413, 'QUOTA_FILE_TOO_LARGE']);

    const quotas = { maxFiles: 2, maxTtlSeconds: 3600, maxDownloads: 5 };
    const limited = await createKey({ name: 'limited', scopes: ['upload'], quotas });
    const longTtl = await upload(cluster.gateway.url, limited.secret, 'downloads=1&ttl=2h');
    expect([longTtl.status, longTtl.json.error.code]).toEqual([403, 'QUOTA_TTL_EXCEEDED']);
    const manyDownloads = await upload(cluster.gateway.url, limited.secret, 'downloads=6');
    expect([manyDownloads.status, manyDownloads.json.error.code]).toEqual([403, 'QUOTA_DOWNLOADS_EXCEEDED']);
    // Two files at once, on both gateways: the third is refused wherever it goes.
    const statuses = await Promise.all(
      [...gateways(), ...gateways()].map(async (url) => (await upload(url, limited.secret, 'downloads=1')).status),
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(2);
    expect(statuses.filter((status) => status === 403)).toHaveLength(2);
  });

  it('limits downloads per address across both gateways, with 429, Retry-After and RateLimit headers', async () => {
    const key = await createKey({ name: 'downloads', scopes: ['upload'] });
    const { id } = (await upload(cluster.gateway.url, key.secret)).json;
    const replies: Reply[] = [];
    for (let i = 0; i < 8; i++) replies.push(await call(`${gateways()[i % 2]}/d/${id}`));
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect(replies[0]!.headers.get('ratelimit-limit')).toBe('4');
    expect(replies[3]!.headers.get('ratelimit-remaining')).toBe('0');
    const refused = replies[4]!;
    expect(refused.json.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    // A refused request takes no download.
    expect((await call(`${cluster.gateway.url}/v1/files/${id}`)).json.downloadsLeft).toBe(96);
  });

  it('answers the probes without credentials: a status and nothing more', async () => {
    expect(await statusOf(`${other.url}/livez`)).toEqual([200, { status: 'ok' }]);
    expect(await statusOf(`${other.url}/readyz`)).toEqual([200, { status: 'ready' }]);
    expect(await statusOf(`${other.url}/v1/health`)).toEqual([200, { status: 'ok' }]);
    const detailed = await call(`${other.url}/v1/health`, { headers: admin });
    expect(detailed.json.nodes.up).toBe(3);
    expect((await call(`${other.url}/v1/health`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });
});

/** `/readyz` turns 503 when fewer nodes than the write quorum are up, and back. */
describe('/readyz', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, gateway: { replicas: 2, writeQuorum: 2 } });
  });
  afterAll(() => cluster?.close());

  it('is 503 while fewer nodes than the write quorum are up', async () => {
    const { url } = cluster.gateway;
    expect(await statusOf(`${url}/readyz`)).toEqual([200, { status: 'ready' }]);
    await cluster.nodes[0]!.kill();
    await waitFor(async () => (await statusOf(`${url}/readyz`))[0] === 503, 'readyz to say not ready');
    expect(await statusOf(`${url}/readyz`)).toEqual([503, { status: 'not-ready' }]);
    expect(await statusOf(`${url}/livez`)).toEqual([200, { status: 'ok' }]);
  });
});

async function statusOf(url: string): Promise<[number, unknown]> {
  const reply = await call(url);
  return [reply.status, reply.json];
}
