import { LegimError } from './errors.js';
import { readJson, send, type HttpContext } from './http.js';
import type { ApiKey, CreatedKey, KeyQuotas, KeyScope } from './protocol/index.js';

/** Options of `Legim.createKey`. */
export interface CreateKeyOptions {
  /** What the key is for, e.g. the app or person using it (1 to 100 characters). */
  name: string;
  /** Default `['upload']`. */
  scopes?: KeyScope[];
  quotas?: KeyQuotas;
}

const SCOPES: ReadonlySet<string> = new Set<KeyScope>(['upload', 'read', 'admin']);

export async function createKey(ctx: HttpContext, options: CreateKeyOptions): Promise<CreatedKey> {
  const scopes = options.scopes ?? ['upload'];
  const unknown = scopes.find((scope) => !SCOPES.has(scope));
  if (unknown !== undefined) {
    throw new LegimError('INVALID_OPTION', `unknown scope "${unknown}": use upload, read or admin`);
  }
  const body = JSON.stringify({ name: options.name, scopes, quotas: options.quotas ?? {} });
  const response = await send(ctx, {
    method: 'POST',
    path: '/v1/keys',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return readJson<CreatedKey>(ctx, response);
}

export async function listKeys(ctx: HttpContext): Promise<ApiKey[]> {
  return (await readJson<{ keys: ApiKey[] }>(ctx, await send(ctx, { method: 'GET', path: '/v1/keys' }))).keys;
}

export async function revokeKey(ctx: HttpContext, id: string): Promise<ApiKey> {
  const path = `/v1/keys/${encodeURIComponent(id)}`;
  return readJson<ApiKey>(ctx, await send(ctx, { method: 'DELETE', path }));
}
