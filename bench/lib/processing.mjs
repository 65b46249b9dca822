import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { restartGateway } from './cluster.mjs';
import { startCpuUsage } from './cpu-usage.mjs';
import { measureUploads } from './upload-load.mjs';

// The gateway's default (config.ts): images its image process makes at once.
export const WORKERS = 2;
const POLL_MS = 50;

/**
 * Worker throughput: the photos are uploaded to the gateway with its
 * workers off (`workers: 0`), so their `process` jobs wait in the queue; the
 * gateway is then restarted with `workers: 2` on the same data and the clock
 * runs from the moment it listens (its image process has loaded sharp, and it
 * is already taking jobs) until the last photo reads `status: 'ready'`.
 * Uploads and processing therefore never overlap: the time is the workers'
 * alone, including reading each original from a storage node and storing 3
 * variants × 3 copies. The image process is a child of the gateway, so its
 * CPU counts as the gateway's.
 */
export async function measureWorkerThroughput({ cluster, photos, queuePrefix, timeoutMs, workers = WORKERS }) {
  const setup = await queueBacklog(cluster, photos.copies, queuePrefix, [], workers);
  const { gateway, ids } = setup;
  const cpu = startCpuUsage(clusterProcs(cluster));
  const doneAt = await waitAllReady(gateway.url, ids, timeoutMs);
  const elapsedSec = (doneAt - gateway.readyAt) / 1000;
  const usage = cpu();
  const corePercent = Object.values(usage.perProcessCorePercent).reduce((sum, pct) => sum + pct, 0);
  return {
    count: ids.length,
    elapsedSec,
    perSec: ids.length / elapsedSec,
    cpu: usage,
    cpuMsPerPhoto: (corePercent * 10 * usage.seconds) / ids.length,
    firstPhotoVariants: await variantsOf(gateway.url, ids[0]),
    setupSec: setup.seconds,
  };
}

/**
 * Upload latency with the workers idle: the gateway runs with `workers: 0`
 * (the uploads' own `process` jobs wait in the queue, untouched).
 */
export async function measureIdleUploads({ cluster, bytes, concurrency, seconds, queuePrefix, gatewayArgs = [] }) {
  await restartGateway(cluster, gatewayArgs, { workers: 0, queuePrefix });
  const cpu = startCpuUsage(clusterProcs(cluster));
  const result = await measureUploads({ gatewayUrl: cluster.gateway.url, bytes, concurrency, seconds });
  return { ...result, cpu: cpu() };
}

/**
 * Upload latency with the workers saturated: a backlog of 12 MP photos is
 * queued (workers off), the gateway restarts with `workers: 2` and, once both
 * workers are busy, the same upload load runs. The backlog must outlast the
 * load: saturated throughout means at least one photo per worker was still
 * not ready when the load ended (jobs are taken in queue order).
 */
export async function measureBusyUploads({
  cluster,
  bytes,
  concurrency,
  seconds,
  photos,
  backlog,
  queuePrefix,
  gatewayArgs,
}) {
  const setup = await queueBacklog(cluster, photos.copies.slice(0, backlog), queuePrefix, gatewayArgs);
  const { gateway, ids } = setup;
  // Both workers have their first photo in hand well within this.
  await sleep(500);
  const readyBefore = await countReady(gateway.url, ids);
  const cpu = startCpuUsage(clusterProcs(cluster));
  const result = await measureUploads({ gatewayUrl: gateway.url, bytes, concurrency, seconds });
  const usage = cpu();
  const readyAfter = await countReady(gateway.url, ids);
  return {
    ...result,
    cpu: usage,
    backlog: {
      photos: ids.length,
      processedDuringLoad: readyAfter - readyBefore,
      photosPerSecDuringLoad: (readyAfter - readyBefore) / result.elapsedSec,
      waitingAtEnd: ids.length - readyAfter,
      saturatedThroughout: ids.length - readyAfter >= WORKERS,
    },
    setupSec: setup.seconds,
  };
}

/**
 * Queues a `process` job per photo with the workers off, then restarts the
 * gateway with its workers on; they start on the backlog as it starts.
 */
async function queueBacklog(cluster, copies, queuePrefix, gatewayArgs = [], workers = WORKERS) {
  const t0 = performance.now();
  await restartGateway(cluster, [], { workers: 0, queuePrefix });
  const t1 = performance.now();
  const ids = await uploadPhotos(cluster.gateway.url, copies);
  const t2 = performance.now();
  const gateway = await restartGateway(cluster, gatewayArgs, { workers, queuePrefix });
  const seconds = {
    restartIdle: (t1 - t0) / 1000,
    upload: (t2 - t1) / 1000,
    restartWorkers: (gateway.readyAt - t2) / 1000,
  };
  return { gateway, ids, seconds };
}

export function clusterProcs(cluster) {
  return [cluster.gateway.proc, ...cluster.nodes.map((node) => node.proc)];
}

/** Uploads every copy, 2 at once; returns their ids in upload order (the queue's order). */
async function uploadPhotos(gatewayUrl, copies) {
  const pool = new Pool(gatewayUrl, { connections: 2, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  try {
    const ids = new Array(copies.length);
    let next = 0;
    const lane = async () => {
      while (next < copies.length) {
        const i = next++;
        const res = await pool.request({
          method: 'POST',
          path: '/v1/files?downloads=1&ttl=1h',
          headers: { 'content-type': 'image/jpeg', 'content-length': String(copies[i].bytes.length) },
          body: copies[i].bytes,
        });
        const text = await res.body.text();
        if (res.statusCode !== 201) throw new Error(`photo upload answered ${res.statusCode}: ${text}`);
        ids[i] = JSON.parse(text).id;
      }
    };
    await Promise.all([lane(), lane()]);
    return ids;
  } finally {
    await pool.close();
  }
}

/**
 * Polls `GET /v1/files/:id` of the oldest photo not yet seen ready (jobs are
 * taken in queue order), so polling adds one cheap request per 50 ms; returns
 * when the last one was seen ready.
 */
async function waitAllReady(gatewayUrl, ids, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let i = 0;
  while (i < ids.length) {
    const file = await fileInfo(gatewayUrl, ids[i]);
    if (file.status === 'ready') {
      i++;
      continue;
    }
    if (file.status === 'failed')
      throw new Error(`processing ${ids[i]} failed: ${file.statusReason ?? 'no reason given'}`);
    if (performance.now() > deadline)
      throw new Error(`only ${i} of ${ids.length} photos ready after ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
  return performance.now();
}

async function countReady(gatewayUrl, ids) {
  let ready = 0;
  for (const id of ids) if ((await fileInfo(gatewayUrl, id)).status === 'ready') ready++;
  return ready;
}

async function variantsOf(gatewayUrl, id) {
  const { variants } = await fileInfo(gatewayUrl, id);
  return Object.entries(variants).map(([name, { width, height, size }]) => ({ name, width, height, size }));
}

async function fileInfo(gatewayUrl, id) {
  const res = await request(`${gatewayUrl}/v1/files/${id}`);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /v1/files/${id} answered ${res.statusCode}: ${text}`);
  return JSON.parse(text);
}

/** The worker must have made what raw sharp made: same variants, same sizes (processImage is deterministic). */
export function checkSameWork(worker, raw) {
  const key = (list) =>
    JSON.stringify(
      [...list]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map(({ name, width, height, size }) => [name, width, height, size]),
    );
  if (key(worker) !== key(raw)) {
    throw new Error(
      `the workers and raw sharp made different variants:\nworkers: ${key(worker)}\nraw:     ${key(raw)}`,
    );
  }
}
