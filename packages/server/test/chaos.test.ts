import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags } from '@legim/server';
import { testClusterSecret } from '../../../test-support/cluster.js';
import { repoRoot, sha256 } from '../../../test-support/fixtures.js';
import { freePort } from '../../../test-support/free-port.js';
import { startNginx, type RunningNginx } from '../../../test-support/nginx.js';
import { startPrivatePostgres, type PrivatePostgres } from '../../../test-support/private-postgres.js';
import { startPrivateRabbitMQ, type PrivateRabbitMQ } from '../../../test-support/private-rabbitmq.js';
import { startPrivateRedis, type PrivateRedis } from '../../../test-support/private-redis.js';
import { startGatewayProcess, startNodeProcess, type ServerProcess } from '../../../test-support/processes.js';
import { admin, call, queryIndex, waitFor, type Reply, waitForNodesUp } from './support.js';

// Chaos: the whole many-hosts layout (nginx, two gateways with folders of their own, a PostgreSQL index,
// Redis counters, RabbitMQ jobs, four storage nodes, one remote `legim worker --gateway`) under a mixed
// load, while one piece after the other is killed and restarted. Then the invariants: nothing
// acknowledged lost, nothing over-served or corrupt, full copies, processing ended, and no error but the
// documented ones, and those only while something was down.
//
// The issue asks for 20 s outages; each one is 8 s here so that the six faults, the start and the
// settling fit the suite's 4-minute bound on a shared 2-core machine.
const OUTAGE_MS = 8000;
/** A fault's window ends this long after the restart (or 1 s after recovery, whichever is later). */
const AFTER_RESTART_MS = 5000;
const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
const NODES = 4;
/** Documented 503 codes (docs/api.md, docs/operations.md). */
const DOCUMENTED_503 = new Set([
  'UNAVAILABLE',
  'INDEX_UNAVAILABLE',
  'COUNTER_UNAVAILABLE',
  'CHECKPOINT_FAILED',
  'REPLICATION_FAILED',
  'NO_STORAGE_NODES',
  'LOCK_BUSY',
]);
const REQUEST_TIMEOUT_MS = 30_000;
const cliPath = join(repoRoot, 'packages/cli/dist/main.js');

type Kind = 'upload' | 'download' | 'variant' | 'info';

interface RequestRecord {
  kind: Kind;
  /** ms since the test's clock started */
  start: number;
  end: number;
  /** HTTP status, or 0: the request failed (connection or a body cut off). */
  status: number;
  code?: string;
  error?: string;
  fileId?: string;
}

interface Tracked {
  id: string;
  url: string;
  sha: string;
  limit: number;
  /** 200s with the whole, correct body. */
  ok: number;
  /** 200s whose body was not the file. */
  corrupt: number;
  /**
   * Downloads that may have taken a count without a whole body reaching us: cut off, 503 UNAVAILABLE from
   * nginx, or passed by nginx to the other gateway after the first failed before answering.
   */
  uncertain: number;
  /** Downloads refused because the index could not be reached: one may have used a download. */
  refusedIndexDown: number;
  /** Answered 410 DOWNLOADS_EXHAUSTED (or 404 after its purge). */
  usedUp: boolean;
}

interface FaultWindow {
  name: string;
  killedAt: number;
  restartedAt: number;
  recoveredAt: number;
  end: number;
}

/** A `legim worker --gateway` process; its job-done lines with their time. */
interface WorkerProcess {
  child: ChildProcess;
  jobsDone: { at: number; jobType: string; fileId: string }[];
  kill(signal: NodeJS.Signals): Promise<void>;
}

const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);

/** Distinct, deterministic PNGs: noise from a seeded generator (nothing compresses it away). */
function imageBytes(seed: number): Promise<Buffer<ArrayBuffer>> {
  const width = 72;
  const height = 54;
  const raw = Buffer.alloc(width * height * 3);
  let x = (Math.imul(seed + 1, 2654435761) >>> 0) | 1;
  for (let i = 0; i < raw.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    raw[i] = x >>> 24;
  }
  // sharp types its output as a Buffer over any memory; it is an ordinary one, which fetch takes as a body.
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer() as Promise<Buffer<ArrayBuffer>>;
}

/** Limits: a quarter 2, a quarter 5 (used up by the load), the rest 1000. */
const limitOf = (seed: number) => [2, 5, 1000, 1000][seed % 4]!;

describe('chaos: one piece after the other killed under load, behind nginx', () => {
  let dir: string;
  let redis: PrivateRedis | undefined;
  let rabbit: PrivateRabbitMQ | undefined;
  let postgres: PrivatePostgres | undefined;
  let nginx: RunningNginx | undefined;
  const gateways: (ServerProcess | undefined)[] = [undefined, undefined];
  const nodes: (ServerProcess | undefined)[] = [];
  let worker: WorkerProcess | undefined;
  let gatewayFlags: (i: number) => GatewayFlags;
  let workerHome: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-chaos-'));
    workerHome = join(dir, 'worker-home');
    mkdirSync(workerHome);
    // Private servers only: each is killed below. Started together, kept as each arrives (closed in afterAll).
    await Promise.all([
      startPrivateRedis().then((r) => void (redis = r)),
      startPrivateRabbitMQ().then((r) => void (rabbit = r)),
      startPrivatePostgres().then((p) => void (postgres = p)),
    ]);
    const port = await freePort();
    const gatewayPorts = [await freePort(), await freePort()];
    gatewayFlags = (i) => ({
      port: gatewayPorts[i]!,
      data: join(dir, `gateway-${i}`),
      database: postgres!.url,
      redis: redis!.url,
      amqp: rabbit!.url,
      workers: 0,
      publicUrl: `http://127.0.0.1:${port}`,
      maxUpload: String(MAX_UPLOAD_BYTES),
    });
    // One after the other: the first runs the migrations.
    gateways[0] = await startGatewayProcess(gatewayFlags(0));
    gateways[1] = await startGatewayProcess(gatewayFlags(1));
    nginx = await startNginx({ upstreams: gateways.map((g) => g!.url), port, maxUploadBytes: MAX_UPLOAD_BYTES });
    // Through nginx: joins and heartbeats reach whichever gateway is up.
    const nodePorts = await Promise.all(Array.from({ length: NODES }, () => freePort()));
    for (let i = 0; i < NODES; i++) nodes[i] = await startNode(i, nodePorts[i]!);
    for (const gateway of gateways) await waitForNodesUp(gateway!, NODES);
    worker = await startWorkerProcess();
    console.info(`chaos: started in ${now()} ms`);
  }, 120_000);

  afterAll(async () => {
    // Everything, whatever failed; each step on its own.
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => worker?.kill('SIGKILL'),
      () => nginx?.stop(),
      () => Promise.all([...gateways, ...nodes].map((proc) => proc?.kill('SIGKILL'))),
      () => redis?.close(),
      // SIGKILL first: a graceful stop boots rabbitmqctl, seconds on a busy machine.
      () => rabbit?.kill().finally(() => rabbit?.close()),
      () => postgres?.close(),
    ];
    for (const step of steps) await Promise.resolve(step()).catch((error) => console.warn('chaos cleanup:', error));
    console.info(`chaos: cleaned up at ${now()} ms`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const nodeDir = (i: number) => join(dir, `node-${i}`);
  const startNode = (i: number, port: number) => startNodeProcess({ dataDir: nodeDir(i), parentUrl: nginx!.url, port });

  function startWorkerProcess(): Promise<WorkerProcess> {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(LEGIM_|npm_|VITEST)/.test(key) && key !== 'NODE_OPTIONS') env[key] = value;
    }
    Object.assign(env, { HOME: workerHome, XDG_DATA_HOME: join(workerHome, 'data'), NO_COLOR: '1' });
    const child = spawn(
      process.execPath,
      [
        cliPath,
        'worker',
        '--gateway',
        nginx!.url,
        '--secret',
        testClusterSecret,
        '--amqp',
        rabbit!.url,
        '--concurrency',
        '2',
        '--json',
      ],
      { cwd: workerHome, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const alive = () => child.exitCode === null && child.signalCode === null;
    const onExit = () => alive() && child.kill('SIGKILL');
    process.once('exit', onExit);
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    const jobsDone: WorkerProcess['jobsDone'] = [];
    const running: WorkerProcess = {
      child,
      jobsDone,
      async kill(signal) {
        if (alive()) child.kill(signal);
        await exited;
        process.removeListener('exit', onExit);
      },
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the worker was not ready in 30 s:\n${stderr.join('\n')}`));
      }, 30_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let message: { type?: string; jobType?: string; fileId?: string };
        try {
          message = JSON.parse(line);
        } catch {
          return;
        }
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(running);
        }
        if (message.type === 'job-done') {
          jobsDone.push({ at: now(), jobType: String(message.jobType), fileId: String(message.fileId) });
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the worker exited before it was ready:\n${stderr.join('\n')}`));
      });
    });
  }

  it('keeps every invariant through a node, a gateway, the worker, Redis, RabbitMQ and PostgreSQL dying', async () => {
    const base = nginx!.url;
    const records: RequestRecord[] = [];
    const files: Tracked[] = [];
    const byId = new Map<string, Tracked>();
    const windows: FaultWindow[] = [];
    let stop = false;

    /** One request through nginx, recorded; a body that breaks off counts as status 0. */
    const request = async (kind: Kind, url: string, init: RequestInit = {}, fileId?: string) => {
      const start = now();
      let reply: Reply | undefined;
      let error: string | undefined;
      try {
        reply = await call(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (failure) {
        error = String((failure as Error).cause ?? failure);
      }
      const record: RequestRecord = {
        kind,
        start,
        end: now(),
        status: reply?.status ?? 0,
        code: reply?.json?.error?.code,
        error,
        fileId,
      };
      records.push(record);
      return { record, reply };
    };

    let nextSeed = 0;
    const uploader = async () => {
      while (!stop) {
        const seed = nextSeed++;
        const bytes = await imageBytes(seed);
        const limit = limitOf(seed);
        const { reply } = await request('upload', `${base}/v1/files?downloads=${limit}&title=chaos-${seed}`, {
          method: 'POST',
          body: bytes,
          headers: { 'content-type': 'application/octet-stream' },
        });
        if (reply?.status === 201) {
          const file: Tracked = {
            id: reply.json.id,
            url: reply.json.url,
            sha: sha256(bytes),
            limit,
            ok: 0,
            corrupt: 0,
            uncertain: 0,
            refusedIndexDown: 0,
            usedUp: false,
          };
          files.push(file);
          byId.set(file.id, file);
        }
        await sleep(reply?.status === 201 ? 400 : 500);
      }
    };

    let pick = 0;
    const downloader = async () => {
      while (!stop) {
        const live = files.filter((f) => !f.usedUp);
        if (live.length === 0) {
          await sleep(100);
          continue;
        }
        const file = live[pick++ % live.length]!;
        const { record, reply } = await request('download', file.url, {}, file.id);
        if (record.status === 200) {
          if (sha256(reply!.body) === file.sha) file.ok++;
          else file.corrupt++;
        } else if (record.status === 410 || (record.status === 404 && record.code === 'FILE_NOT_FOUND')) {
          file.usedUp = true;
        } else if (record.status === 0 || (record.status === 503 && record.code === 'UNAVAILABLE')) {
          file.uncertain++;
        } else if (
          record.status === 503 &&
          (record.code === 'INDEX_UNAVAILABLE' || record.code === 'COUNTER_UNAVAILABLE')
        ) {
          // Taken just before the index went away, it could not be given back (docs/operations.md).
          file.refusedIndexDown++;
        }
        await sleep(record.status === 200 || record.status === 410 ? 40 : 200);
      }
    };

    const variantReader = async () => {
      for (let n = 0; !stop; n++) {
        const file = files[n % Math.max(1, files.length)];
        if (!file) {
          await sleep(100);
          continue;
        }
        const { reply } = await request('info', `${base}/v1/files/${file.id}`, {}, file.id);
        if (reply?.status === 200 && reply.json.status === 'ready') {
          const thumb = reply.json.variants.thumb;
          const { record, reply: got } = await request('variant', thumb.url, {}, file.id);
          if (record.status === 200) expect(got!.body.length, 'a whole thumbnail').toBe(thumb.size);
        }
        await sleep(100);
      }
    };

    const load = [uploader(), uploader(), downloader(), downloader(), downloader(), variantReader()];

    const successAfter = (at: number, kinds: Kind[]) =>
      records.some((r) => r.start >= at && kinds.includes(r.kind) && r.status >= 200 && r.status < 300);

    /** Kill, stay down, restart, wait for the recovery; the window stays open a little after it. */
    const fault = async (
      name: string,
      kill: () => Promise<void>,
      restart: () => Promise<void>,
      recovered: (restartedAt: number) => boolean | Promise<boolean>,
    ) => {
      const window: FaultWindow = { name, killedAt: now(), restartedAt: 0, recoveredAt: 0, end: Infinity };
      windows.push(window);
      await kill();
      await sleep(OUTAGE_MS);
      await restart();
      window.restartedAt = now();
      try {
        await waitFor(() => recovered(window.restartedAt), `recovery from: ${name}`, 45_000);
      } finally {
        window.recoveredAt = now();
        window.end = Math.max(window.restartedAt + AFTER_RESTART_MS, window.recoveredAt + 1000);
      }
      console.info(
        `chaos: ${name} killed at ${window.killedAt} ms, back at ${window.restartedAt}, recovered at ${window.recoveredAt}`,
      );
      await sleep(Math.max(0, window.end - now()));
    };

    const gatewaySees = async (gateway: ServerProcess, check: (json: any) => boolean, path: string) => {
      try {
        const reply = await call(`${gateway.url}${path}`, { headers: admin, signal: AbortSignal.timeout(2000) });
        return reply.status === 200 && check(reply.json);
      } catch {
        return false;
      }
    };

    let faultError: unknown;
    try {
      // Load before the first fault: some files, some used up, some processed.
      await waitFor(() => files.length >= 20 && files.some((f) => f.usedUp), 'the load to get going', 30_000);
      await waitFor(() => worker!.jobsDone.length >= 5, 'the worker to process files', 30_000);

      // A storage node.
      const victimNode = nodes[1]!;
      const nodeId = String(victimNode.ready.nodeId);
      const nodePort = Number(new URL(victimNode.url).port);
      await fault(
        'storage node',
        () => victimNode.kill('SIGKILL'),
        async () => void (nodes[1] = await startNode(1, nodePort)),
        async () => {
          for (const gateway of gateways) {
            const up = await gatewaySees(
              gateway!,
              (json) => json.nodes?.some((n: { id: string; status: string }) => n.id === nodeId && n.status === 'up'),
              '/v1/cluster',
            );
            if (!up) return false;
          }
          return true;
        },
      );

      // A gateway (the first upstream).
      const host = new URL(gateways[0]!.url).host;
      let servedBefore = 0;
      await fault(
        'gateway',
        () => gateways[0]!.kill('SIGKILL'),
        async () => {
          servedBefore = nginx!.accessLog().filter((e) => e.upstreams.at(-1) === host && e.status < 500).length;
          gateways[0] = await startGatewayProcess(gatewayFlags(0));
        },
        () => nginx!.accessLog().filter((e) => e.upstreams.at(-1) === host && e.status < 500).length > servedBefore,
      );

      // The remote worker.
      await fault(
        'worker',
        () => worker!.kill('SIGKILL'),
        async () => void (worker = await startWorkerProcess()),
        () => worker!.jobsDone.length > 0,
      );

      // Redis: comes back empty; counters are re-seeded from the index.
      await fault(
        'Redis',
        () => redis!.kill(),
        () => redis!.start(),
        async () => {
          for (const gateway of gateways) {
            if (!(await gatewaySees(gateway!, (json) => json.counter?.reachable === true, '/v1/health'))) return false;
          }
          return true;
        },
      );

      // RabbitMQ: jobs wait in the outbox meanwhile.
      await fault(
        'RabbitMQ',
        () => rabbit!.kill(),
        () => rabbit!.start(),
        (restartedAt) => worker!.jobsDone.some((job) => job.at >= restartedAt),
      );

      // PostgreSQL: an immediate stop (SIGQUIT to the postmaster: no checkpoint, crash recovery at the
      // next start), the closest a test can get to SIGKILL without leaving backends behind.
      await fault(
        'PostgreSQL',
        () => postgres!.stop({ mode: 'immediate' }),
        () => postgres!.start(),
        (restartedAt) => successAfter(restartedAt, ['upload']) && successAfter(restartedAt, ['download']),
      );

      // A little more load with everything up, then stop it.
      await sleep(3000);
    } catch (error) {
      // Still settle, check and print what happened; thrown at the end.
      faultError = error;
    } finally {
      stop = true;
      await Promise.allSettled(load);
    }
    // The load's own assertions (whole thumbnails) surface here.
    await Promise.all(load);

    // Settle: processing ends for every file still there (the worker had time), full copies everywhere.
    const infoOf = async (file: Tracked) => {
      const reply = await call(`${base}/v1/files/${file.id}`);
      return reply;
    };
    let infos = new Map<string, Reply>();
    await waitFor(
      async () => {
        infos = new Map(await Promise.all(files.map(async (f) => [f.id, await infoOf(f)] as const)));
        return [...infos.values()].every((info) => info.status !== 200 || info.json.status !== 'processing');
      },
      'processing to end',
      60_000,
    );
    console.info(`chaos: load stopped, processing ended at ${now()} ms`);
    const surviving = files.filter((f) => infos.get(f.id)!.status === 200);
    const index = { database: { kind: 'postgres' as const, value: postgres!.url } };
    const shortOfCopies = async () => {
      const rows = await queryIndex<{ blob_key: string; copies: number }>(
        index,
        "SELECT blob_key, COUNT(*) AS copies FROM replicas WHERE state = 'durable' GROUP BY blob_key",
      );
      const copies = new Map(rows.map((row) => [row.blob_key, Number(row.copies)]));
      const short: string[] = [];
      for (const file of surviving) {
        const keys = [file.id, ...Object.keys(infos.get(file.id)!.json.variants ?? {}).map((v) => `${file.id}.${v}`)];
        for (const key of keys) if (copies.get(key) !== 3) short.push(`${key}: ${copies.get(key) ?? 0}`);
      }
      return short;
    };
    await waitFor(async () => (await shortOfCopies()).length === 0, 'every blob at 3 durable copies', 60_000).catch(
      async (error) => {
        throw new Error(`${(error as Error).message}: ${(await shortOfCopies()).join(', ')}`);
      },
    );
    console.info(`chaos: every blob at 3 copies at ${now()} ms`);
    for (const file of surviving) expect(['ready', 'failed']).toContain(infos.get(file.id)!.json.status);

    // No acknowledged upload lost, none over-served, no corrupt body.
    // Downloads nginx passed to a second gateway after the first failed: what the first did is unknown.
    const replayed = new Map<string, string[]>();
    for (const entry of nginx!.accessLog()) {
      if (entry.upstreams.length < 2 || !entry.path.startsWith('/d/')) continue;
      const id = entry.path.slice(3);
      replayed.set(id, [...(replayed.get(id) ?? []), `${entry.status} via ${entry.upstreams.join(', ')}`]);
    }
    const historyOf = (file: Tracked) =>
      JSON.stringify({
        replayed: replayed.get(file.id) ?? [],
        downloads: records
          .filter((r) => r.fileId === file.id && r.kind === 'download')
          .map((r) => `${r.start}-${r.end}:${r.status}${r.code ? ` ${r.code}` : ''}`),
      });
    // A download nginx replayed may have been counted by the gateway that died (docs/operations.md).
    for (const file of files) file.uncertain += replayed.get(file.id)?.length ?? 0;
    const problems: string[] = [];
    /** Downloads used without a 200 reaching us (cut off, or refused when the index went away). */
    let countsLost = 0;
    for (const file of files) {
      const info = infos.get(file.id)!;
      if (file.corrupt > 0) problems.push(`${file.id}: ${file.corrupt} corrupt bodies`);
      if (file.ok > file.limit) problems.push(`${file.id}: ${file.ok} downloads of ${file.limit}`);
      if (info.status === 200) {
        const left = Number(info.json.downloadsLeft);
        if (file.ok + left > file.limit) problems.push(`${file.id}: ${file.ok} served, ${left} left of ${file.limit}`);
        countsLost += file.limit - file.ok - left;
        if (file.ok + left + file.uncertain + file.refusedIndexDown < file.limit) {
          problems.push(
            `${file.id}: ${file.ok} served + ${left} left + ${file.uncertain} cut off + ${file.refusedIndexDown} refused < ${file.limit} ${historyOf(file)}`,
          );
        }
        if (left > 0) {
          const last = await call(file.url);
          if (last.status !== 200 || sha256(last.body) !== file.sha) {
            problems.push(`${file.id}: final download ${last.status} ${last.json?.error?.code ?? ''}`);
          } else file.ok++;
        }
      } else {
        // Gone: only as used up, exactly.
        const code = info.json?.error?.code;
        const usedUp = (info.status === 410 && code === 'DOWNLOADS_EXHAUSTED') || info.status === 404;
        if (!usedUp) problems.push(`${file.id}: ${info.status} ${code}`);
        countsLost += file.limit - file.ok;
        if (file.ok + file.uncertain + file.refusedIndexDown < file.limit) {
          problems.push(
            `${file.id} LOST: ${info.status} ${code} after ${file.ok} (+${file.uncertain} cut off) of ${file.limit} ${historyOf(file)}`,
          );
        }
      }
    }

    // Errors: outside the fault windows none at all; inside them only the documented answers.
    // A request spanning two windows belongs to the later one (what it ran into last).
    const windowOf = (r: RequestRecord) => windows.findLast((w) => r.end >= w.killedAt && r.start <= w.end);
    const errorsPerWindow = new Map<string, Map<string, number>>();
    for (const r of records) {
      const expected =
        (r.kind === 'upload' && r.status === 201) ||
        ((r.kind === 'download' || r.kind === 'info') &&
          (r.status === 200 || r.status === 410 || (r.status === 404 && r.code === 'FILE_NOT_FOUND'))) ||
        (r.kind === 'variant' &&
          // 410/404: used up between the file's info and this read.
          (r.status === 200 || r.status === 410 || (r.status === 404 && r.code === 'FILE_NOT_FOUND')));
      if (expected) continue;
      const window = windowOf(r);
      const label = `${r.kind} ${r.status || r.error} ${r.code ?? ''}`.trim();
      const counts = errorsPerWindow.get(window?.name ?? 'outside') ?? new Map<string, number>();
      counts.set(label, (counts.get(label) ?? 0) + 1);
      errorsPerWindow.set(window?.name ?? 'outside', counts);
      if (!window) {
        problems.push(`outside any fault window at ${r.start}–${r.end} ms: ${label} ${r.fileId ?? ''}`);
      } else if (r.status === 0) {
        // A connection cut by a dying gateway or node (nginx had already sent the headers).
        if (window.name !== 'gateway' && window.name !== 'storage node') {
          problems.push(`${window.name}: a request failed without an answer: ${label} ${r.error}`);
        }
      } else if (r.status >= 500 && !(r.status === 503 && DOCUMENTED_503.has(r.code ?? ''))) {
        problems.push(`${window.name}: undocumented ${label}`);
      } else if (r.status < 500) {
        problems.push(`${window.name}: unexpected ${label}`);
      }
    }

    const kinds = new Map<string, number>();
    for (const r of records) kinds.set(`${r.kind} ${r.status}`, (kinds.get(`${r.kind} ${r.status}`) ?? 0) + 1);
    console.info(
      'chaos summary:',
      JSON.stringify(
        {
          requests: Object.fromEntries([...kinds].sort()),
          files: {
            uploaded: files.length,
            usedUp: files.length - surviving.length,
            surviving: surviving.length,
            failed: surviving.filter((f) => infos.get(f.id)!.json.status === 'failed').length,
            downloads200: files.reduce((sum, f) => sum + f.ok, 0),
            cutOffOrReplayed: files.reduce((sum, f) => sum + f.uncertain, 0),
            refusedIndexDown: files.reduce((sum, f) => sum + f.refusedIndexDown, 0),
            countsLost,
            replayedByNginx: [...replayed.values()].flat().length,
          },
          faults: windows.map((w) => ({
            name: w.name,
            downMs: w.restartedAt - w.killedAt,
            recoveryMs: w.recoveredAt - w.restartedAt,
            errors: Object.fromEntries(errorsPerWindow.get(w.name) ?? []),
          })),
          outside: Object.fromEntries(errorsPerWindow.get('outside') ?? []),
        },
        null,
        1,
      ),
    );
    if (faultError) throw faultError;
    expect(problems).toEqual([]);
  }, 230_000);
});
