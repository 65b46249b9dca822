import { readJson, send, type HttpContext } from './http.js';
import type { FilePage, FileStatus, ListedFile } from './protocol/index.js';

/** Options of `Legim.list` and `Legim.listAll`. */
export interface ListOptions {
  /** Only files whose processing is in this state. */
  status?: FileStatus;
  /** Only files uploaded with this API key (its id). A key without the admin scope sees only its own. */
  key?: string;
  /** Only files that expire before this instant. */
  expiringBefore?: Date | string;
  /** Files per page, 1 to 1000 (server default 100). */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string;
  signal?: AbortSignal;
}

export async function listFiles(ctx: HttpContext, options: ListOptions = {}): Promise<FilePage> {
  const { expiringBefore } = options;
  const response = await send(ctx, {
    method: 'GET',
    path: '/v1/files',
    query: {
      cursor: options.cursor,
      limit: options.limit,
      status: options.status,
      key: options.key,
      expiringBefore: expiringBefore === undefined ? undefined : new Date(expiringBefore).toISOString(),
    },
    signal: options.signal,
  });
  return readJson<FilePage>(ctx, response, options.signal);
}

/** Every page of a listing, one after the other. */
export async function* listAllFiles(
  ctx: HttpContext,
  options: Omit<ListOptions, 'cursor'> = {},
): AsyncGenerator<ListedFile> {
  let cursor: string | undefined;
  do {
    const page = await listFiles(ctx, { ...options, cursor });
    yield* page.files;
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
}
