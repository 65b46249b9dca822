import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDuration } from './duration.js';
import { LegimError } from './errors.js';
import { fileIdFromUrl } from './file-id.js';
import { failure, headerValue, readJson, send, type HttpContext } from './http.js';
import { resumableBody } from './resumable-body.js';
import {
  guardStall,
  openUploadBody,
  readError,
  type DownloadProgress,
  type UploadInput,
  type UploadProgress,
} from './transfer.js';
import type { FileInfo, UploadedFile } from './protocol/index.js';

/** Options of `Legim.upload`. */
export interface UploadOptions {
  /** How many downloads the link allows (server default 3). */
  downloads?: number;
  /** Time to live: `'90s'`, `'15m'`, `'1h'`, `'7d'` or seconds (server default 1 h). */
  ttl?: string | number;
  /** Up to 200 characters; defaults to the file name (without extension) for a path. */
  title?: string;
  /** Called as bytes leave; `total` is known for a path or bytes in memory. */
  onProgress?: (progress: UploadProgress) => void;
  /**
   * Also wait until the gateway has processed the image (its `status` is no
   * longer `processing`): `true` for the defaults of `Legim.waitUntilProcessed`
   * (60 s at most), or `{ timeoutMs, intervalMs }`. The upload has succeeded
   * either way, so a wait that reaches its deadline does not throw: it
   * resolves with `status: 'processing'` and the `deleteToken`.
   */
  wait?: boolean | Omit<WaitOptions, 'signal'>;
  /** Aborts the upload, and the wait after it. */
  signal?: AbortSignal;
}

/** Options of `Legim.info`. */
export interface InfoOptions {
  signal?: AbortSignal;
}

/** Options of `Legim.waitUntilProcessed`. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 60 000); `Infinity` waits as long as it takes. */
  timeoutMs?: number;
  /** Milliseconds between two looks at the file (default 500). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Options of `Legim.download`. */
export interface DownloadOptions {
  signal?: AbortSignal;
}

/** Options of `Legim.downloadTo`. */
export interface DownloadToOptions {
  /** Called after each chunk is written; `total` is the `Content-Length`. */
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** An original being downloaded. Consume or destroy `stream`: it holds a connection. */
export interface Download {
  stream: Readable;
  /** `Content-Length`; -1 if the server did not send one. */
  size: number;
  contentType: string;
  /** From the `ETag`: the hex SHA-256 the bytes must have; empty if the server sent none. */
  sha256: string;
  /** `Legim-Downloads-Left`, when the server sent it. */
  downloadsLeft: number | undefined;
}

/** A file written and verified by `Legim.downloadTo`. */
export interface DownloadToResult {
  path: string;
  /** Bytes written. */
  size: number;
  /** Hex SHA-256 of the bytes written, equal to the server's `ETag`. */
  sha256: string;
  downloadsLeft: number | undefined;
}

export async function uploadFile(
  ctx: HttpContext,
  input: UploadInput,
  options: UploadOptions = {},
): Promise<UploadedFile> {
  const { signal } = options;
  const query = {
    downloads: options.downloads === undefined ? undefined : checkDownloads(options.downloads),
    ttl: options.ttl === undefined ? undefined : parseDuration(options.ttl),
    title: options.title,
  };
  const upload = await openUploadBody(input, options.onProgress);
  query.title ??= upload.name;

  let readFailure: unknown;
  upload.source?.once('error', (error) => (readFailure ??= error));
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (upload.length !== undefined) headers['content-length'] = String(upload.length);
  try {
    const body =
      ctx.timeoutMs !== undefined && upload.body instanceof Readable
        ? guardStall(upload.body, ctx.timeoutMs)
        : upload.body;
    const response = await send(ctx, { method: 'POST', path: '/v1/files', query, headers, body, signal });
    return await readJson<UploadedFile>(ctx, response, signal);
  } catch (error) {
    if (readFailure === undefined || LegimError.is(error) || (signal?.aborted && error === signal.reason)) throw error;
    throw readError(typeof input === 'string' ? input : 'the upload stream', readFailure);
  } finally {
    upload.source?.destroy();
  }
}

export async function downloadFile(
  ctx: HttpContext,
  idOrUrl: string,
  options: DownloadOptions = {},
): Promise<Download> {
  const id = fileIdFromUrl(idOrUrl);
  const { signal } = options;
  const response = await send(ctx, { method: 'GET', path: `/d/${id}`, headers: { accept: '*/*' }, signal });
  const size = Number(headerValue(response.headers['content-length']) ?? -1);
  const left = Number(headerValue(response.headers['legim-downloads-left']) ?? Number.NaN);
  const known = Number.isSafeInteger(size) && size >= 0 ? size : -1;
  // A connection that breaks mid-body is resumed where it stopped, without taking another download.
  const token = headerValue(response.headers['legim-resume']);
  return {
    stream: resumableBody(ctx, { path: `/d/${id}`, body: response.body, size: known, token, signal }),
    size: known,
    contentType: headerValue(response.headers['content-type']) ?? 'application/octet-stream',
    sha256: digestFromEtag(headerValue(response.headers.etag)),
    downloadsLeft: Number.isSafeInteger(left) ? left : undefined,
  };
}

export async function downloadFileTo(
  ctx: HttpContext,
  idOrUrl: string,
  path: string,
  options: DownloadToOptions = {},
): Promise<DownloadToResult> {
  const { signal, onProgress } = options;
  const download = await downloadFile(ctx, idOrUrl, { signal });
  const saved = await saveVerified(ctx, download, path, {
    noDigest: `the server sent no SHA-256 ETag for ${idOrUrl}, so the download cannot be verified; nothing was written`,
    mismatch: (sha256) =>
      `the bytes received for ${idOrUrl} do not match their ETag (expected sha256 ${download.sha256}, got ${sha256}); nothing was kept. ` +
      'The download still counted; try again if any are left.',
    onProgress,
    signal,
  });
  return { ...saved, downloadsLeft: download.downloadsLeft };
}

/** What {@link saveVerified} writes: a response body with its announced length and digest. */
export interface OpenedBody {
  stream: Readable;
  /** -1 when unknown. */
  size: number;
  /** Hex SHA-256 from the `ETag`; '' if the server sent none. */
  sha256: string;
}

/**
 * Streams `opened` to `${path}.partial`, checks its SHA-256 against the
 * digest the server announced, then renames it to `path`. On any failure the
 * partial file is deleted and nothing is left at `path`.
 */
export async function saveVerified(
  ctx: HttpContext,
  opened: OpenedBody,
  path: string,
  options: {
    noDigest: string;
    mismatch: (sha256: string) => string;
    onProgress?: ((progress: DownloadProgress) => void) | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<{ path: string; size: number; sha256: string }> {
  const { signal, onProgress } = options;
  if (opened.sha256 === '') {
    opened.stream.destroy();
    throw new LegimError('DIGEST_MISMATCH', options.noDigest);
  }

  const partial = `${path}.partial`;
  const hash = createHash('sha256');
  const total = opened.size >= 0 ? opened.size : undefined;
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      callback(null, chunk);
      onProgress?.(total === undefined ? { received } : { received, total });
    },
  });
  try {
    await pipeline(opened.stream, counter, createWriteStream(partial, { flush: true }), { signal });
    const sha256 = hash.digest('hex');
    if (sha256 !== opened.sha256) throw new LegimError('DIGEST_MISMATCH', options.mismatch(sha256));
    await rename(partial, path);
    return { path, size: received, sha256 };
  } catch (error) {
    opened.stream.destroy();
    await rm(partial, { force: true }).catch(() => undefined);
    const mapped = failure(ctx, error, signal, 'response');
    if (LegimError.is(mapped) || (signal?.aborted && mapped === signal.reason)) throw mapped;
    throw new LegimError('IO_ERROR', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export async function getFileInfo(ctx: HttpContext, idOrUrl: string, options: InfoOptions = {}): Promise<FileInfo> {
  const id = fileIdFromUrl(idOrUrl);
  const { signal } = options;
  return readJson<FileInfo>(ctx, await send(ctx, { method: 'GET', path: `/v1/files/${id}`, signal }), signal);
}

export async function deleteFile(ctx: HttpContext, idOrUrl: string, token?: string): Promise<void> {
  const id = fileIdFromUrl(idOrUrl);
  if ((token ?? ctx.apiKey ?? '') === '') {
    throw new LegimError(
      'INVALID_OPTION',
      'deleting a file needs its delete token (returned by upload) or the admin key',
    );
  }
  const response = await send(ctx, { method: 'DELETE', path: `/v1/files/${id}`, token });
  await response.body.dump();
}

function checkDownloads(downloads: number): number {
  if (Number.isSafeInteger(downloads) && downloads >= 1) return downloads;
  throw new LegimError('INVALID_OPTION', `invalid downloads ${downloads}: expected a whole number >= 1`);
}

/** `"<hex>"` or `W/"<hex>"` → the lower-case hex digest, or '' if it is not a SHA-256. */
export function digestFromEtag(etag: string | undefined): string {
  const digest = etag?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase() ?? '';
  return /^[0-9a-f]{64}$/.test(digest) ? digest : '';
}
