import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import { testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { waitFor } from '../../../test-support/wait.js';

export { allFiles, findFiles } from '../../../test-support/files.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  json: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body, json };
}

export function uploadBytes(
  gatewayUrl: string,
  bytes: Uint8Array<ArrayBuffer>,
  query: Record<string, string | number> = {},
): Promise<Reply> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  return call(`${gatewayUrl}/v1/files?${qs}`, {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
}

export const admin = { authorization: `Bearer ${testAdminKey}` };

/**
 * Reads the gateway's index directly, as an operator would, whichever engine
 * holds it: the SQLite file, or the cluster's PostgreSQL schema. Write `?`
 * placeholders (they become `$1`, `$2`... for PostgreSQL); BIGINT columns
 * come back as numbers on both engines.
 */
export function queryIndex<T>(cluster: Pick<TestCluster, 'database'>, sql: string, ...params: unknown[]): Promise<T[]>;
/** @deprecated SQLite only: pass the cluster, so the suite can run on PostgreSQL too. */
export function queryIndex<T>(gatewayDataDir: string, sql: string, ...params: unknown[]): T[];
export function queryIndex<T>(
  target: string | Pick<TestCluster, 'database'>,
  sql: string,
  ...params: unknown[]
): T[] | Promise<T[]> {
  if (typeof target === 'string') return querySqlite<T>(join(target, 'metadata.db'), sql, params);
  const { kind, value } = target.database;
  if (kind === 'sqlite') {
    const path = value === 'sqlite' ? undefined : value.replace(/^sqlite:/, '');
    if (!path) throw new Error('queryIndex: the cluster names no SQLite file');
    return Promise.resolve(querySqlite<T>(path, sql, params));
  }
  return queryPostgres<T>(value, sql, params);
}

function querySqlite<T>(path: string, sql: string, params: unknown[]): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** One small pool per database URL, for the whole test file; idle connections close by themselves. */
const pools = new Map<string, pg.Pool>();
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function queryPostgres<T>(value: string, sql: string, params: unknown[]): Promise<T[]> {
  let pool = pools.get(value);
  if (!pool) {
    const url = new URL(value);
    const schema = url.searchParams.get('schema');
    url.searchParams.delete('schema');
    pool = new pg.Pool({
      connectionString: url.toString(),
      max: 2,
      idleTimeoutMillis: 1000,
      allowExitOnIdle: true,
      types: PG_TYPES,
      ...(schema && { options: `-c search_path=${schema}` }),
    });
    pool.on('error', () => {});
    pools.set(value, pool);
  }
  return (await pool.query(withDollarPlaceholders(sql), params)).rows as T[];
}

/** `?` outside string literals → `$1`, `$2`... */
function withDollarPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|\?/g, (match) => (match === '?' ? `$${++n}` : match));
}

export { waitFor };

/** One copy of a blob as the gateway's index records it. */
export interface Copy {
  blob_key: string;
  node_id: string;
  state: string;
}

const COPIES_SQL = 'SELECT blob_key, node_id, state FROM replicas';

/** Every copy the gateway's index records, on either engine. */
export function indexCopies(cluster: Pick<TestCluster, 'database'>): Promise<Copy[]> {
  return queryIndex<Copy>(cluster, COPIES_SQL);
}

/** @deprecated SQLite only, synchronous (scrub.test.ts still reads it so): use `indexCopies`. */
export function copies(cluster: Pick<TestCluster, 'database'>): Copy[] {
  const { kind, value } = cluster.database;
  if (kind !== 'sqlite') throw new Error('copies() reads SQLite only: use await indexCopies(cluster)');
  return querySqlite<Copy>(value.replace(/^sqlite:/, ''), COPIES_SQL, []);
}

export interface UploadedPhoto {
  id: string;
  url: string;
  sha: string;
}

/** Uploads the fixture photos and waits until their variants exist: each file then has 4 blobs (original + 3 variants). */
export async function uploadReadyPhotos(
  cluster: TestCluster,
  names: string[],
  downloads: number,
): Promise<UploadedPhoto[]> {
  const files: UploadedPhoto[] = [];
  for (const name of names) {
    const bytes = fixtureBytes(name);
    const up = await uploadBytes(cluster.gateway.url, bytes, { downloads });
    expect(up.status, JSON.stringify(up.json)).toBe(201);
    files.push({ id: up.json.id as string, url: up.json.url as string, sha: sha256(bytes) });
  }
  await waitFor(async () => {
    const infos = await Promise.all(files.map((file) => call(`${cluster.gateway.url}/v1/files/${file.id}`)));
    return infos.every((info) => info.json.status === 'ready');
  }, 'the variants');
  return files;
}

/** Resolves once the gateway (its own process) sees `count` nodes up. */
export async function waitForNodesUp(gateway: { url: string }, count: number): Promise<void> {
  await waitFor(
    async () => {
      const view = await call(`${gateway.url}/v1/cluster`, { headers: admin });
      return (view.json?.nodes ?? []).filter((node: { status: string }) => node.status === 'up').length >= count;
    },
    `${gateway.url} to see ${count} nodes up`,
    30_000,
  );
}
