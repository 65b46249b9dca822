// Legim's throughput benchmarks, each against a reference measured in the
// same run on the same machine (see bench/README.md). `npm run bench`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { restartGateway, restartNodes, startCluster, uploadForDownloads } from './lib/cluster.mjs';
import { summariseBusiestProfile } from './lib/cpu-profile.mjs';
import { startCpuUsage } from './lib/cpu-usage.mjs';
import { makeImages } from './lib/fixtures.mjs';
import { NGINX_WORKERS, startNginx } from './lib/nginx.mjs';
import { killAllNow, stopAll } from './lib/processes.mjs';
import { measureRawFsync } from './lib/raw-fsync.mjs';
import { bestOfRounds } from './lib/rounds.mjs';
import { printCpu, printProfile, printTable, tableRows, writeResults } from './lib/report.mjs';
import { findTools } from './lib/tools.mjs';
import { measureUploads } from './lib/upload-load.mjs';
import { WRK_CONNECTIONS, WRK_THREADS, runWrk } from './lib/wrk.mjs';

const { values: options } = parseArgs({
  options: {
    profile: { type: 'boolean', default: process.env.BENCH_PROFILE === '1' },
    seconds: { type: 'string', default: '5' },
    uploaders: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
  },
});
const SECONDS = Number(options.seconds);
const WARMUP_SECONDS = 1;
const UPLOADERS = Number(options.uploaders);
const ROUNDS = Number(options.rounds);
// Loads run back to back; a hung server must not hang the run (the default
// run must end well inside 3 minutes, build included).
const LOADS = 6 * ROUNDS + (options.profile ? 2 : 0);
const WATCHDOG_MS = Math.max(120, 1.6 * (LOADS * SECONDS + 30)) * 1000;
const TARGETS = { small: { metric: 'req/s', ratio: 0.2 }, large: { metric: 'MB/s', ratio: 0.5 }, upload: 0.5 };

let workDir;
let interrupted = false;

async function main() {
  const tools = findTools();
  workDir = mkdtempSync(join(tmpdir(), 'legim-bench-'));
  // nginx workers must be able to walk into it.
  chmodSync(workDir, 0o755);
  const images = await makeImages(mkdir('images'));
  log(`images: ${images.small.size} B and ${images.large.size} B`);
  const cluster = await startCluster({ dir: mkdir('cluster') });
  log(`cluster: gateway ${cluster.gateway.url}, ${cluster.nodes.length} nodes up`);
  const nginx = await startNginx({ binary: tools.nginx, dir: mkdir('nginx'), files: [images.small, images.large] });
  log(`nginx: ${nginx.url} (${NGINX_WORKERS} worker)`);

  const results = { startedAt: new Date().toISOString(), machine: machine(tools), settings: settings(), downloads: {} };
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

async function compareDownloads(wrk, image, urls, watched) {
  const measure = (name) => async (round) => {
    const url = urls[name];
    if (round === 0) await runWrk({ binary: wrk, url, seconds: WARMUP_SECONDS, bodyBytes: image.size });
    const cpu = startCpuUsage(watched);
    const result = await runWrk({ binary: wrk, url, seconds: SECONDS, bodyBytes: image.size });
    result.cpu = cpu();
    log(`download ${image.name} ${name}: ${result.requestsPerSec.toFixed(0)} req/s, ${result.payloadMBps.toFixed(1)} MB/s`);
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
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, nginx: tools.nginxVersion, wrk: tools.wrkVersion };
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
  };
}

function mkdir(name) {
  const path = join(workDir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

function log(message) {
  console.log(`[bench] ${message}`);
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
