// Legim's throughput benchmarks, each against a reference measured in the
// same run on the same machine (see bench/README.md). `npm run bench`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { restartGateway, restartNodes, startCluster, uploadForDownloads } from './lib/cluster.mjs';
import { summariseBusiestProfile } from './lib/cpu-profile.mjs';
import { startCpuUsage } from './lib/cpu-usage.mjs';
import { compareEngines } from './lib/engines.mjs';
import { makeImages, makeProcessingPhotos } from './lib/fixtures.mjs';
import { measureGatewayScaling } from './lib/gateways.mjs';
import { NGINX_WORKERS, startNginx } from './lib/nginx.mjs';
import { killAllNow, stopAll } from './lib/processes.mjs';
import {
  WORKERS,
  checkSameWork,
  measureBusyUploads,
  measureIdleUploads,
  measureWorkerThroughput,
} from './lib/processing.mjs';
import { measureRawFsync } from './lib/raw-fsync.mjs';
import { measureRawSharp } from './lib/raw-sharp.mjs';
import { bestOfRounds } from './lib/rounds.mjs';
import { printCpu, printProfile, printTable, tableRows, writeResults } from './lib/report.mjs';
import { measureTls } from './lib/tls.mjs';
import { findTools } from './lib/tools.mjs';
import { measureUploads } from './lib/upload-load.mjs';
import { WRK_CONNECTIONS, WRK_THREADS, runWrk } from './lib/wrk.mjs';

const { values: options } = parseArgs({
  options: {
    profile: { type: 'boolean', default: process.env.BENCH_PROFILE === '1' },
    seconds: { type: 'string', default: '5' },
    uploaders: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    photos: { type: 'string', default: '20' },
    only: { type: 'string' },
    // The gateways' shared counter for the multi-gateway benchmark: a Redis URL, or "none" for SQLite.
    redis: { type: 'string', default: process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379' },
  },
});
if (options.only !== undefined && !['http', 'gateways', 'engines', 'tls', 'processing'].includes(options.only)) {
  console.error(
    `[bench] --only takes http (downloads and uploads), gateways (downloads through nginx to 1 and 2 gateways), ` +
      `engines (the index in PostgreSQL against SQLite), tls (HTTPS and encryption at rest against plain HTTP) or processing (image workers), not "${options.only}"`,
  );
  process.exit(2);
}
const RUN_HTTP = options.only === undefined || options.only === 'http';
const RUN_GATEWAYS = options.only === undefined || options.only === 'gateways';
const RUN_ENGINES = options.only === undefined || options.only === 'engines';
const RUN_TLS = options.only === undefined || options.only === 'tls';
const RUN_PROCESSING = options.only === undefined || options.only === 'processing';
const SECONDS = Number(options.seconds);
const WARMUP_SECONDS = 1;
const UPLOADERS = Number(options.uploaders);
const ROUNDS = Number(options.rounds);
const PHOTOS = Number(options.photos);
// Uploaders of the latency benchmark (closed loop, like the upload benchmark).
const LATENCY_UPLOADERS = 2;
// 12 MP photos queued before the latency load with the workers busy: enough
// for ~2 photos/s over the load, which a 2-core machine does not reach.
const BACKLOG = Math.min(PHOTOS, 2 * SECONDS + 6);
// A photo's processing takes ~0.35 s of the 2 cores; allow for a busy machine.
const PROCESSING_TIMEOUT_MS = (30 + 3 * PHOTOS) * 1000;
// Loads run back to back; a hung server must not hang the run (the default
// run takes ~3.3 minutes, build included; the watchdog allows about twice that).
const LOADS =
  (RUN_HTTP ? 6 * ROUNDS + (options.profile ? 2 : 0) : 0) +
  (RUN_GATEWAYS ? 3 * ROUNDS + 1 : 0) +
  (RUN_ENGINES ? 4 * ROUNDS + 2 : 0) +
  (RUN_TLS ? 9 * ROUNDS + 6 : 0);
const PROCESSING_SECONDS = RUN_PROCESSING ? ROUNDS * (PHOTOS + 2 * SECONDS + 30) : 0;
const WATCHDOG_MS = Math.max(120, 1.6 * (LOADS * SECONDS + PROCESSING_SECONDS + 30)) * 1000;
const TARGETS = {
  small: { metric: 'req/s', ratio: 0.2 },
  large: { metric: 'MB/s', ratio: 0.5 },
  upload: 0.5,
  processing: 0.9,
  latency: { atMost: 1.5 },
};

let workDir;
let interrupted = false;

async function main() {
  const tools = RUN_HTTP || RUN_GATEWAYS || RUN_ENGINES || RUN_TLS ? findTools() : undefined;
  workDir = mkdtempSync(join(tmpdir(), 'legim-bench-'));
  // nginx workers must be able to walk into it.
  chmodSync(workDir, 0o755);
  const images = await makeImages(mkdir('images'));
  log(`images: ${images.small.size} B and ${images.large.size} B`);
  const results = { startedAt: new Date().toISOString(), machine: machine(tools), settings: settings() };
  if (RUN_HTTP) await httpBenchmarks(tools, images, results);
  if (RUN_GATEWAYS) results.gateways = await gatewayBenchmarks(tools, images.small);
  if (RUN_ENGINES) {
    results.engines = await compareEngines({
      wrk: tools.wrk,
      images,
      dir: mkdir('engines'),
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      rounds: ROUNDS,
      uploaders: UPLOADERS,
      log,
    });
  }
  if (RUN_TLS) {
    results.tls = await measureTls({
      wrk: tools.wrk,
      images,
      dir: mkdir('tls'),
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      rounds: ROUNDS,
      uploaders: UPLOADERS,
      log,
    });
  }
  if (RUN_PROCESSING) results.processing = await processingBenchmarks(images.large);

  results.table = tableRows(results);
  console.log('');
  printTable(results.table);
  printCpu(results);
  if (results.profile) {
    printProfile('gateway', results.profile.gateway);
    printProfile('busiest storage node', results.profile.node);
  }
  console.log(`\nresults: ${writeResults(results)}`);
}

/** Downloads against nginx and uploads against raw fsync, on one cluster (stopped at the end). */
async function httpBenchmarks(tools, images, results) {
  // No image workers here: every upload queues a `process` job, and
  // processing them would share the cores with the load being measured
  // (the processing benchmarks below measure that on purpose).
  const cluster = await startCluster({ dir: mkdir('cluster'), gatewayFlags: { workers: 0 } });
  log(`cluster: gateway ${cluster.gateway.url}, ${cluster.nodes.length} nodes up`);
  const nginx = await startNginx({ binary: tools.nginx, dir: mkdir('nginx'), files: [images.small, images.large] });
  log(`nginx: ${nginx.url} (${NGINX_WORKERS} worker)`);

  results.downloads = {};
  for (const key of ['small', 'large']) {
    const image = images[key];
    const legimUrl = await uploadForDownloads(cluster.gateway.url, image.bytes);
    const urls = { legim: legimUrl, nginx: `${nginx.url}/${image.name}` };
    results.downloads[key] = await compareDownloads(tools.wrk, image, urls, [...clusterProcs(cluster), nginx.proc]);
    results.downloads[key].target = TARGETS[key];
  }
  await nginx.proc.stop();
  results.uploads = await compareUploads(cluster, images.large);
  if (options.profile) results.profile = await profileSmallDownloads(cluster, tools.wrk, images.small);
  await Promise.all(clusterProcs(cluster).map((proc) => proc.stop()));
}

/**
 * 20 KiB downloads through nginx to 2 gateways sharing one data dir, to 1 of them, and from nginx's disk;
 * the gateways count downloads in Redis, as a multi-gateway deployment would (`--redis none`: SQLite).
 */
async function gatewayBenchmarks(tools, image) {
  const load = { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS };
  const gatewayFlags =
    options.redis === 'none' ? {} : { redis: options.redis, redisPrefix: `bench-${process.pid}-${Date.now()}:` };
  log(`gateways: counters in ${options.redis === 'none' ? 'SQLite' : `Redis (${options.redis})`}`);
  return {
    counter: options.redis === 'none' ? 'SQLite' : 'Redis',
    ...(await measureGatewayScaling({ tools, dir: mkdir('gateways'), image, ...load, log, gatewayFlags })),
  };
}

/**
 * The image workers (in the gateway, `workers: 2`) against raw sharp, and the
 * upload latency with the workers saturated against idle. Own cluster.
 */
async function processingBenchmarks(uploadImage) {
  const photos = await makeProcessingPhotos(mkdir('photos'), PHOTOS);
  log(`photos: ${PHOTOS} copies of a ${photos.width}x${photos.height} JPEG (${photos.size} B)`);
  const cluster = await startCluster({ dir: mkdir('processing-cluster'), gatewayFlags: { workers: 0 } });
  log(`processing cluster: gateway ${cluster.gateway.url}, ${cluster.nodes.length} nodes up`);

  const paths = photos.copies.map((copy) => copy.path);
  const throughput = await bestOfRounds({
    rounds: ROUNDS,
    score: (r) => r.perSec,
    sides: {
      raw: async () => {
        const result = await measureRawSharp({ paths, concurrency: WORKERS, timeoutMs: PROCESSING_TIMEOUT_MS });
        log(
          `process raw sharp: ${result.perSec.toFixed(2)} photos/s (thumbnail only: ${result.thumbs.perSec.toFixed(1)}/s)`,
        );
        for (const [size, cost] of Object.entries(result.avifCost)) {
          log(
            `  ${size}: webp ${cost.webp.cpuMsPerPhoto.toFixed(0)} ms ${cost.webp.bytes} B, ` +
              `avif ${cost.avif.cpuMsPerPhoto.toFixed(0)} ms ${cost.avif.bytes} B (${cost.avifOverWebp.toFixed(2)}x the CPU)`,
          );
        }
        return result;
      },
      legim: async (round) => {
        const result = await measureWorkerThroughput({
          cluster,
          photos,
          queuePrefix: `throughput${round}`,
          timeoutMs: PROCESSING_TIMEOUT_MS,
        });
        log(`process legim workers: ${result.perSec.toFixed(2)} photos/s`);
        return result;
      },
    },
  });
  checkSameWork(throughput.legim.firstPhotoVariants, throughput.raw.firstPhotoVariants);

  const load = { cluster, bytes: uploadImage.bytes, concurrency: LATENCY_UPLOADERS, seconds: SECONDS };
  const latencyRounds = { idle: [], busy: [] };
  const latency = await bestOfRounds({
    rounds: ROUNDS,
    // Lowest p99; a busy round whose backlog ran out was not saturated throughout and counts last.
    score: (r) => (r.backlog?.saturatedThroughout === false ? -1e9 : 0) - r.latencyMs.p99,
    sides: {
      idle: async (round) => {
        const result = await measureIdleUploads({ ...load, queuePrefix: `idle${round}` });
        latencyRounds.idle.push(result.latencyMs);
        log(
          `upload, workers idle: p50 ${result.latencyMs.p50.toFixed(0)} ms, p99 ${result.latencyMs.p99.toFixed(0)} ms`,
        );
        return result;
      },
      busy: async (round) => {
        const result = await measureBusyUploads({ ...load, photos, backlog: BACKLOG, queuePrefix: `busy${round}` });
        latencyRounds.busy.push(result.latencyMs);
        const { processedDuringLoad, waitingAtEnd } = result.backlog;
        log(
          `upload, workers busy: p50 ${result.latencyMs.p50.toFixed(0)} ms, p99 ${result.latencyMs.p99.toFixed(0)} ms ` +
            `(${processedDuringLoad} photos processed meanwhile, ${waitingAtEnd} not yet ready)`,
        );
        if (!result.backlog.saturatedThroughout) log('warning: the backlog ran out during the load; use more --photos');
        return result;
      },
    },
  });
  // bestOfRounds lists each round's score; for latency the rounds' p50/p99 read better.
  for (const side of ['idle', 'busy']) latency[side].rounds = latencyRounds[side];
  await Promise.all(clusterProcs(cluster).map((proc) => proc.stop()));
  return {
    photo: { width: photos.width, height: photos.height, size: photos.size, copies: PHOTOS },
    workers: WORKERS,
    throughput: { ...throughput, target: TARGETS.processing },
    latency: { size: uploadImage.size, concurrency: LATENCY_UPLOADERS, ...latency, target: TARGETS.latency },
  };
}

async function compareDownloads(wrk, image, urls, watched) {
  const measure = (name) => async (round) => {
    const url = urls[name];
    if (round === 0) await runWrk({ binary: wrk, url, seconds: WARMUP_SECONDS, bodyBytes: image.size });
    const cpu = startCpuUsage(watched);
    const result = await runWrk({ binary: wrk, url, seconds: SECONDS, bodyBytes: image.size });
    result.cpu = cpu();
    log(
      `download ${image.name} ${name}: ${result.requestsPerSec.toFixed(0)} req/s, ${result.payloadMBps.toFixed(1)} MB/s`,
    );
    return result;
  };
  const sides = { nginx: measure('nginx'), legim: measure('legim') };
  const best = await bestOfRounds({ rounds: ROUNDS, sides, score: (r) => r.requestsPerSec });
  return { size: image.size, ...best };
}

async function compareUploads(cluster, image) {
  const load = { concurrency: UPLOADERS, seconds: SECONDS };
  const rawDir = mkdir('raw-fsync');
  const raw = async (round) => {
    const cpu = startCpuUsage([]);
    const dir = join(rawDir, String(round));
    const result = await measureRawFsync({ dir, imagePath: image.path, ...load });
    result.cpu = cpu();
    result.cpu.perProcessCorePercent['raw-fsync'] = result.corePercent;
    rmSync(dir, { recursive: true, force: true }); // Gigabytes per round.
    log(`upload raw fsync x3: ${result.perSec.toFixed(1)}/s`);
    return result;
  };
  const legim = async () => {
    const cpu = startCpuUsage(clusterProcs(cluster));
    const result = await measureUploads({ gatewayUrl: cluster.gateway.url, bytes: image.bytes, ...load });
    result.cpu = cpu();
    log(`upload legim x3: ${result.perSec.toFixed(1)}/s`);
    return result;
  };
  const best = await bestOfRounds({ rounds: ROUNDS, sides: { raw, legim }, score: (r) => r.perSec });
  return { size: image.size, concurrency: UPLOADERS, ...best, target: TARGETS.upload };
}

function clusterProcs(cluster) {
  return [cluster.gateway.proc, ...cluster.nodes.map((node) => node.proc)];
}

/**
 * Runs the 20 KiB download load against a gateway and nodes restarted under
 * --cpu-prof (after the measurements, so the profiler's cost is in no number).
 */
async function profileSmallDownloads(cluster, wrk, image) {
  const dirs = { gateway: mkdir('cpu-profile/gateway'), nodes: mkdir('cpu-profile/nodes') };
  const profiler = (dir) => ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const gateway = await restartGateway(cluster, profiler(dirs.gateway));
  await restartNodes(cluster, profiler(dirs.nodes));
  const url = await uploadForDownloads(gateway.url, image.bytes);
  await runWrk({ binary: wrk, url, seconds: WARMUP_SECONDS, bodyBytes: image.size });
  const window = { from: microseconds() };
  const load = await runWrk({ binary: wrk, url, seconds: SECONDS, bodyBytes: image.size });
  window.to = microseconds();
  log(`profiled cluster: ${load.requestsPerSec.toFixed(0)} req/s (profiler overhead included)`);
  // Profiles are written when the processes exit.
  await Promise.all(clusterProcs(cluster).map((proc) => proc.stop()));
  return {
    requestsPerSec: load.requestsPerSec,
    gateway: summariseBusiestProfile(dirs.gateway, window),
    node: summariseBusiestProfile(dirs.nodes, window),
  };
}

function microseconds() {
  return Number(process.hrtime.bigint() / 1000n);
}

function machine(tools) {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    nginx: tools?.nginxVersion,
    wrk: tools?.wrkVersion,
  };
}

function settings() {
  return {
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    wrk: `-t${WRK_THREADS} -c${WRK_CONNECTIONS}`,
    nginxWorkers: NGINX_WORKERS,
    uploaders: UPLOADERS,
    rounds: `${ROUNDS}, alternating order, best kept`,
    replicas: 3,
    only: options.only ?? 'all',
    photos: PHOTOS,
    workers: WORKERS,
    latencyUploaders: LATENCY_UPLOADERS,
  };
}

function mkdir(name) {
  const path = join(workDir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

const START = performance.now();

function log(message) {
  console.log(`[bench ${((performance.now() - START) / 1000).toFixed(0).padStart(3)}s] ${message}`);
}

function removeWorkDir() {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

async function cleanUp() {
  await stopAll(3000);
  removeWorkDir();
}

// Whatever happens, no child and no temp folder outlives the run.
process.on('exit', () => {
  killAllNow();
  removeWorkDir();
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`[bench] ${signal}: stopping`);
    cleanUp().finally(() => process.exit(130));
  });
}
setTimeout(() => {
  console.error(`[bench] still running after ${WATCHDOG_MS / 1000}s; stopping`);
  cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS).unref();

try {
  await main();
} catch (error) {
  if (!interrupted) console.error(`[bench] failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
