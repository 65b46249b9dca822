import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster, uploadForDownloads } from './cluster.mjs';
import { bestOfRounds } from './rounds.mjs';
import { measureUploads } from './upload-load.mjs';
import { runWrk } from './wrk.mjs';

/** The PostgreSQL the benchmark's index lives in (a schema of its own, dropped at the end). */
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The same cluster shape twice, one with its index in SQLite (the
 * reference) and one in PostgreSQL, both up at once so their rounds
 * alternate on the same machine state: 20 KiB downloads (wrk, one counted
 * download each) and 1 MB uploads (3 copies each).
 */
export async function compareEngines({ wrk, images, dir, seconds, warmupSeconds, rounds, uploaders, log }) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const database = new URL(POSTGRES_URL);
  database.searchParams.set('schema', schema);
  const clusters = {
    sqlite: await startCluster({ dir: join(dir, 'sqlite'), gatewayFlags: { workers: 0 } }),
    postgres: await startCluster({
      dir: join(dir, 'postgres'),
      gatewayFlags: { workers: 0, database: database.toString() },
    }),
  };
  try {
    const downloads = await bestOfRounds({
      rounds,
      score: (r) => r.requestsPerSec,
      sides: sidesFor(clusters, async (cluster, name, round) => {
        const url = await uploadForDownloads(cluster.gateway.url, images.small.bytes);
        if (round === 0) await runWrk({ binary: wrk, url, seconds: warmupSeconds, bodyBytes: images.small.size });
        const result = await runWrk({ binary: wrk, url, seconds, bodyBytes: images.small.size });
        log(`download ${images.small.name} on ${name}: ${result.requestsPerSec.toFixed(0)} req/s`);
        return result;
      }),
    });
    const uploads = await bestOfRounds({
      rounds,
      score: (r) => r.perSec,
      sides: sidesFor(clusters, async (cluster, name) => {
        const load = { gatewayUrl: cluster.gateway.url, bytes: images.large.bytes, concurrency: uploaders, seconds };
        const result = await measureUploads(load);
        log(`upload ${images.large.name} on ${name}: ${result.perSec.toFixed(1)}/s`);
        return result;
      }),
    });
    return { smallSize: images.small.size, largeSize: images.large.size, downloads, uploads };
  } finally {
    await Promise.all(
      Object.values(clusters).flatMap((cluster) =>
        [cluster.gateway.proc, ...cluster.nodes.map((node) => node.proc)].map((proc) => proc.stop()),
      ),
    );
    await dropSchema(schema);
  }
}

function sidesFor(clusters, measure) {
  return Object.fromEntries(
    Object.entries(clusters).map(([name, cluster]) => [name, (round) => measure(cluster, name, round)]),
  );
}

async function dropSchema(schema) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
