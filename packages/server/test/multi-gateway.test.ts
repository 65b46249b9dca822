import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags } from '@legim/server';
import { fixtureBytes, repoRoot, sha256 } from '../../../test-support/fixtures.js';
import { freePort } from '../../../test-support/free-port.js';
import { startNginx, type RunningNginx } from '../../../test-support/nginx.js';
import { gatewayProxyConfig, OPERATIONS_EXAMPLE } from '../../../test-support/nginx-config.mjs';
import { startGatewayProcess, startNodeProcess, type ServerProcess } from '../../../test-support/processes.js';
import { countBy, expectEveryUploadServed, killGatewayUnderUploadLoad } from './gateway-kill-under-load.js';
import { call, uploadBytes, waitFor, type Reply, waitForNodesUp } from './support.js';
import { deleteRedisKeys, redisKeys } from '../../../test-support/redis-keys.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PHOTO = fixtureBytes('photo-small-flower-1600x1203.jpg');
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;

/** Each run once with the embedded counters and once with Redis (unique key prefix per run). */
const BACKENDS: { name: string; flags: GatewayFlags }[] = [
  { name: 'SQLite counters', flags: {} },
  { name: 'Redis counters', flags: { redis: REDIS_URL, redisPrefix: `test-${randomBytes(6).toString('hex')}:` } },
];

describe.each(BACKENDS)('two gateway processes on one data dir behind nginx ($name)', ({ flags }) => {
  let dir: string;
  let nginx: RunningNginx;
  let gatewayA: ServerProcess;
  let gatewayB: ServerProcess;
  const nodes: ServerProcess[] = [];
  /** host:port, as nginx's access log names the gateways. */
  const hostOf = (gateway: ServerProcess) => new URL(gateway.url).host;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-multi-gateway-'));
    // nginx's port first: both gateways hand out links through it.
    const port = await freePort();
    const shared: GatewayFlags = {
      data: join(dir, 'gateway'),
      publicUrl: `http://127.0.0.1:${port}`,
      workers: 1,
      maxUpload: String(MAX_UPLOAD_BYTES),
      ...flags,
    };
    // One after the other: the first creates identity.json and the database, the second finds them.
    gatewayA = await startGatewayProcess(shared);
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startNodeProcess({ dataDir: join(dir, `node-${i}`), parentUrl: gatewayA.url }));
    }
    await waitForNodesUp(gatewayA, 3);
    // B hears no heartbeats: it knows the nodes from the shared database and probes them itself.
    gatewayB = await startGatewayProcess(shared);
    await waitForNodesUp(gatewayB, 3);
    nginx = await startNginx({ upstreams: [gatewayA.url, gatewayB.url], port, maxUploadBytes: MAX_UPLOAD_BYTES });
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([gatewayA, gatewayB, ...nodes].map((proc) => proc?.kill('SIGTERM')));
    if (flags.redis) await deleteRedisKeys(String(flags.redisPrefix));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lets exactly 7 of 500 simultaneous downloads through nginx, served by both gateways', async () => {
    const up = await uploadBytes(nginx.url, PHOTO, { downloads: 7 });
    expect(up.status).toBe(201);
    expect(up.json.url).toBe(`${nginx.url}/d/${up.json.id}`);

    const replies = await Promise.all(Array.from({ length: 500 }, () => call(up.json.url)));
    const ok = replies.filter((r) => r.status === 200);
    const gone = replies.filter((r) => r.status === 410);
    expect(ok).toHaveLength(7);
    expect(gone).toHaveLength(493);
    for (const reply of ok) expect(sha256(reply.body)).toBe(sha256(PHOTO));
    for (const reply of gone) expect(reply.json.error.code).toBe('DOWNLOADS_EXHAUSTED');
    expect(new Set(ok.map((r) => r.headers.get('legim-downloads-left')))).toEqual(
      new Set(['0', '1', '2', '3', '4', '5', '6']),
    );

    const served = nginx.accessLog().filter((entry) => entry.path === `/d/${up.json.id}`);
    expect(served).toHaveLength(500);
    const byGateway = countBy(served.map((entry) => entry.upstreams.at(-1)!));
    expect(byGateway.get(hostOf(gatewayA))).toBeGreaterThan(0);
    expect(byGateway.get(hostOf(gatewayB))).toBeGreaterThan(0);

    if (flags.redis) {
      // The Redis run must really count in Redis, not fall back to SQLite.
      expect(await redisKeys(String(flags.redisPrefix)), 'no key under the run prefix: is Redis wired?').not.toEqual(
        [],
      );
    }
  });

  it('shows a delete made through gateway A on gateway B within 1 s', async () => {
    const up = await uploadBytes(nginx.url, PHOTO, { downloads: 100 });
    expect(up.status).toBe(201);
    const id: string = up.json.id;
    // B has served the file, so it holds it in its metadata cache.
    expect((await call(`${gatewayB.url}/d/${id}`)).status).toBe(200);
    expect((await call(`${gatewayB.url}/v1/files/${id}`)).status).toBe(200);

    const deleted = await call(`${gatewayA.url}/v1/files/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${up.json.deleteToken}` },
    });
    expect(deleted.status).toBe(204);
    const started = performance.now();
    let reply: Reply;
    for (;;) {
      reply = await call(`${gatewayB.url}/d/${id}`);
      if (reply.status === 404 || reply.status === 410 || performance.now() - started > 5000) break;
      await sleep(50);
    }
    const elapsedMs = performance.now() - started;
    expect(reply.status).toBe(410);
    expect(reply.json.error.code).toBe('DELETED');
    expect(elapsedMs).toBeLessThan(1000);
    const info = await call(`${gatewayB.url}/v1/files/${id}`);
    expect([404, 410]).toContain(info.status);
  });

  it('refuses an upload over --max-upload with a JSON 413, from the gateway or from nginx', async () => {
    // Just over: nginx lets it through (it allows 1 MiB for a multipart envelope), the gateway refuses.
    const overGateway = await uploadBytes(nginx.url, Buffer.alloc(MAX_UPLOAD_BYTES + 1));
    expect(overGateway.status).toBe(413);
    expect(overGateway.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    // Past nginx's client_max_body_size: nginx refuses before any gateway sees it, in the same shape.
    const overNginx = await uploadBytes(nginx.url, Buffer.alloc(MAX_UPLOAD_BYTES + 2 * 1024 * 1024));
    expect(overNginx.status).toBe(413);
    expect(overNginx.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    // nginx logs a request it refused once it has drained the body the client was still sending.
    const refused = () => nginx.accessLog().filter((entry) => entry.method === 'POST' && entry.status === 413);
    await waitFor(() => refused().length === 2, 'both 413s in the access log');
    expect(refused().map((entry) => entry.upstreams.length)).toEqual(expect.arrayContaining([0, 1]));
  });

  // Last: gateway A stays dead.
  it('keeps every acknowledged upload when a gateway is SIGKILLed under upload load', async () => {
    const acknowledged = await killGatewayUnderUploadLoad({
      nginx,
      gatewayA,
      gatewayB,
      photo: PHOTO,
      label: 'multi-gateway',
    });

    // No acknowledged upload is lost: each one downloads through nginx, byte for byte.
    await expectEveryUploadServed(acknowledged, nginx.url);
    // Meanwhile nginx sent nothing to A but (at most) a connection attempt every fail_timeout.
    const checks = nginx.accessLog().slice(-acknowledged.length);
    for (const entry of checks) expect(entry.upstreams.at(-1)).toBe(hostOf(gatewayB));
  });
});

describe('docs/operations.md', () => {
  it('shows the nginx configuration the tests and benchmarks run', () => {
    const docs = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8');
    const shown = /```nginx\n([\s\S]*?)```/.exec(docs)?.[1];
    // If this fails: paste the output of `node test-support/nginx-config.mjs` into the docs.
    expect(shown).toBe(gatewayProxyConfig(OPERATIONS_EXAMPLE));
  });
});
