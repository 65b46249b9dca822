#!/usr/bin/env node
// Index size and hot-statement cost of the real index engines (PostgreSQL and SQLite), for docs/scaling.md.
//
//   npm run build && node bench/index-size.mjs [--files 100000]
//
// Options: --files N (100000), --engines postgres,sqlite, --concurrency 8 (writers in flight),
// --in-flight 16 (takes and lookups in flight), --takes 2000, --lookups 2000, --nodes 12,
// --pg postgres://postgres@127.0.0.1:5432/test, --no-intents, --no-outbox, --json FILE, --max-seconds 300
// (writing stops after this long per engine; sizes and rates are then per file actually written, and say so).
//
// Each file is written as production writes it: an upload intent for the original (pending_blob_deletes),
// insertFile with 3 durable copies, then per variant (thumb, small, webp) an intent, and recordVariants with
// 3 copies each: 1 files row, 4 blobs x 3 copies = 12 replicas rows, 3 variants rows. The upload's `expire` job
// sits in the RabbitMQ outbox until the file expires, so one outbox row per file is written too (--no-outbox).
// PostgreSQL runs in a fresh schema that is dropped at the end (also on failure or Ctrl-C); SQLite in a temp folder.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openIndexEngine, parseDatabase } from '@legim/server';

const { values: opts } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    engines: { type: 'string', default: 'postgres,sqlite' },
    concurrency: { type: 'string', default: '8' },
    'in-flight': { type: 'string', default: '16' },
    takes: { type: 'string', default: '2000' },
    lookups: { type: 'string', default: '2000' },
    nodes: { type: 'string', default: '12' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'no-intents': { type: 'boolean', default: false },
    'no-outbox': { type: 'boolean', default: false },
    json: { type: 'string' },
    'max-seconds': { type: 'string', default: '300' },
  },
});
const FILES = Number(opts.files);
const CONCURRENCY = Number(opts.concurrency);
const IN_FLIGHT = Number(opts['in-flight']);
const TAKES = Number(opts.takes);
const LOOKUPS = Number(opts.lookups);
const NODE_COUNT = Number(opts.nodes);
const HOUR = 3600_000;
const OUTBOX_PREFIX = 'bench';
// Writing stops after this many seconds per engine; the sizes are then divided by the files actually written.
const MAX_SECONDS = Number(opts['max-seconds']);

const NODES = Array.from({ length: NODE_COUNT }, () => `n-${randomBytes(4).toString('hex')}`);
const VARIANTS = [
  { name: 'thumb', edge: 256, bytes: [6_000, 20_000] },
  { name: 'small', edge: 1024, bytes: [60_000, 180_000] },
  { name: 'webp', edge: 4000, bytes: [300_000, 900_000] },
];

const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo));
const hex = () => randomBytes(32).toString('hex');
const pickNodes = (n = 3) => {
  const picked = new Set();
  while (picked.size < n) picked.add(NODES[rand(0, NODES.length)]);
  return [...picked];
};
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A file record with the field lengths an upload writes (UUID id, hex digests, a camera file name). */
function newFile(now, maxDownloads = 100) {
  const width = rand(800, 6000);
  return {
    id: randomUUID(),
    title: `IMG_2024${String(rand(101, 1231)).padStart(4, '0')}_${String(rand(0, 235959)).padStart(6, '0')}.jpg`,
    size: rand(300_000, 3_000_000),
    contentType: 'image/jpeg',
    extension: 'jpg',
    width,
    height: Math.round((width * 3) / 4),
    sha256: hex(),
    maxDownloads,
    downloadsLeft: maxDownloads,
    createdAt: now,
    expiresAt: now + rand(HOUR, 30 * 24 * HOUR),
    deleteAt: null,
    deleteReason: null,
    deleteTokenHash: createHash('sha256').update(randomBytes(24)).digest('hex'),
    status: 'processing',
    statusReason: null,
    replicasWanted: 3,
  };
}

/**
 * Runs `task(i)` for i in [0, total) with `concurrency` in flight, starting none after `deadline`
 * (performance.now() time); returns the wall time in ms and how many tasks ran.
 */
async function pool(total, concurrency, task, onProgress, deadline = Infinity) {
  let next = 0;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total && performance.now() < deadline; i = next++) {
        await task(i);
        done++;
        onProgress?.(done);
      }
    }),
  );
  return Object.assign(performance.now() - started, { done });
}

/** Writes one file as an upload and its processing job do. */
async function writeFile(engine, outbox, file, now) {
  const m = engine.metadata;
  const original = pickNodes();
  if (!opts['no-intents']) await m.recordUploadIntent(file.id, original, now + HOUR);
  await m.insertFile(file, { durable: original, pending: [] }, now);
  if (outbox) {
    const job = { id: randomUUID(), type: 'expire', fileId: file.id, runAt: file.expiresAt, attempts: 1 };
    await outbox.insert(job, `expire:${file.id}`, file.expiresAt, 0);
  }
  const variants = VARIANTS.map((v) => ({
    variant: {
      name: v.name,
      contentType: 'image/webp',
      width: Math.min(v.edge, file.width),
      height: Math.round((Math.min(v.edge, file.width) * 3) / 4),
      size: rand(v.bytes[0], v.bytes[1]),
      sha256: hex(),
    },
    nodeIds: pickNodes(),
  }));
  if (!opts['no-intents']) {
    for (const v of variants) await m.recordUploadIntent(`${file.id}.${v.variant.name}`, v.nodeIds, now + HOUR);
  }
  if (!(await m.recordVariants(file.id, variants, now))) throw new Error(`file ${file.id} vanished`);
}

/** The hot statements, `IN_FLIGHT` at once. */
async function hotStatements(engine, ids, hotId) {
  const m = engine.metadata;
  const any = () => ids[rand(0, ids.length)];
  const rate = async (count, fn) => {
    let failures = 0;
    const ms = await pool(count, IN_FLIGHT, async () => {
      if ((await fn()) === false) failures++;
    });
    return { count, perSec: (count / ms) * 1000, msEach: ms / count, failures };
  };
  const take = (id) => async () => (await engine.counter.take(id, Date.now(), 60_000)).ok;
  return {
    takeSpread: await rate(TAKES, () => take(any())()),
    takeOneFile: await rate(TAKES, take(hotId)),
    getFile: await rate(LOOKUPS, async () => (await m.getFile(any())) !== undefined),
    replicaNodes: await rate(LOOKUPS, async () => (await m.replicaNodes(any())).length === 3),
  };
}

/** The cross-file scans: repair's walk, a drain's listing of one node, one page of the expiry sweep. */
async function scans(engine) {
  const m = engine.metadata;
  let started = performance.now();
  let pages = 0;
  let keys = 0;
  for (let after = ''; ; pages++) {
    const page = await m.walkBlobs(after, 1000);
    keys += 1000;
    if (page.lastKey === undefined) break;
    after = page.lastKey;
  }
  const walk = { pages: pages + 1, ms: performance.now() - started };
  started = performance.now();
  let nodeKeys = 0;
  pages = 0;
  for (let after = ''; ; pages++) {
    const page = await m.blobKeysOnNode(NODES[0], after, 1000);
    nodeKeys += page.length;
    if (page.length < 1000) break;
    after = page.at(-1);
  }
  const onNode = { keys: nodeKeys, pages: pages + 1, ms: performance.now() - started };
  started = performance.now();
  const due = await m.dueForDeletion(Date.now() + 2 * HOUR, 1000);
  const sweepPage = { rows: due.length, ms: performance.now() - started };
  return { walkBlobs: { ...walk, msPerPage: walk.ms / walk.pages }, blobKeysOnNode: { ...onNode, msPerPage: onNode.ms / onNode.pages }, sweepPage };
}

/** Purges a sample, as the reaper does, for the purge rate and the size of what a purge leaves. */
async function purgeSample(engine, ids, count) {
  const victims = ids.splice(ids.length - count, count);
  const now = Date.now();
  const ms = await pool(victims.length, CONCURRENCY, (i) => engine.metadata.purgeFile(victims[i], 'expired', now));
  // The tombstones and queued deletes it leaves are measured against these files.
  return { count: victims.length, perSec: (victims.length / ms) * 1000 };
}

async function load(engine, label) {
  const outbox = opts['no-outbox'] ? undefined : await engine.outbox(OUTBOX_PREFIX);
  const now = Date.now();
  const ids = new Array(FILES);
  let lastPrint = performance.now();
  const ms = await pool(
    FILES,
    CONCURRENCY,
    async (i) => {
      const file = newFile(now);
      await writeFile(engine, outbox, file, now);
      ids[i] = file.id;
    },
    (done) => {
      if (performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        process.stderr.write(`  ${label}: ${fmt(done)} files written\n`);
      }
    },
    performance.now() + MAX_SECONDS * 1000,
  );
  const written = ids.filter(Boolean);
  if (written.length < FILES) process.stderr.write(`  ${label}: stopped after ${MAX_SECONDS} s at ${fmt(written.length)} files\n`);
  const hot = newFile(now, 1_000_000);
  await writeFile(engine, undefined, hot, now);
  const files = written.length;
  return { ids: written, hotId: hot.id, insert: { files, seconds: ms / 1000, filesPerSec: (files / ms) * 1000 } };
}

const PG_TABLES = ['files', 'replicas', 'variants', 'index_totals', 'pending_blob_deletes', 'tombstones', `${OUTBOX_PREFIX}_outbox`];

async function pgSizes(client, schema) {
  const { rows } = await client.query(
    `SELECT c.relname AS name, c.relkind AS kind, t.relname AS table_name,
       pg_relation_size(c.oid) AS own, pg_total_relation_size(c.oid) AS total, c.reltuples AS est_rows
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')`,
    [schema],
  );
  const tables = {};
  for (const name of PG_TABLES) {
    const table = rows.find((r) => r.kind === 'r' && r.name === name);
    if (!table) continue;
    const { rows: [{ n }] } = await client.query(`SELECT count(*)::bigint AS n FROM "${schema}"."${name}"`);
    const indexes = Object.fromEntries(
      rows.filter((r) => r.kind === 'i' && r.table_name === name).map((r) => [r.name, Number(r.own)]),
    );
    tables[name] = { rows: Number(n), heap: Number(table.own), total: Number(table.total), indexes };
  }
  return tables;
}

async function runPostgres() {
  const schema = `legim_bench_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: opts.pg });
  await client.connect();
  const dropSchema = () => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const onSignal = async () => {
    await dropSchema().catch(() => {});
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  let engine;
  try {
    engine = await openIndexEngine(parseDatabase(`${opts.pg}?schema=${schema}`, tmpdir()));
    const dbBefore = Number((await client.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b);
    process.stderr.write(`postgres: schema ${schema}, writing ${fmt(FILES)} files\n`);
    const { ids, hotId, insert } = await load(engine, 'postgres');
    const dbAfter = Number((await client.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b);
    const asLoaded = await pgSizes(client, schema);
    // The rows as a copy or a restore would lay them out: no dead tuples from the status update and the cleared intents.
    for (const t of PG_TABLES) await client.query(`VACUUM FULL "${schema}"."${t}"`).catch(() => {});
    const compact = await pgSizes(client, schema);
    process.stderr.write('postgres: hot statements and scans\n');
    const hot = await hotStatements(engine, ids, hotId);
    const scan = await scans(engine);
    const purge = await purgeSample(engine, ids, Math.min(2000, Math.floor(insert.files / 50)));
    const afterPurge = await pgSizes(client, schema);
    return { engine: 'postgres', schema, insert, databaseDelta: dbAfter - dbBefore, asLoaded, compact, hot, scan, purge, afterPurge };
  } finally {
    await engine?.close().catch(() => {});
    await dropSchema();
    await client.end();
    process.off('SIGINT', onSignal);
  }
}

function sqliteSizes(db) {
  db.pragma('wal_checkpoint(TRUNCATE)');
  let perObject;
  try {
    perObject = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all();
  } catch {
    perObject = []; // dbstat not compiled in: the file size alone
  }
  const objects = db
    .prepare(`SELECT name, tbl_name AS tableName, type FROM sqlite_master WHERE type IN ('table', 'index')`)
    .all();
  const tables = {};
  for (const o of objects.filter((o) => o.type === 'table' && !o.name.startsWith('sqlite_'))) {
    const bytes = (name) => perObject.find((p) => p.name === name)?.bytes ?? 0;
    const indexes = Object.fromEntries(
      objects.filter((i) => i.type === 'index' && i.tableName === o.name).map((i) => [i.name, bytes(i.name)]),
    );
    const n = db.prepare(`SELECT count(*) AS n FROM "${o.name}"`).get().n;
    const heap = bytes(o.name);
    tables[o.name] = { rows: n, heap, total: heap + Object.values(indexes).reduce((a, b) => a + b, 0), indexes };
  }
  return tables;
}

async function runSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'legim-index-size-'));
  const path = join(dir, 'metadata.db');
  let engine;
  let raw;
  try {
    engine = await openIndexEngine(parseDatabase(`sqlite:${path}`, dir));
    process.stderr.write(`sqlite: ${path}, writing ${fmt(FILES)} files\n`);
    const { ids, hotId, insert } = await load(engine, 'sqlite');
    raw = new Database(path);
    const tables = sqliteSizes(raw);
    const fileBytes = statSync(path).size;
    raw.exec('VACUUM');
    const compactFileBytes = statSync(path).size;
    process.stderr.write('sqlite: hot statements and scans\n');
    const hot = await hotStatements(engine, ids, hotId);
    const scan = await scans(engine);
    const purge = await purgeSample(engine, ids, Math.min(2000, Math.floor(insert.files / 50)));
    const afterPurge = sqliteSizes(raw);
    return { engine: 'sqlite', insert, fileBytes, compactFileBytes, asLoaded: tables, hot, scan, purge, afterPurge };
  } finally {
    raw?.close();
    await engine?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r) {
  const out = [];
  const files = r.insert.files;
  const perFile = (bytes) => fmt(bytes / files, 1);
  out.push(`\n== ${r.engine}: ${fmt(files)} files, ${fmt(r.insert.seconds, 1)} s to write, ${fmt(r.insert.filesPerSec)} files/s (${CONCURRENCY} in flight)`);
  const sizes = r.compact ?? r.asLoaded;
  out.push('table                       rows   heap B/row  indexes B/row  total B/file  (as loaded B/file)');
  let sum = 0;
  let sumLoaded = 0;
  for (const [name, t] of Object.entries(sizes)) {
    const loaded = r.asLoaded[name]?.total ?? t.total;
    const idx = t.total - t.heap;
    const perRow = (b) => (t.rows ? fmt(b / t.rows, 1) : '-');
    out.push(
      `${name.padEnd(22)} ${fmt(t.rows).padStart(10)}  ${perRow(t.heap).padStart(10)}  ${perRow(idx).padStart(13)}  ${perFile(t.total).padStart(12)}  ${perFile(loaded).padStart(10)}`,
    );
    for (const [index, bytes] of Object.entries(t.indexes)) out.push(`    index ${index.padEnd(28)} ${perFile(bytes).padStart(8)} B/file`);
    sum += t.total;
    sumLoaded += loaded;
  }
  out.push(`all tables: ${perFile(sum)} B/file${r.compact ? ` compact (VACUUM FULL), ${perFile(sumLoaded)} B/file as loaded` : ''}`);
  if (r.databaseDelta !== undefined) out.push(`pg_database_size delta while loading: ${perFile(r.databaseDelta)} B/file (shared database: others' tests move it)`);
  if (r.fileBytes !== undefined) out.push(`SQLite file after wal_checkpoint(TRUNCATE): ${perFile(r.fileBytes)} B/file; after VACUUM ${perFile(r.compactFileBytes)} B/file`);
  const h = r.hot;
  out.push(`hot statements, ${IN_FLIGHT} in flight:`);
  out.push(`  take, random files       ${fmt(h.takeSpread.perSec).padStart(8)} /s  (${fmt(h.takeSpread.msEach, 3)} ms each at ${IN_FLIGHT} in flight)`);
  out.push(`  take, one file           ${fmt(h.takeOneFile.perSec).padStart(8)} /s`);
  out.push(`  getFile                  ${fmt(h.getFile.perSec).padStart(8)} /s`);
  out.push(`  replicaNodes             ${fmt(h.replicaNodes.perSec).padStart(8)} /s`);
  const s = r.scan;
  out.push(`walkBlobs: ${s.walkBlobs.pages} pages of 1,000 keys, ${fmt(s.walkBlobs.ms / 1000, 1)} s, ${fmt(s.walkBlobs.msPerPage, 1)} ms/page`);
  out.push(`blobKeysOnNode(one of ${NODE_COUNT} nodes): ${fmt(s.blobKeysOnNode.keys)} keys, ${fmt(s.blobKeysOnNode.msPerPage, 1)} ms/page`);
  out.push(`dueForDeletion page: ${s.sweepPage.rows} rows in ${fmt(s.sweepPage.ms, 1)} ms`);
  const ts = r.afterPurge.tombstones;
  const pbd = r.afterPurge.pending_blob_deletes;
  out.push(`purge: ${fmt(r.purge.count)} files at ${fmt(r.purge.perSec)} /s; leaves per file 1 tombstone (${ts && ts.rows ? fmt(ts.total / ts.rows, 1) : '-'} B/row with index) and ${pbd && r.purge.count ? fmt(pbd.rows / r.purge.count, 1) : '-'} pending_blob_deletes rows (${pbd && pbd.rows ? fmt(pbd.total / pbd.rows, 1) : '-'} B/row with indexes)`);
  return out.join('\n');
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
console.log(`index-size: ${fmt(FILES)} files, 1 original + 3 variants, 3 copies each, on ${NODE_COUNT} nodes; ${machine}`);
const results = { files: FILES, concurrency: CONCURRENCY, inFlight: IN_FLIGHT, machine, engines: [] };
for (const name of opts.engines.split(',')) {
  const r = name === 'postgres' ? await runPostgres() : name === 'sqlite' ? await runSqlite() : undefined;
  if (!r) throw new Error(`unknown engine ${name}: postgres or sqlite`);
  results.engines.push(r);
  console.log(report(r));
}
console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (opts.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(opts.json, JSON.stringify(results, null, 2));
}
