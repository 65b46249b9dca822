import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { LegimError } from '@legim/sdk';
import { assertValidBlobKey } from '../blob-key.js';
import type { BlobStore } from '../blob-store.js';
import { parseRangeHeader } from '../byte-range.js';
import { normalizeSha256 } from '../sha256-hex.js';
import { detachRequestBody, discardRestOfBody } from './request-body.js';
import { streamToResponse } from './stream-response.js';
import { sendJson } from './responses.js';
import type { RequestContext, Router } from './router.js';

const MAX_PAGE = 1000;

/** `PUT|GET|HEAD|DELETE /blobs/:key` and `GET /blobs`. */
export function registerBlobRoutes(router: Router, store: BlobStore): void {
  router
    .on('GET', '/blobs', (context) => listBlobs(store, context))
    .on('PUT', '/blobs/*', (context) => putBlob(store, context))
    .on('GET', '/blobs/*', (context) => getBlob(store, context))
    .on('HEAD', '/blobs/*', (context) => headBlob(store, context))
    .on('DELETE', '/blobs/*', async ({ res, param }) => {
      await store.delete(decodeKey(param));
      res.writeHead(204).end();
    });
}

async function putBlob(store: BlobStore, { req, res, param }: RequestContext): Promise<void> {
  const key = decodeKey(param);
  const headerSha256 = singleHeader(req, 'legim-sha256');
  if (headerSha256 !== undefined) normalizeSha256(headerSha256, 'the Legim-Sha256 header');
  else if (!isChunked(req)) {
    throw new LegimError(
      'BAD_REQUEST',
      "send the body's SHA-256 in a Legim-Sha256 header, or as a Legim-Sha256 trailer of a chunked request",
    );
  }
  const meta = parseMetaHeader(singleHeader(req, 'legim-meta'));
  const declaredLength = req.headers['content-length'];
  try {
    const stored = await store.put(key, detachRequestBody(req), {
      sha256: headerSha256,
      expectedSha256: () => trailerValue(req.trailers['legim-sha256']),
      meta,
      size: declaredLength === undefined ? undefined : Number(declaredLength),
    });
    sendJson(res, 201, stored);
  } catch (error) {
    discardRestOfBody(req);
    throw error;
  }
}

async function getBlob(store: BlobStore, { req, res, param }: RequestContext): Promise<void> {
  const key = decodeKey(param);
  const range = parseRangeHeader(singleHeader(req, 'range'));
  const blob = await store.open(key, range);
  const headers = blobHeaders(blob.sha256, blob.end - blob.start + 1);
  if (range !== undefined) headers['content-range'] = `bytes ${blob.start}-${blob.end}/${blob.size}`;
  res.writeHead(range === undefined ? 200 : 206, headers);
  if (blob.bytes !== undefined) {
    // Headers and body leave in one write; the callback runs once the socket no longer needs the bytes.
    res.end(blob.bytes, () => blob.release?.());
    return;
  }
  await streamToResponse(blob.stream, res);
}

async function headBlob(store: BlobStore, { res, param }: RequestContext): Promise<void> {
  const blob = await store.stat(decodeKey(param));
  res.writeHead(200, blobHeaders(blob.sha256, blob.size)).end();
}

async function listBlobs(store: BlobStore, { res, query }: RequestContext): Promise<void> {
  const after = query.get('after') || undefined;
  const limitText = query.get('limit');
  const limit = limitText === null ? MAX_PAGE : Number(limitText);
  if (!/^\d+$/.test(limitText ?? '1') || limit < 1 || limit > MAX_PAGE) {
    throw new LegimError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  sendJson(res, 200, await store.list(after, limit));
}

function blobHeaders(sha256: string, contentLength: number): OutgoingHttpHeaders {
  return {
    'content-type': 'application/octet-stream',
    'content-length': contentLength,
    'accept-ranges': 'bytes',
    etag: `"${sha256}"`,
    'legim-sha256': sha256,
  };
}

/** The key from the still-encoded path remainder, validated before any disk access. */
function decodeKey(encoded: string): string {
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new LegimError('INVALID_KEY', 'the blob key is not valid percent-encoding');
  }
  assertValidBlobKey(key);
  return key;
}

/** `Legim-Meta`: base64url of a JSON object, stored in the sidecar. */
function parseMetaHeader(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  const invalid = new LegimError('BAD_REQUEST', 'Legim-Meta must be the base64url encoding of a JSON object');
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw invalid;
  let meta: unknown;
  try {
    meta = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw invalid;
  return meta;
}

function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function trailerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isChunked(req: IncomingMessage): boolean {
  return /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '');
}
