import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { repoRoot } from './paths.mjs';
import { firstJsonLine, spawnTracked } from './processes.mjs';

const SECRET = 'bench-cluster-secret-0123456789';
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
export const MAX_DOWNLOADS = 1_000_000;

/**
 * A production-shaped cluster: the gateway and each storage node in its own
 * OS process (test-support/*-process.mjs), all on 127.0.0.1, data under dir.
 * gatewayFlags adds to or overrides the gateway's flags (e.g. `workers`).
 * tls ({cert, key, ca}: PEM paths) serves HTTPS everywhere; then
 * `cluster.dispatcher` trusts the CA, for the bench's own requests.
 */
export async function startCluster({ dir, nodes = 3, gatewayFlags = {}, tls }) {
  const flags = {
    port: 0,
    data: join(dir, 'gateway'),
    secret: SECRET,
    adminKey: ADMIN_KEY,
    store: false,
    maxDownloads: String(MAX_DOWNLOADS),
    ...(tls && { tlsCert: tls.cert, tlsKey: tls.key, ca: tls.ca }),
    ...gatewayFlags,
  };
  const dispatcher = tls ? new Agent({ connect: { ca: readFileSync(tls.ca) } }) : undefined;
  const cluster = { flags, nodes: [], dispatcher, gateway: await startGatewayProcess(flags) };
  for (let i = 1; i <= nodes; i++) cluster.nodes.push(await startNodeProcess(dir, i, cluster.gateway.url, tls));
  await waitForNodesUp(cluster.gateway.url, nodes, { dispatcher });
  return cluster;
}

/**
 * nodeArgs lets the profiler run the gateway under --cpu-prof; a second
 * gateway on the same data (same flags, another port) gets its own name.
 */
export async function startGatewayProcess(flags, nodeArgs = [], name = 'gateway') {
  const script = join(repoRoot, 'test-support/gateway-process.mjs');
  const proc = spawnTracked(name, process.execPath, [...nodeArgs, script, JSON.stringify(flags)], { cwd: repoRoot });
  const { url } = await firstJsonLine(proc);
  // The moment it listens: with image workers, its image process is up and it is already taking jobs.
  return { proc, url, readyAt: performance.now() };
}

async function startNodeProcess(dir, index, parentUrl, tls) {
  const dataDir = join(dir, `node-${index}`);
  mkdirSync(dataDir, { recursive: true });
  const config = { host: '127.0.0.1', port: 0, dataDir, parentUrl, secret: SECRET, heartbeatMs: 1000 };
  if (tls) config.tlsFiles = tls;
  return spawnNode(`node-${index}`, config);
}

async function spawnNode(name, config, nodeArgs = []) {
  const script = join(repoRoot, 'test-support/node-process.mjs');
  const proc = spawnTracked(name, process.execPath, [...nodeArgs, script, JSON.stringify(config)], { cwd: repoRoot });
  const { nodeId, url } = await firstJsonLine(proc);
  return { proc, nodeId, url, config };
}

/**
 * Stops the gateway and starts it again on the same port and data (the nodes
 * keep heartbeating to it); flagChanges (e.g. `workers`, `queuePrefix`) stay
 * in effect for later restarts.
 */
export async function restartGateway(cluster, nodeArgs = [], flagChanges = {}) {
  await cluster.gateway.proc.stop();
  cluster.flags = { ...cluster.flags, ...flagChanges, port: Number(new URL(cluster.gateway.url).port) };
  cluster.gateway = await startGatewayProcess(cluster.flags, nodeArgs);
  await waitForNodesUp(cluster.gateway.url, cluster.nodes.length, { dispatcher: cluster.dispatcher });
  return cluster.gateway;
}

/** Restarts every storage node on its own port and data (nodeArgs as for the gateway). */
export async function restartNodes(cluster, nodeArgs) {
  for (const [i, node] of cluster.nodes.entries()) {
    await node.proc.stop();
    const config = { ...node.config, port: Number(new URL(node.url).port) };
    cluster.nodes[i] = await spawnNode(node.proc.name, config, nodeArgs);
  }
  await waitForNodesUp(cluster.gateway.url, cluster.nodes.length, { dispatcher: cluster.dispatcher });
}

export async function waitForNodesUp(gatewayUrl, count, { timeoutMs = 20_000, dispatcher } = {}) {
  const deadline = Date.now() + timeoutMs;
  let seen = [];
  while (Date.now() < deadline) {
    const res = await request(`${gatewayUrl}/v1/cluster`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      ...(dispatcher && { dispatcher }),
    });
    const view = await res.body.json();
    seen = (view.nodes ?? []).map((node) => node.status);
    if (seen.filter((status) => status === 'up').length >= count) return;
    await sleep(100);
  }
  throw new Error(`the gateway never saw ${count} nodes up (saw: ${seen.join(', ') || 'none'})`);
}

/** Uploads one file that survives the whole benchmark; returns its /d/ URL. */
export async function uploadForDownloads(gatewayUrl, bytes, dispatcher) {
  const res = await request(`${gatewayUrl}/v1/files?downloads=${MAX_DOWNLOADS}&ttl=1h`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: bytes,
    headersTimeout: 30_000,
    ...(dispatcher && { dispatcher }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${text}`);
  const file = JSON.parse(text);
  if (file.size !== bytes.length) throw new Error(`upload stored ${file.size} bytes, sent ${bytes.length}`);
  return `${gatewayUrl}/d/${file.id}`;
}
