import type { Readable } from 'node:stream';
import { LegimError } from './errors.js';
import { fileIdFromUrl } from './file-id.js';
import { digestFromEtag, saveVerified } from './files.js';
import { failure, headerValue, send, type HttpContext } from './http.js';
import { mapErrors, type DownloadProgress } from './transfer.js';

/** Options of `Legim.variant`. */
export interface VariantOptions {
  signal?: AbortSignal;
}

/** Options of `Legim.variantTo`. */
export interface VariantToOptions {
  /** Called after each chunk is written; `total` is the `Content-Length`. */
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** A variant being read. Consume or destroy `stream`: it holds a connection. */
export interface VariantStream {
  stream: Readable;
  /** `Content-Length`; -1 if the server did not send one. */
  size: number;
  /** `image/webp` for the variants of today's gateway. */
  contentType: string;
  /** From the `ETag`: the hex SHA-256 the bytes must have; empty if the server sent none. */
  sha256: string;
}

/** A variant written and verified by `Legim.variantTo`. */
export interface VariantToResult {
  path: string;
  /** Bytes written. */
  size: number;
  /** Hex SHA-256 of the bytes written, equal to the server's `ETag`. */
  sha256: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** `/v1/files/<id>/variants/<name>`, with both checked. */
export function variantPath(idOrUrl: string, name: string): string {
  const id = fileIdFromUrl(idOrUrl);
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new LegimError(
      'INVALID_OPTION',
      `invalid variant name ${JSON.stringify(String(name))}: expected thumb, small or webp`,
    );
  }
  return `/v1/files/${id}/variants/${name}`;
}

export async function openVariant(
  ctx: HttpContext,
  idOrUrl: string,
  name: string,
  options: VariantOptions = {},
): Promise<VariantStream> {
  const path = variantPath(idOrUrl, name);
  const { signal } = options;
  let response;
  try {
    response = await send(ctx, { method: 'GET', path, headers: { accept: '*/*' }, signal });
  } catch (error) {
    throw withRetryAfter(error);
  }
  const size = Number(headerValue(response.headers['content-length']) ?? -1);
  return {
    stream: mapErrors(response.body, (error) => failure(ctx, error, signal, 'response')),
    size: Number.isSafeInteger(size) && size >= 0 ? size : -1,
    contentType: headerValue(response.headers['content-type']) ?? 'application/octet-stream',
    sha256: digestFromEtag(headerValue(response.headers.etag)),
  };
}

export async function saveVariantTo(
  ctx: HttpContext,
  idOrUrl: string,
  name: string,
  path: string,
  options: VariantToOptions = {},
): Promise<VariantToResult> {
  const { signal, onProgress } = options;
  const variant = await openVariant(ctx, idOrUrl, name, { signal });
  return saveVerified(ctx, variant, path, {
    noDigest: `the server sent no SHA-256 ETag for the ${name} variant of ${idOrUrl}, so it cannot be verified; nothing was written`,
    mismatch: (sha256) =>
      `the bytes received for the ${name} variant of ${idOrUrl} do not match their ETag ` +
      `(expected sha256 ${variant.sha256}, got ${sha256}); nothing was kept. No download was used; try again.`,
    onProgress,
    signal,
  });
}

/** The gateway says when to ask again; should a proxy drop the header, its documented 2 s still holds. */
function withRetryAfter(error: unknown): unknown {
  if (!LegimError.is(error) || error.code !== 'VARIANT_NOT_READY' || typeof error.details?.retryAfter === 'number') {
    return error;
  }
  return new LegimError(error.code, error.message, {
    statusCode: error.statusCode,
    details: { ...error.details, retryAfter: 2 },
  });
}
