import { readJson, send, type HttpContext } from './http.js';
import type { IndexRebuildProgress } from './protocol/index.js';

export async function startIndexRebuild(ctx: HttpContext): Promise<IndexRebuildProgress> {
  return readJson<IndexRebuildProgress>(ctx, await send(ctx, { method: 'POST', path: '/v1/index/rebuild' }));
}

export async function getIndexRebuild(ctx: HttpContext): Promise<IndexRebuildProgress> {
  return readJson<IndexRebuildProgress>(ctx, await send(ctx, { method: 'GET', path: '/v1/index/rebuild' }));
}
