import { join } from 'node:path';
import Database from 'better-sqlite3';
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
  bytes: Buffer | Uint8Array,
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

/** Reads the gateway's SQLite index directly, as an operator would. */
export function queryIndex<T>(gatewayDataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(gatewayDataDir, 'metadata.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export { waitFor };

/** One copy of a blob as the gateway's index records it. */
export interface Copy {
  blob_key: string;
  node_id: string;
  state: string;
}

/** Every copy the gateway's index records. */
export function copies(cluster: TestCluster): Copy[] {
  return queryIndex<Copy>(cluster.gateway.dataDir, 'SELECT blob_key, node_id, state FROM replicas');
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
