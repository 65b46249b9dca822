import { join } from 'node:path';
import Database from 'better-sqlite3';
import { testAdminKey } from '../../../test-support/cluster.js';

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

export { waitFor } from '../../../test-support/wait.js';
