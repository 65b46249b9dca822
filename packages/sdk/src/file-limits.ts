import { parseDuration } from './duration.js';
import { LegimError } from './errors.js';
import { fileIdFromUrl } from './file-id.js';
import { readJson, send, type HttpContext } from './http.js';
import type { FileInfo } from './protocol/index.js';

/** What `Legim.edit` changes; what is left out stays as it is. */
export interface FileLimits {
  /** The new time to live from now: `'2h'`, `'7d'` or seconds. Not with `expiresAt`. */
  ttl?: string | number;
  /** The new expiry. Not with `ttl`. */
  expiresAt?: Date | string;
  /** The new total limit, downloads already taken included (as `downloads` of an upload). */
  downloads?: number;
}

/** Options of `Legim.edit`. */
export interface EditOptions {
  /** The file's delete token, from its upload; the client's admin key without it. */
  deleteToken?: string;
  signal?: AbortSignal;
}

export async function editFile(
  ctx: HttpContext,
  idOrUrl: string,
  limits: FileLimits,
  options: EditOptions = {},
): Promise<FileInfo> {
  const id = fileIdFromUrl(idOrUrl);
  if ((options.deleteToken ?? ctx.apiKey ?? '') === '') {
    throw new LegimError(
      'INVALID_OPTION',
      'changing a file needs its delete token (returned by upload) or the admin key',
    );
  }
  if (limits.ttl !== undefined && limits.expiresAt !== undefined) {
    throw new LegimError('INVALID_OPTION', 'give ttl or expiresAt, not both');
  }
  const body = {
    ...(limits.ttl !== undefined && { ttl: parseDuration(limits.ttl) }),
    ...(limits.expiresAt !== undefined && { expiresAt: new Date(limits.expiresAt).toISOString() }),
    ...(limits.downloads !== undefined && { downloads: limits.downloads }),
  };
  const response = await send(ctx, {
    method: 'PATCH',
    path: `/v1/files/${id}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    token: options.deleteToken,
    signal: options.signal,
  });
  return readJson<FileInfo>(ctx, response, options.signal);
}
