import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags } from '@legim/server';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { freePort } from '../../../test-support/free-port.js';
import { startGatewayProcess, startNodeProcess, type ServerProcess } from '../../../test-support/processes.js';
import { freshDatabase, type TestDatabase } from '../../../test-support/test-database.js';
import { admin, call, uploadBytes, waitFor } from './support.js';

// Losing a gateway host: the process SIGKILLed and its whole data folder gone (identity.json, and with
// SQLite the index too). A new gateway on that host gets the same --admin-key and --secret flags
// (startGatewayProcess passes the test cluster's) and an empty folder.

interface Photo {
  id: string;
  url: string;
  sha: string;
  max: number;
  /** Downloads served so far (200 with the right body). */
  served: number;
}

const NAMES = ['photo-small-flower-1600x1203.jpg', 'png-alpha.png', 'jpeg-progressive.jpg'];
const LIMITS = [3, 20, 1000];

async function uploadPhotos(gatewayUrl: string): Promise<Photo[]> {
  const photos: Photo[] = [];
  for (const [i, name] of NAMES.entries()) {
    const bytes = fixtureBytes(name);
    const up = await uploadBytes(gatewayUrl, bytes, { downloads: LIMITS[i]! });
    expect(up.status, JSON.stringify(up.json)).toBe(201);
    photos.push({ id: up.json.id, url: up.json.url, sha: sha256(bytes), max: LIMITS[i]!, served: 0 });
  }
  await waitFor(
    async () => {
      const infos = await Promise.all(photos.map((p) => call(`${gatewayUrl}/v1/files/${p.id}`)));
      return infos.every((info) => info.json.status === 'ready' && info.json.replicas === 3);
    },
    'the variants and 3 copies',
    30_000,
  );
  return photos;
}

/** Takes up to `atMost` downloads (through `gatewayUrl`), each checked byte for byte; stops at the first refusal. */
async function download(gatewayUrl: string, photo: Photo, atMost = Infinity): Promise<number> {
  let served = 0;
  while (served < atMost) {
    const reply = await call(`${gatewayUrl}/d/${photo.id}`);
    if (reply.status !== 200) {
      expect(reply.status, JSON.stringify(reply.json)).toBe(410);
      expect(reply.json.error.code).toBe('DOWNLOADS_EXHAUSTED');
      break;
    }
    expect(sha256(reply.body)).toBe(photo.sha);
    served++;
  }
  photo.served += served;
  return served;
}

async function nodesSeen(gateway: ServerProcess): Promise<{ id: string; status: string }[]> {
  const view = await call(`${gateway.url}/v1/cluster`, { headers: admin });
  return view.json?.nodes ?? [];
}

async function waitForNodesUp(gateway: ServerProcess, count: number): Promise<void> {
  await waitFor(
    async () => (await nodesSeen(gateway)).filter((node) => node.status === 'up').length >= count,
    `${gateway.url} to see ${count} nodes up`,
    30_000,
  );
}

/** The host's disk is gone: SIGKILL, then its data folder deleted. */
async function loseHost(gateway: ServerProcess, dataDir: string): Promise<void> {
  await gateway.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}

describe('a gateway host lost, with the index in PostgreSQL', () => {
  let dir: string;
  let database: TestDatabase;
  let gateway: ServerProcess | undefined;
  const nodes: ServerProcess[] = [];
  let flags: GatewayFlags;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-host-loss-pg-'));
    database = freshDatabase('postgres');
    // The same port after the loss: the nodes' parent, as a host's address would be.
    flags = { port: await freePort(), data: join(dir, 'gateway'), database: database.value, workers: 1 };
    gateway = await startGatewayProcess(flags);
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startNodeProcess({ dataDir: join(dir, `node-${i}`), parentUrl: gateway.url }));
    }
    await waitForNodesUp(gateway, 3);
  });

  afterAll(async () => {
    await Promise.all([gateway, ...nodes].map((proc) => proc?.kill('SIGTERM')));
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves at once from a fresh data folder: old files, new uploads, the node list from the index', async () => {
    const photos = await uploadPhotos(gateway!.url);
    for (const photo of photos) await download(gateway!.url, photo, 1);
    const identityBefore = JSON.parse(readFileSync(join(String(flags.data), 'identity.json'), 'utf8'));

    await loseHost(gateway!, String(flags.data));
    const started = performance.now();
    gateway = await startGatewayProcess(flags);
    const startMs = Math.round(performance.now() - started);

    // The node list comes from the index, before any node has heartbeated again.
    const listed = (await nodesSeen(gateway)).map((node) => node.id).sort();
    expect(listed).toEqual(nodes.map((node) => String(node.ready.nodeId)).sort());
    // Old files: every one downloads, byte for byte, its count carried on in the index.
    for (const photo of photos) {
      const info = await call(`${gateway.url}/v1/files/${photo.id}`);
      expect(info.status).toBe(200);
      expect(info.json).toMatchObject({ downloadsLeft: photo.max - 1, status: 'ready', replicas: 3 });
      expect(await download(gateway.url, photo, 1)).toBe(1);
    }
    const firstDownloadMs = Math.round(performance.now() - started);
    // New uploads work, with their variants (the worker in the new gateway).
    const more = await uploadPhotos(gateway.url);
    for (const photo of more) expect(await download(gateway.url, photo, 1)).toBe(1);
    // Limits held across the loss: exactly the limit in all.
    for (const photo of photos.filter((p) => p.max < 100)) {
      await download(gateway.url, photo);
      expect(photo.served).toBe(photo.max);
    }
    // A new folder: a new identity.json with a gateway id of its own; the keys are the flags'.
    const identityAfter = JSON.parse(readFileSync(join(String(flags.data), 'identity.json'), 'utf8'));
    expect(identityAfter).not.toEqual(identityBefore);
    expect(readdirSync(String(flags.data))).not.toContain('metadata.db');
    console.info(
      'gateway host lost (PostgreSQL):',
      JSON.stringify({ startMs, firstDownloadsMs: firstDownloadMs, files: photos.length + more.length }),
    );
  }, 90_000);
});

describe('a gateway host lost, with the index in SQLite in its data folder', () => {
  let dir: string;
  let gateway: ServerProcess | undefined;
  const nodes: ServerProcess[] = [];
  let flags: GatewayFlags;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-host-loss-sqlite-'));
    flags = { port: await freePort(), data: join(dir, 'gateway'), workers: 1 };
    gateway = await startGatewayProcess(flags);
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startNodeProcess({ dataDir: join(dir, `node-${i}`), parentUrl: gateway.url }));
    }
    await waitForNodesUp(gateway, 3);
  });

  afterAll(async () => {
    await Promise.all([gateway, ...nodes].map((proc) => proc?.kill('SIGTERM')));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('comes back empty; the nodes re-join and a rebuild brings every live file back within its limits', async () => {
    const photos = await uploadPhotos(gateway!.url);
    await download(gateway!.url, photos[0]!, 1);
    await download(gateway!.url, photos[1]!, 5);
    await download(gateway!.url, photos[2]!, 2);
    // Used up before the loss: stays gone.
    const usedUpBytes = fixtureBytes('png-palette.png');
    const up = await uploadBytes(gateway!.url, usedUpBytes, { downloads: 2 });
    expect(up.status).toBe(201);
    const usedUp: Photo = { id: up.json.id, url: up.json.url, sha: sha256(usedUpBytes), max: 2, served: 0 };
    expect(await download(gateway!.url, usedUp)).toBe(usedUp.max);
    expect(existsSync(join(String(flags.data), 'metadata.db'))).toBe(true);

    await loseHost(gateway!, String(flags.data));
    gateway = await startGatewayProcess(flags);
    // Nothing known: no node, no file.
    expect(await nodesSeen(gateway)).toEqual([]);
    expect((await call(`${gateway.url}/d/${photos[0]!.id}`)).status).toBe(404);
    // The nodes' next heartbeats meet a gateway that does not know them: they join again.
    await waitForNodesUp(gateway, 3);
    expect((await nodesSeen(gateway)).map((node) => node.id).sort()).toEqual(
      nodes.map((node) => String(node.ready.nodeId)).sort(),
    );

    const started = await call(`${gateway.url}/v1/index/rebuild`, { method: 'POST', headers: admin });
    expect(started.status, JSON.stringify(started.json)).toBe(202);
    let progress = started.json;
    await waitFor(
      async () => {
        progress = (await call(`${gateway!.url}/v1/index/rebuild`, { headers: admin })).json;
        return progress.state !== 'running';
      },
      'the rebuild',
      30_000,
    );
    expect(progress.state, progress.lastError).toBe('done');
    expect(progress).toMatchObject({ nodes: { total: 3, scanned: 3, unreachable: [] }, filesRestored: 3 });

    for (const photo of photos) {
      const info = await call(`${gateway.url}/v1/files/${photo.id}`);
      expect(info.status).toBe(200);
      expect(info.json).toMatchObject({ sha256: photo.sha, maxDownloads: photo.max, status: 'ready', replicas: 3 });
      // Counts never go up: at most the limit in all, and at most a checkpoint block lost.
      expect(photo.served + info.json.downloadsLeft).toBeLessThanOrEqual(photo.max);
      expect(photo.served + info.json.downloadsLeft).toBeGreaterThan(photo.max - Math.ceil(photo.max / 8));
    }
    // Byte-identical, and the limits hold over the loss (the 1000 one: a few more).
    for (const photo of photos) {
      await download(gateway.url, photo, photo.max < 100 ? Infinity : 3);
      expect(photo.served).toBeLessThanOrEqual(photo.max);
    }
    expect(photos[0]!.served).toBe(photos[0]!.max); // a limit of 3 checkpoints every download
    expect(photos[1]!.served).toBeGreaterThan(photos[1]!.max - Math.ceil(photos[1]!.max / 8));
    // The used-up file stays gone.
    expect((await call(`${gateway.url}/d/${usedUp.id}`)).json.error?.code).toBe('DOWNLOADS_EXHAUSTED');
    // And new uploads work.
    const fresh = await uploadBytes(gateway.url, fixtureBytes('png-alpha.png'), { downloads: 2 });
    expect(fresh.status).toBe(201);
    expect(sha256((await call(fresh.json.url)).body)).toBe(sha256(fixtureBytes('png-alpha.png')));
  }, 90_000);
});
