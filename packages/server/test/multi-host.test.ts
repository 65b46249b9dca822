import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags } from '@legim/server';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { freePort } from '../../../test-support/free-port.js';
import { startNginx, type RunningNginx } from '../../../test-support/nginx.js';
import { startPrivatePostgres, type PrivatePostgres } from '../../../test-support/private-postgres.js';
import { startGatewayProcess, startNodeProcess, type ServerProcess } from '../../../test-support/processes.js';
import { freshDatabase, type TestDatabase } from '../../../test-support/test-database.js';
import { countBy, expectEveryUploadServed, killGatewayUnderUploadLoad } from './gateway-kill-under-load.js';
import { admin, call, queryIndex, uploadBytes, waitFor, type Reply, waitForNodesUp } from './support.js';

// The acceptance of "gateways on several hosts": each gateway has a data folder of its own (as on
// another machine) and they share nothing but one PostgreSQL index. No Redis: PostgreSQL alone must
// keep the download limits exact and make a delete seen everywhere.

const PHOTO = fixtureBytes('photo-small-flower-1600x1203.jpg');
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;

describe('two gateways with their own data folders and one PostgreSQL index, behind nginx', () => {
  let dir: string;
  let database: TestDatabase;
  let nginx: RunningNginx;
  let gatewayA: ServerProcess;
  let gatewayB: ServerProcess;
  const nodes: ServerProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-multi-host-'));
    database = freshDatabase('postgres');
    const port = await freePort();
    const shared: GatewayFlags = {
      database: database.value,
      publicUrl: `http://127.0.0.1:${port}`,
      workers: 1,
      maxUpload: String(MAX_UPLOAD_BYTES),
    };
    // startGatewayProcess gives both the same secret and admin key; `store` is false.
    gatewayA = await startGatewayProcess({ ...shared, data: join(dir, 'host-a') });
    gatewayB = await startGatewayProcess({ ...shared, data: join(dir, 'host-b') });
    // The nodes join A only, after B has started: B learns them from the index's node list, which it
    // reads again every few seconds, then probes them itself.
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startNodeProcess({ dataDir: join(dir, `node-${i}`), parentUrl: gatewayA.url }));
    }
    await waitForNodesUp(gatewayA, 3);
    await waitForNodesUp(gatewayB, 3);
    nginx = await startNginx({ upstreams: [gatewayA.url, gatewayB.url], port, maxUploadBytes: MAX_UPLOAD_BYTES });
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([gatewayA, gatewayB, ...nodes].map((proc) => proc?.kill('SIGTERM')));
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records the nodes that joined gateway A in the shared index, where gateway B finds them', async () => {
    const rows = await queryIndex<{ id: string }>({ database }, 'SELECT id FROM nodes ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual(nodes.map((node) => String(node.ready.nodeId)).sort());
    const seenByB = (await call(`${gatewayB.url}/v1/cluster`, { headers: admin })).json.nodes as { id: string }[];
    expect(seenByB.map((node) => node.id).sort()).toEqual(rows.map((row) => row.id));
  });

  it('lets exactly 7 of 500 simultaneous downloads spread over both gateways through, with full bodies', async () => {
    const up = await uploadBytes(gatewayA.url, PHOTO, { downloads: 7 });
    expect(up.status).toBe(201);
    const id: string = up.json.id;

    const gateways = [gatewayA, gatewayB];
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) => call(`${gateways[i % 2]!.url}/d/${id}`).then((reply) => ({ i, reply }))),
    );
    const ok = replies.filter(({ reply }) => reply.status === 200);
    const gone = replies.filter(({ reply }) => reply.status === 410);
    expect(ok).toHaveLength(7);
    expect(gone).toHaveLength(493);
    for (const { reply } of ok) expect(sha256(reply.body)).toBe(sha256(PHOTO));
    for (const { reply } of gone) expect(reply.json.error.code).toBe('DOWNLOADS_EXHAUSTED');
    expect(new Set(ok.map(({ reply }) => reply.headers.get('legim-downloads-left')))).toEqual(
      new Set(['0', '1', '2', '3', '4', '5', '6']),
    );
    // Both gateways took part, and both agree the file is used up.
    expect(new Set(replies.map(({ i }) => i % 2))).toEqual(new Set([0, 1]));
    for (const gateway of gateways) expect((await call(`${gateway.url}/d/${id}`)).status).toBe(410);
  });

  it.each([
    ['A', 'B'],
    ['B', 'A'],
  ])('shows a delete made through gateway %s on gateway %s within 1 s', async (from, to) => {
    const deleting = from === 'A' ? gatewayA : gatewayB;
    const watching = to === 'A' ? gatewayA : gatewayB;
    const up = await uploadBytes(deleting.url, PHOTO, { downloads: 100 });
    expect(up.status).toBe(201);
    const id: string = up.json.id;
    // The watching gateway has served the file, so it holds it in its metadata cache.
    expect((await call(`${watching.url}/d/${id}`)).status).toBe(200);
    expect((await call(`${watching.url}/v1/files/${id}`)).status).toBe(200);

    const deleted = await call(`${deleting.url}/v1/files/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${up.json.deleteToken}` },
    });
    expect(deleted.status).toBe(204);
    const started = performance.now();
    let download: Reply;
    let info: Reply;
    for (;;) {
      [download, info] = await Promise.all([call(`${watching.url}/d/${id}`), call(`${watching.url}/v1/files/${id}`)]);
      if ((download.status === 410 && info.status === 410) || performance.now() - started > 5000) break;
      await sleep(50);
    }
    const elapsedMs = performance.now() - started;
    expect(download.status).toBe(410);
    expect(download.json.error.code).toBe('DELETED');
    expect(info.status).toBe(410);
    expect(info.json.error.code).toBe('DELETED');
    expect(elapsedMs).toBeLessThan(1000);
  });

  // Last: gateway A stays dead.
  it('keeps every acknowledged upload when one gateway is SIGKILLed under upload load', async () => {
    const acknowledged = await killGatewayUnderUploadLoad({
      nginx,
      gatewayA,
      gatewayB,
      photo: PHOTO,
      label: 'multi-host, PostgreSQL index',
    });

    // No acknowledged upload is lost: each one downloads from the survivor, byte for byte.
    await expectEveryUploadServed(acknowledged, gatewayB.url);
  });
});

describe('PostgreSQL stopped during a download storm', () => {
  let postgres: PrivatePostgres;
  let cluster: TestCluster;
  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    cluster = await startCluster({ nodes: 3, gateway: { database: postgres.url, workers: 1 } });
  });
  afterAll(async () => {
    await cluster?.close();
    await postgres?.close();
  });

  it('answers 503 INDEX_UNAVAILABLE while it is down, never a download beyond a limit, and serves again by itself', async () => {
    const bytes = fixtureBytes('png-alpha.png');
    const LIMIT = 100;
    const files: { id: string; url: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const up = await uploadBytes(cluster.gateway.url, bytes, { downloads: LIMIT });
      expect(up.status).toBe(201);
      files.push({ id: up.json.id, url: up.json.url });
    }
    const all: StormReply[] = [];
    let phase: StormReply['phase'] = 'up';
    let stop = false;
    const downloader = async (worker: number) => {
      for (let n = worker; !stop; n++) {
        const file = files[n % files.length]!;
        const startedIn = phase;
        let reply: Reply | undefined;
        let error: string | undefined;
        try {
          reply = await call(file.url);
        } catch (failure) {
          error = String((failure as Error).cause ?? failure);
        }
        all.push({ fileId: file.id, phase: startedIn, endedIn: phase, reply, error });
        if (error) await sleep(10);
      }
    };
    const storm = Array.from({ length: 24 }, (_, worker) => downloader(worker));
    const ok = () => all.filter((r) => r.reply?.status === 200);
    const began = performance.now();
    const phaseStarts: Record<string, number> = {};
    const enter = (next: StormReply['phase']) => {
      phase = next;
      phaseStarts[next] = Math.round(performance.now() - began);
    };
    try {
      // A quarter of the downloads taken, then PostgreSQL goes away mid-storm.
      await waitFor(() => ok().length >= LIMIT, 'the storm to take downloads', 30_000);
      enter('stopping');
      await postgres.stop();
      enter('down');
      await waitFor(
        () => all.filter((r) => r.phase === 'down' && r.endedIn === 'down').length >= 200,
        '200 downloads asked while PostgreSQL is down',
        30_000,
      );
      enter('starting');
      await postgres.start();
      enter('back');
      // Serving resumes with no restart: the storm goes on until every file is used up.
      await waitFor(
        () =>
          files.every((file) => all.some((r) => r.fileId === file.id && r.phase === 'back' && r.reply?.status === 410)),
        'every file to be used up after PostgreSQL is back',
        60_000,
      );
    } finally {
      stop = true;
      await Promise.all(storm);
    }

    const summary = countBy(
      all.map((r) => `${r.phase} ${r.reply?.status ?? 'error'} ${r.reply?.json?.error?.code ?? ''}`),
    );
    console.info(
      'download storm around a PostgreSQL stop:',
      JSON.stringify({ phaseStartsMs: phaseStarts, replies: Object.fromEntries(summary) }),
    );

    // Every reply is a download, a 410, or a 503 that says why; never a network error or a bare 5xx.
    expect(all.filter((r) => r.error !== undefined).map((r) => r.error)).toEqual([]);
    for (const r of all) {
      const { status, json } = r.reply!;
      if (status >= 500) {
        expect(status, JSON.stringify(json)).toBe(503);
        expect(['INDEX_UNAVAILABLE', 'COUNTER_UNAVAILABLE']).toContain(json?.error?.code);
      } else {
        expect([200, 410], JSON.stringify(json)).toContain(status);
      }
    }
    // Asked and answered while it was down: refused with the reason (or 410 for a file already used up).
    const whileDown = all.filter((r) => r.phase === 'down' && r.endedIn === 'down');
    expect(whileDown.filter((r) => r.reply!.status === 200)).toEqual([]);
    expect(whileDown.filter((r) => r.reply!.status === 503).length).toBeGreaterThan(0);
    // Back up: downloads again, and each file's limit held over the whole storm.
    expect(all.filter((r) => r.phase === 'back' && r.reply!.status === 200).length).toBeGreaterThan(0);
    for (const file of files) {
      const served = all.filter((r) => r.fileId === file.id && r.reply!.status === 200);
      expect(served.length).toBeLessThanOrEqual(LIMIT);
      const left = served.map((r) => r.reply!.headers.get('legim-downloads-left'));
      expect(new Set(left).size).toBe(left.length);
      for (const r of served) expect(r.reply!.body.length).toBe(bytes.length);
    }
  });
});

interface StormReply {
  fileId: string;
  /** Where PostgreSQL was when the download was asked for, and when it was answered. */
  phase: 'up' | 'stopping' | 'down' | 'starting' | 'back';
  endedIn: StormReply['phase'];
  reply: Reply | undefined;
  error: string | undefined;
}
