// A standalone benchmark of one storage node, without the gateway: wrk GETs of
// a 20 KiB and a 1 MB blob, and 8 closed-loop uploaders PUTting 1 MB blobs the
// way the gateway does (chunked, digest in a trailer, a fresh key each time).
// Prints req/s, latency and the node's CPU per request (from /proc).
//
//   npm run build && node packages/node/scripts/bench-node.mjs [--seconds 5] [--rounds 2] [--only get20k,get1m,put1m]
//     [--store '{"infoCacheEntries":0}'] (BlobStoreOptions to compare settings) [--profile] (CPU profile of the node)
//     [--module /path/to/other/dist/index.js] (another build of @legim/node, e.g. before a change)
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
if (process.argv[2] === '--child')
  await runChildNode(JSON.parse(process.argv[3]), JSON.parse(process.argv[4]), process.argv[5]);
const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: '{}' },
    module: { type: 'string', default: '@legim/node' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    only: { type: 'string', default: 'get20k,get1m,put1m' },
    profile: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const SECRET = 'bench-secret';
const TICKS_PER_SEC = 100;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const dir = await mkdtemp(join(tmpdir(), 'legim-node-bench-'));
const config = { host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), secret: SECRET, heartbeatMs: 1000 };
const profileDir = join(dir, 'profile');
const nodeArgs = args.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
const windows = [];
const child = spawn(
  process.execPath,
  [...nodeArgs, fileURLToPath(import.meta.url), '--child', JSON.stringify(config), args.store, args.module],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  const { url } = await new Promise((resolveStart, reject) => {
    child.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
    child.stdout.once('data', (line) => resolveStart(JSON.parse(String(line))));
  });
  const small = randomBytes(20 * 1024);
  const fixtures = process.env.LEGIM_FIXTURES ?? join(root, 'test-support/fixtures/images');
  const large = readFileSync(join(fixtures, 'photo-camera-exif-dune-1680x1050.jpg'));
  await putOnce(url, 'small', small);
  await putOnce(url, 'large', large);
  const loads = {
    get20k: { warmUp: () => wrk(`${url}/blobs/small`, 1), run: () => wrkLoad(`${url}/blobs/small`) },
    get1m: { warmUp: () => wrk(`${url}/blobs/large`, 1), run: () => wrkLoad(`${url}/blobs/large`) },
    put1m: { warmUp: async () => undefined, run: () => uploadLoad(url, large, 8) },
  };
  const rows = [];
  for (const name of args.only.split(',')) {
    let best;
    for (let round = 0; round < Number(args.rounds); round++) {
      const result = await measured(loads[name]);
      if (!best || result.perSec > best.perSec) best = result;
    }
    rows.push({ name, ...best });
  }
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(7)} ${row.perSec.toFixed(0).padStart(7)} req/s  p50 ${row.p50}  p99 ${row.p99}  ` +
        `node ${row.nodeCorePercent}% of a core, ${row.usPerRequest.toFixed(0)} us CPU/request (${Math.round(100 * row.sysShare)}% in the kernel)`,
    );
  }
} finally {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
  if (args.profile) await printProfile();
  await rm(dir, { recursive: true, force: true });
}

async function measured(load) {
  await load.warmUp();
  const ticks0 = nodeTicks();
  const sys0 = nodeTicks('sys');
  const t0 = process.hrtime.bigint();
  const result = await load.run();
  const t1 = process.hrtime.bigint();
  const sysShare = (nodeTicks('sys') - sys0) / Math.max(1, nodeTicks() - ticks0);
  windows.push({ from: Number(t0 / 1000n), to: Number(t1 / 1000n) });
  const seconds = Number(t1 - t0) / 1e9;
  const cpuSeconds = (nodeTicks() - ticks0) / TICKS_PER_SEC;
  return {
    ...result,
    nodeCorePercent: Math.round((100 * cpuSeconds) / seconds),
    usPerRequest: (cpuSeconds * 1e6) / result.count,
    sysShare,
  };
}

function wrk(target, seconds) {
  return promisify(execFile)('wrk', [
    '-t2',
    '-c32',
    `-d${seconds}s`,
    '--latency',
    '-H',
    `Authorization: Bearer ${SECRET}`,
    target,
  ]);
}

async function wrkLoad(target) {
  const { stdout } = await wrk(target, SECONDS);
  if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(stdout);
  const count = Number(/(\d+) requests in/.exec(stdout)[1]);
  const perSec = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)[1]);
  return { count, perSec, p50: /^\s+50%\s+(\S+)/m.exec(stdout)[1], p99: /^\s+99%\s+(\S+)/m.exec(stdout)[1] };
}

async function uploadLoad(url, bytes, uploaders) {
  const digest = sha256(bytes);
  const agent = new Agent({ keepAlive: true, maxSockets: uploaders });
  const latencies = [];
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const t0 = performance.now();
      const status = await chunkedPut(agent, `${url}/blobs/${randomUUID()}`, bytes, digest);
      if (status !== 201) throw new Error(`PUT answered ${status}`);
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: uploaders }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => `${latencies[Math.floor(q * (latencies.length - 1))].toFixed(1)}ms`;
  return { count: latencies.length, perSec: latencies.length / seconds, p50: at(0.5), p99: at(0.99) };
}

/** Like the gateway: chunked, 64 KiB writes, the digest as a trailer. */
function chunkedPut(agent, target, bytes, digest) {
  return new Promise((done, reject) => {
    const req = request(target, {
      method: 'PUT',
      agent,
      headers: { authorization: `Bearer ${SECRET}`, 'transfer-encoding': 'chunked', trailer: 'Legim-Sha256' },
    });
    req.on('error', reject);
    req.on('response', (res) => res.resume().on('end', () => done(res.statusCode)));
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
      req.write(bytes.subarray(offset, offset + 64 * 1024));
    req.addTrailers({ 'Legim-Sha256': digest });
    req.end();
  });
}

async function putOnce(url, key, bytes) {
  const res = await fetch(`${url}/blobs/${key}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${SECRET}`, 'legim-sha256': sha256(bytes) },
    body: bytes,
  });
  if (res.status !== 201) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
}

/** utime + stime of the node process (all its threads), or only stime with 'sys'. */
function nodeTicks(which = 'all') {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (which === 'sys' ? 0 : Number(fields[11])) + Number(fields[12]);
}

/** With --profile: where the node's CPU went during the measured loads (not the warm-ups or start-up). */
async function printProfile() {
  const { summarise } = await import(join(root, 'bench/lib/cpu-profile.mjs'));
  const { readdirSync } = await import('node:fs');
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));
  const window = { from: windows[0].from, to: windows.at(-1).to };
  const summary = summarise(profile, window, 25);
  console.log(`busy ${summary.busyPercent}% of the samples`);
  for (const { name, percent } of summary.selfTop) console.log(`  self ${String(percent).padStart(5)}%  ${name}`);
  for (const { name, percent } of summary.legimInclusiveTop)
    console.log(`  incl ${String(percent).padStart(5)}%  ${name}`);
}

/** The node under test, in its own process: startNode's set-up, with the store options given. */
async function runChildNode(config, storeOptions, module) {
  const { createServer } = await import('node:http');
  const { BlobStore, createNodeServer } = await import(module);
  const store = new BlobStore({ dataDir: config.dataDir, ...storeOptions });
  await store.init();
  const server = createServer(
    createNodeServer({ store, secret: config.secret, nodeId: 'bench', log: () => undefined }),
  );
  server.listen(0, config.host, () =>
    process.stdout.write(JSON.stringify({ url: `http://${config.host}:${server.address().port}` }) + '\n'),
  );
  process.on('SIGTERM', () => server.close(() => process.exit(0)) && server.closeAllConnections());
  await new Promise(() => undefined);
}
