import { readJson, send, type HttpContext } from './http.js';
import type { ShareXUploader } from './protocol/index.js';

/** Options of `Legim.sharex`. */
export interface ShareXOptions {
  /** An API key with the `upload` scope to put in the uploader; the client's key without it, none with `''`. Never the admin key. */
  key?: string;
  signal?: AbortSignal;
}

export async function getShareX(ctx: HttpContext, options: ShareXOptions = {}): Promise<ShareXUploader> {
  const response = await send(ctx, { method: 'GET', path: '/v1/sharex', token: options.key, signal: options.signal });
  return readJson<ShareXUploader>(ctx, response, options.signal);
}
