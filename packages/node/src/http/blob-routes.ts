import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { LegimError } from '@legim/sdk';
import { assertValidBlobKey } from '../blob-key.js';
import type { BlobStore } from '../blob-store.js';
import { parseRangeHeader } from '../byte-range.js';
import { normalizeSha256 } from '../sha256-hex.js';
import { detachRequestBody, discardRestOfBody } from './request-body.js';
import { streamToResponse } from './stream-response.js';
import { declaredLength, readJsonBody } from './request-body.js';
import { sendJson } from './responses.js';
import type { RequestContext, Router } from './router.js';

const MAX_PAGE = 1000;
/**
 * Pages with sidecars (what an index rebuild reads) may be larger: each page
 * walks every shard folder, so a rebuild of many blobs costs less the fewer
 * pages it takes; 5,000 sidecars are a few MB.
 */
const MAX_SIDECAR_PAGE = 5000;

const CHECKPOINT_SUFFIX = '/checkpoint';

/** `PUT|GET|HEAD|DELETE /blobs/:key`, `POST /blobs/:key/checkpoint`, `GET /blobs` and `GET /tombstones`. */
export function registerBlobRoutes(router: Router, store: BlobStore): void {
  router
    .on('GET', '/blobs', (context) => listBlobs(store, context))
    .on('GET', '/tombstones', (context) => listTombstones(store, context))
    .on('PUT', '/blobs/*', (context) => putBlob(store, context))
    .on('GET', '/blobs/*', (context) => getBlob(store, context))
    .on('HEAD', '/blobs/*', (context) => headBlob(store, context))
    .on('POST', '/blobs/*', (context) => checkpoint(store, context))
    .on('DELETE', '/blobs/*', async ({ res, param, query }) => {
      await store.delete(decodeKey(param), { tombstone: query.get('tombstone') === '1' });
      res.writeHead(204).end();
    });
}

/** `POST /blobs/:key/checkpoint {downloadsTaken}`: raises the download checkpoint, answers the one stored. */
async function checkpoint(store: BlobStore, { req, res, param }: RequestContext): Promise<void> {
  if (!param.endsWith(CHECKPOINT_SUFFIX)) {
    throw new LegimError('METHOD_NOT_ALLOWED', 'POST is only allowed on /blobs/:key/checkpoint', {
      details: { allow: ['PUT', 'GET', 'HEAD', 'DELETE'] },
    });
  }
  const key = decodeKey(param.slice(0, -CHECKPOINT_SUFFIX.length));
  const body = (await readJsonBody(req, 1024, declaredLength(req))) as { downloadsTaken?: unknown } | undefined;
  const taken = body?.downloadsTaken;
  if (typeof taken !== 'number' || !Number.isSafeInteger(taken) || taken < 0) {
    throw new LegimError('BAD_REQUEST', 'the body must be {"downloadsTaken": <non-negative integer>}');
  }
  sendJson(res, 200, { key, downloadsTaken: await store.checkpoint(key, taken) });
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
  const downloadsTaken = parseDownloadsTaken(singleHeader(req, 'legim-downloads-taken'));
  const declaredLength = req.headers['content-length'];
  try {
    const stored = await store.put(key, detachRequestBody(req), {
      sha256: headerSha256,
      expectedSha256: () => trailerValue(req.trailers['legim-sha256']),
      meta,
      // The writer may learn the meta only as the body ends (upload options sent after the file).
      finalMeta: () => parseMetaHeader(trailerValue(req.trailers['legim-meta'])),
      downloadsTaken,
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

/** HEAD reads the sidecar anyway, so it also carries what a copy of the blob must keep: meta and checkpoint. */
async function headBlob(store: BlobStore, { res, param }: RequestContext): Promise<void> {
  const blob = await store.stat(decodeKey(param));
  const headers = blobHeaders(blob.sha256, blob.size);
  if (blob.meta !== null && blob.meta !== undefined) {
    headers['legim-meta'] = Buffer.from(JSON.stringify(blob.meta)).toString('base64url');
  }
  if (blob.downloadsTaken !== undefined) headers['legim-downloads-taken'] = String(blob.downloadsTaken);
  res.writeHead(200, headers).end();
}

/** `GET /blobs`: keys, sizes and digests; with `meta=1` the whole sidecars (what an index rebuild reads). */
async function listBlobs(store: BlobStore, { res, query }: RequestContext): Promise<void> {
  const after = query.get('after') || undefined;
  if (query.get('meta') === '1')
    sendJson(res, 200, await store.listSidecars(after, pageLimit(query, MAX_SIDECAR_PAGE)));
  else sendJson(res, 200, await store.list(after, pageLimit(query, MAX_PAGE)));
}

async function listTombstones(store: BlobStore, { res, query }: RequestContext): Promise<void> {
  sendJson(res, 200, store.tombstones(query.get('after') || undefined, pageLimit(query, MAX_PAGE)));
}

function pageLimit(query: URLSearchParams, max: number): number {
  const limitText = query.get('limit');
  const limit = limitText === null ? max : Number(limitText);
  if (!/^\d+$/.test(limitText ?? '1') || limit < 1 || limit > max) {
    throw new LegimError('BAD_REQUEST', `limit must be an integer from 1 to ${max}`);
  }
  return limit;
}

/** `Legim-Downloads-Taken`: the checkpoint a copy starts with. */
function parseDownloadsTaken(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new LegimError('BAD_REQUEST', 'Legim-Downloads-Taken must be an integer');
  return Number(value);
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
