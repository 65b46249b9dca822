// How fast the gateway rebuilds a lost index from its storage nodes (see bench/README.md,
// "Index rebuild"). `node bench/index-rebuild.mjs [--files 10000] [--copies 3] [--profile]` after a build.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { restartGateway, restartNodes, startCluster } from './lib/cluster.mjs';
import { summariseBusiestProfile } from './lib/cpu-profile.mjs';
import { killAllNow, stopAll } from './lib/processes.mjs';

const SECRET = 'bench-cluster-secret-0123456789';
const ADMIN = { authorization: 'Bearer bench-admin-key-0123456789abcdef' };
/** PUTs in flight per node while planting. */
const PLANT_CONCURRENCY = 16;

const { values: options } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    copies: { type: 'string', default: '3' },
    // CPU-profiles the gateway and the nodes during the rebuild (node --cpu-prof).
    profile: { type: 'boolean', default: false },
  },
});
const FILES = Number(options.files);
const COPIES = Number(options.copies);

const workDir = mkdtempSync(join(tmpdir(), 'legim-bench-rebuild-'));
process.on('exit', killAllNow);
process.on('SIGINT', () => process.exit(130));

try {
  // workers: 0: restored files wait for their previews in the queue, so the rebuild is timed alone.
  const cluster = await startCluster({ dir: workDir, nodes: 3, gatewayFlags: { workers: '0' } });
  const nodes = cluster.nodes.slice(0, COPIES);
  console.log(`[bench] planting ${FILES} files × ${nodes.length} copies straight on the nodes`);
  const plantStarted = performance.now();
  await plant(nodes);
  console.log(`[bench] planted in ${((performance.now() - plantStarted) / 1000).toFixed(1)} s`);

  // Lose the index: stop the gateway, delete its database, start it again on the same data.
  await cluster.gateway.proc.stop();
  for (const suffix of ['', '-wal', '-shm']) {
    rmSync(join(cluster.flags.data, `metadata.db${suffix}`), { force: true });
  }
  const dirs = { gateway: join(workDir, 'profile-gateway'), nodes: join(workDir, 'profile-nodes') };
  const profiler = (dir) => (options.profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
  if (options.profile) for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  await restartGateway(cluster, profiler(dirs.gateway));
  if (options.profile) await restartNodes(cluster, profiler(dirs.nodes));
  const window = { from: microseconds() };

  const started = performance.now();
  const start = await fetch(`${cluster.gateway.url}/v1/index/rebuild`, { method: 'POST', headers: ADMIN });
  if (start.status !== 202) throw new Error(`POST /v1/index/rebuild answered ${start.status}: ${await start.text()}`);
  let progress;
  for (;;) {
    progress = await (await fetch(`${cluster.gateway.url}/v1/index/rebuild`, { headers: ADMIN })).json();
    if (progress.state !== 'running') break;
    await sleep(100);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  window.to = microseconds();
  if (progress.state !== 'done') throw new Error(`the rebuild ${progress.state}: ${progress.lastError}`);
  if (progress.filesRestored !== FILES) {
    throw new Error(`restored ${progress.filesRestored} files, planted ${FILES}: ${JSON.stringify(progress)}`);
  }
  const rebuildSeconds = (Date.parse(progress.finishedAt) - Date.parse(progress.startedAt)) / 1000;
  console.log(
    `[bench] index rebuild: ${FILES} files (${progress.blobsSeen} copies on ${progress.nodes.scanned} nodes) ` +
      `in ${rebuildSeconds.toFixed(2)} s = ${Math.round(FILES / rebuildSeconds)} files/s ` +
      `(wall clock with polling: ${wallSeconds.toFixed(2)} s)`,
  );
  if (options.profile) {
    // Profiles are written when the processes exit.
    await stopAll();
    for (const [name, dir] of Object.entries(dirs)) printProfile(name, summariseBusiestProfile(dir, window));
  }
} finally {
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
}

function microseconds() {
  return Number(process.hrtime.bigint() / 1000n);
}

function printProfile(name, profile) {
  console.log(`\nCPU profile of the busiest ${name} process (busy in ${profile.busyPercent}% of samples):`);
  for (const { name: area, percent } of profile.areas) console.log(`  ${String(percent).padStart(5)}%  ${area}`);
  for (const { name: fn, percent } of profile.selfTop) console.log(`  ${String(percent).padStart(5)}%  ${fn}`);
}

/** PUTs FILES small originals with full sidecar meta (as an upload writes it) on every node, through the node API. */
async function plant(nodes) {
  const pools = nodes.map((node) => new Pool(node.url, { connections: PLANT_CONCURRENCY }));
  const now = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < FILES) {
      const index = next++;
      const bytes = randomBytes(256);
      const fileId = randomUUID();
      const meta = {
        fileId,
        title: `bench-${index}`,
        contentType: 'image/png',
        extension: 'png',
        width: 16,
        height: 16,
        maxDownloads: 10,
        createdAt: now,
        expiresAt: now + 24 * 3600_000,
        deleteTokenHash: createHash('sha256').update(fileId).digest('hex'),
        replicasWanted: nodes.length,
      };
      const headers = {
        authorization: `Bearer ${SECRET}`,
        'legim-sha256': createHash('sha256').update(bytes).digest('hex'),
        'legim-meta': Buffer.from(JSON.stringify(meta)).toString('base64url'),
      };
      await Promise.all(
        pools.map(async (pool) => {
          const res = await pool.request({ method: 'PUT', path: `/blobs/${fileId}`, headers, body: bytes });
          const text = await res.body.text();
          if (res.statusCode !== 201) throw new Error(`PUT answered ${res.statusCode}: ${text}`);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: PLANT_CONCURRENCY }, worker));
  await Promise.all(pools.map((pool) => pool.close()));
}
