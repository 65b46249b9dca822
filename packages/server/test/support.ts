import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { testAdminKey } from '../../../test-support/cluster.js';

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

/** Every file under `dir` whose name is `name` or starts with `name.` (a blob and its sidecar on a node's disk). */
export function findFiles(dir: string, name: string): string[] {
  return allFiles(dir).filter((path) => {
    const base = path.slice(path.lastIndexOf('/') + 1);
    return base === name || base.startsWith(`${name}.`);
  });
}

/** Every file under `dir`, recursively. */
export function allFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** Reads the gateway's SQLite index directly, as an operator would. */
export function queryIndex<T>(gatewayDataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(gatewayDataDir, 'metadata.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
