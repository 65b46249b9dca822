import { Agent, type Dispatcher } from 'undici';
import { drainNode, getCluster, getHealth, getStatus } from './cluster.js';
import { getIndexRebuild, startIndexRebuild } from './index-rebuild.js';
import { createKey, listKeys, revokeKey, type CreateKeyOptions } from './keys.js';
import { LegimError } from './errors.js';
import { fileIdFromUrl } from './file-id.js';
import { editFile, type EditOptions, type FileLimits } from './file-limits.js';
import { listAllFiles, listFiles, type ListOptions } from './file-listing.js';
import { getShareX, type ShareXOptions } from './sharex.js';
import {
  deleteFile,
  downloadFile,
  downloadFileTo,
  getFileInfo,
  uploadFile,
  type Download,
  type DownloadOptions,
  type DownloadToOptions,
  type DownloadToResult,
  type InfoOptions,
  type UploadOptions,
  type WaitOptions,
} from './files.js';
import type { HttpContext } from './http.js';
import { getStats, streamEvents, type EventsOptions, type StatsOptions } from './operations.js';
import { checkWaitOptions, settleAfterUpload, waitUntilProcessed } from './processing.js';
import type { UploadInput } from './transfer.js';
import type {
  ApiKey,
  ClusterView,
  CreatedKey,
  DrainStarted,
  FileInfo,
  FilePage,
  Health,
  ListedFile,
  ShareXUploader,
  IndexRebuildProgress,
  LegimEvent,
  Stats,
  UploadedFile,
  VariantName,
} from './protocol/index.js';
import {
  openVariant,
  saveVariantTo,
  variantPath,
  type VariantOptions,
  type VariantStream,
  type VariantToOptions,
  type VariantToResult,
} from './variants.js';

export interface LegimOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:3333`. */
  url: string;
  /**
   * The admin key or an API key, sent as `Authorization: Bearer`. The admin key is needed for `health`, `cluster`,
   * `stats`, `events`, the keys and deleting any file; a gateway run with `--uploads key` needs a key to upload.
   */
  apiKey?: string;
  /** An undici dispatcher (Agent, Pool, ProxyAgent...) for every request; undici's global one otherwise. */
  dispatcher?: Dispatcher;
  /**
   * PEM of the CA that signed an https:// gateway's certificate (e.g. the
   * `tls/ca.pem` that `legim up --tls` makes), trusted instead of the public
   * roots. A shorthand for `dispatcher: new Agent({ connect: { ca } })`; not with `dispatcher`.
   */
  ca?: string | Buffer;
  /** Milliseconds to wait for the response headers, and between chunks of a body. undici's 300 000 by default. */
  timeoutMs?: number;
}

/**
 * A client for one Legim gateway. It holds no connection of its own: requests
 * go through the `dispatcher` given (undici's global one otherwise, or one
 * trusting `ca`, whose idle connections never hold the process open), so a
 * client is cheap to create and needs no closing. Every failure is a
 * `LegimError` with a stable `code`; an abort rejects with the signal's reason.
 *
 * @example
 * import { Legim } from '@legim/sdk';
 *
 * const legim = new Legim({ url: 'http://127.0.0.1:3333' });
 * const file = await legim.upload('photo.jpg', { downloads: 3, ttl: '1h' });
 * console.log(file.url, file.downloadsLeft, file.expiresAt);
 */
export class Legim {
  /** The gateway's base URL, without a trailing slash. */
  readonly url: string;
  readonly #ctx: HttpContext;

  constructor(options: LegimOptions) {
    const url = normalizeUrl(options?.url);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) {
      throw new LegimError(
        'INVALID_OPTION',
        `invalid timeoutMs ${timeoutMs}: expected a whole number of milliseconds > 0`,
      );
    }
    if (options.ca !== undefined && options.dispatcher !== undefined) {
      throw new LegimError('INVALID_OPTION', 'give either ca or dispatcher: set the CA on your own dispatcher');
    }
    this.url = url;
    const dispatcher = options.ca === undefined ? options.dispatcher : new Agent({ connect: { ca: options.ca } });
    this.#ctx = { baseUrl: url, apiKey: options.apiKey, dispatcher, timeoutMs };
  }

  /**
   * Uploads an image: a file path (streamed from disk), a `Buffer` or
   * `Uint8Array`, or a `Readable` (sent chunked). Resolves once the gateway
   * holds enough durable copies; keep `deleteToken` to delete the file later.
   *
   * @throws LegimError e.g. `INVALID_OPTION`, `UNSUPPORTED_MEDIA_TYPE`, `INVALID_IMAGE`,
   *   `PAYLOAD_TOO_LARGE`, `IMAGE_TOO_LARGE`, `NO_STORAGE_NODES`, `IO_ERROR`, `NETWORK_ERROR`
   * @example
   * const file = await legim.upload('photo.jpg', {
   *   downloads: 3,
   *   ttl: '1h',
   *   onProgress: ({ sent, total }) => console.log(`${sent} / ${total} bytes`),
   * });
   * console.log(file.url); // http://127.0.0.1:3333/d/5f0c8a0e-...
   *
   * @example
   * // Wait for the previews too (the upload itself never waits for them).
   * const file = await legim.upload('photo.jpg', { wait: { timeoutMs: 30_000 } });
   * if (file.status === 'ready') console.log(file.variants.thumb?.url);
   * else if (file.status === 'failed') console.warn(`no previews: ${file.statusReason}`);
   * else console.warn('still processing; look again later with legim.info(file.id)');
   */
  async upload(input: UploadInput, options?: UploadOptions): Promise<UploadedFile> {
    const wait = options?.wait ? checkWaitOptions(options.wait === true ? {} : options.wait) : undefined;
    const uploaded = await uploadFile(this.#ctx, input, options);
    return wait ? settleAfterUpload(this.#ctx, uploaded, wait, options?.signal) : uploaded;
  }

  /**
   * Starts downloading the original: takes one download. Resolves with the
   * headers' facts and a stream of the bytes, which you must consume or
   * destroy. Prefer {@link Legim.downloadTo}, which also verifies the digest.
   *
   * @throws LegimError `FILE_NOT_FOUND`, `DOWNLOADS_EXHAUSTED`, `EXPIRED`, `UNAVAILABLE`, `NETWORK_ERROR`...
   * @example
   * import { pipeline } from 'node:stream/promises';
   *
   * const { stream, size, downloadsLeft } = await legim.download(link);
   * await pipeline(stream, process.stdout);
   */
  download(idOrUrl: string, options?: DownloadOptions): Promise<Download> {
    return downloadFile(this.#ctx, idOrUrl, options);
  }

  /**
   * Downloads the original into `path`: takes one download, writes to
   * `${path}.partial`, checks the SHA-256 against the `ETag`, then renames.
   * On any failure the partial file is deleted and nothing is left at `path`.
   *
   * @throws LegimError `DIGEST_MISMATCH` if the bytes do not match, `IO_ERROR` if the
   *   file cannot be written, or any error of {@link Legim.download}
   * @example
   * const saved = await legim.downloadTo(link, 'photo.jpg', {
   *   onProgress: ({ received, total }) => console.log(`${received} / ${total}`),
   * });
   * console.log(saved.sha256, saved.downloadsLeft);
   */
  downloadTo(idOrUrl: string, path: string, options?: DownloadToOptions): Promise<DownloadToResult> {
    return downloadFileTo(this.#ctx, idOrUrl, path, options);
  }

  /**
   * Reads a file's metadata without taking a download: downloads left,
   * expiry, processing `status` and the `variants` made so far.
   *
   * @throws LegimError `FILE_NOT_FOUND`, `EXPIRED`, `DOWNLOADS_EXHAUSTED`, `DELETED`...
   * @example
   * const { downloadsLeft, expiresAt, status, variants } = await legim.info(link);
   * if (status === 'ready') console.log(variants.thumb?.url, variants.thumb?.width);
   */
  info(idOrUrl: string, options?: InfoOptions): Promise<FileInfo> {
    return getFileInfo(this.#ctx, idOrUrl, options);
  }

  /**
   * Waits until the gateway has processed a file: polls {@link Legim.info}
   * every `intervalMs` (500) until `status` is `ready` or `failed`, and
   * resolves with that file object. A gateway that is briefly unreachable or
   * answers 503 is polled again. Never takes a download.
   *
   * @throws LegimError `UNAVAILABLE` after `timeoutMs` (60 000) with the file
   *   still processing (`details.file` is the last file object seen), or any
   *   error of {@link Legim.info} (`FILE_NOT_FOUND`, `EXPIRED`...); an abort
   *   rejects with the signal's reason
   * @example
   * const file = await legim.waitUntilProcessed(id, { timeoutMs: 30_000 });
   * if (file.status === 'failed') console.warn(`no previews: ${file.statusReason}`);
   * else console.log(Object.keys(file.variants)); // ['small', 'thumb', 'webp']
   */
  waitUntilProcessed(idOrUrl: string, options?: WaitOptions): Promise<FileInfo> {
    return waitUntilProcessed(this.#ctx, idOrUrl, options);
  }

  /**
   * Starts reading a variant (a preview: `thumb`, `small`, `webp`). Never
   * takes a download. Resolves as soon as the headers arrive with a stream of
   * the bytes, which you must consume or destroy. Prefer
   * {@link Legim.variantTo} to save one, which also verifies the digest.
   *
   * @throws LegimError `VARIANT_NOT_READY` while the file is processing, with
   *   `details.retryAfter` (seconds); `VARIANT_NOT_FOUND` for an unknown name or
   *   a file whose processing failed; `INVALID_OPTION` for a malformed name; any
   *   error of {@link Legim.info}
   * @example
   * import { pipeline } from 'node:stream/promises';
   * import { createWriteStream } from 'node:fs';
   *
   * const { stream, contentType, size } = await legim.variant(link, 'thumb');
   * await pipeline(stream, createWriteStream('thumb.webp')); // image/webp
   */
  variant(idOrUrl: string, name: VariantName | (string & {}), options?: VariantOptions): Promise<VariantStream> {
    return openVariant(this.#ctx, idOrUrl, name, options);
  }

  /**
   * Saves a variant into `path`, like {@link Legim.downloadTo}: writes to
   * `${path}.partial`, checks the SHA-256 against the `ETag`, then renames;
   * nothing is left at `path` on failure. Never takes a download.
   *
   * @throws LegimError `DIGEST_MISMATCH`, `IO_ERROR`, or any error of {@link Legim.variant}
   * @example
   * const file = await legim.upload('photo.jpg', { wait: true });
   * if (file.status === 'ready') await legim.variantTo(file.id, 'thumb', 'thumb.webp');
   */
  variantTo(
    idOrUrl: string,
    name: VariantName | (string & {}),
    path: string,
    options?: VariantToOptions,
  ): Promise<VariantToResult> {
    return saveVariantTo(this.#ctx, idOrUrl, name, path, options);
  }

  /**
   * Deletes a file with its delete token, or else with the client's admin key.
   *
   * @throws LegimError `FORBIDDEN` for a wrong token, `FILE_NOT_FOUND`...
   * @example
   * const file = await legim.upload('photo.jpg');
   * await legim.delete(file.id, file.deleteToken);
   */
  delete(idOrUrl: string, token?: string): Promise<void> {
    return deleteFile(this.#ctx, idOrUrl, token);
  }

  /**
   * Changes a live file's download limit or expiry, within the server's
   * bounds (those of an upload). `downloads` is the new total limit: the
   * downloads already taken stay taken. Every gateway serves the file under
   * the new limits from the answer on. Never brings back a file that expired,
   * was used up or was deleted.
   *
   * @throws LegimError `INVALID_OPTION` (out of bounds, or a limit not above the downloads taken),
   *   `QUOTA_TTL_EXCEEDED`, `QUOTA_DOWNLOADS_EXCEEDED`, `FORBIDDEN` for a wrong token, `EXPIRED`,
   *   `DOWNLOADS_EXHAUSTED`, `DELETED`, `FILE_NOT_FOUND`...
   * @example
   * const file = await legim.upload('photo.jpg', { downloads: 1 });
   * const changed = await legim.edit(file.id, { ttl: '2h', downloads: 5 }, { deleteToken: file.deleteToken });
   * console.log(changed.downloadsLeft, changed.expiresAt); // 5, two hours from now
   */
  edit(idOrUrl: string, limits: FileLimits, options?: EditOptions): Promise<FileInfo> {
    return editFile(this.#ctx, idOrUrl, limits, options);
  }

  /**
   * One page of the live files (the admin key lists all of them; an API key
   * with the `read` scope lists its own), in id order; pass `next` as
   * `cursor` for the next page.
   *
   * @throws LegimError `UNAUTHORIZED`, `MISSING_SCOPE`, `FORBIDDEN` (a key naming another key), `INVALID_OPTION`
   * @example
   * const { files, next } = await legim.list({ status: 'ready', limit: 50 });
   */
  list(options?: ListOptions): Promise<FilePage> {
    return listFiles(this.#ctx, options);
  }

  /**
   * Every live file that matches, fetching page after page as you iterate.
   *
   * @example
   * for await (const file of legim.listAll({ expiringBefore: new Date(Date.now() + 3600_000) })) {
   *   console.log(file.id, file.downloadsLeft, file.expiresAt);
   * }
   */
  listAll(options?: Omit<ListOptions, 'cursor'>): AsyncIterable<ListedFile> {
    return listAllFiles(this.#ctx, options);
  }

  /**
   * A ShareX custom uploader (`.sxcu`) for this gateway, with the key given
   * (or the client's) in its headers: an API key with the `upload` scope,
   * never the admin key. Without one, for a gateway with open uploads.
   *
   * @example
   * await writeFile('legim.sxcu', JSON.stringify(await legim.sharex({ key: uploadKey }), null, 2));
   */
  sharex(options?: ShareXOptions): Promise<ShareXUploader> {
    return getShareX(this.#ctx, options);
  }

  /**
   * The gateway's health (admin key).
   *
   * @throws LegimError `UNAUTHORIZED` without the admin key (checked before sending: without a key the
   *   gateway answers the status alone, see {@link Legim.status})
   * @example
   * const { status, nodes } = await legim.health();
   * if (status === 'degraded') console.warn(`${nodes.down} node(s) down`);
   */
  health(): Promise<Health> {
    return getHealth(this.#ctx);
  }

  /**
   * `ok` or `degraded`, without a key (what load balancers and uptime checkers see).
   *
   * @example
   * if ((await legim.status()).status !== 'ok') console.warn('the cluster is degraded');
   */
  status(): Promise<Pick<Health, 'status'>> {
    return getStatus(this.#ctx);
  }

  /**
   * The tree of storage nodes with status, latency and capacity (admin key).
   *
   * @throws LegimError `UNAUTHORIZED` without the admin key
   * @example
   * const { nodes } = await legim.cluster();
   * for (const node of nodes) console.log(node.id, node.status, node.latencyMs);
   */
  cluster(): Promise<ClusterView> {
    return getCluster(this.#ctx);
  }

  /**
   * Starts draining a storage node and every node below it (admin key): they
   * take no new copies, their blobs are copied to other nodes (under the same
   * parent first), then they are removed and stop. Downloads keep working
   * throughout. Resolves at once; follow the progress with `cluster()`, where
   * the nodes show `membership: 'draining'` until they are gone.
   *
   * @throws LegimError `NODE_NOT_FOUND`; `CANNOT_DRAIN` when too few nodes would stay for every file's copies
   * @example
   * const { draining } = await legim.drainNode('n-3f2a9c1d');
   */
  drainNode(nodeId: string): Promise<DrainStarted> {
    return drainNode(this.#ctx, nodeId);
  }

  /**
   * Starts rebuilding the gateway's index from the storage nodes' sidecars
   * (admin key), after the index was lost: files come back with their
   * copies, variants and download counts (never more downloads than their
   * limit); deleted, expired and used-up files stay gone. Runs in the
   * background while the cluster serves; resolves at once with its progress.
   * Follow it with `rebuildStatus()` until `state` is `done` or `failed`.
   *
   * @throws LegimError `REBUILD_RUNNING` when one is running; `UNAVAILABLE` before any node joined
   * @example
   * await legim.rebuildIndex();
   * let progress = await legim.rebuildStatus();
   * while (progress.state === 'running') progress = await legim.rebuildStatus();
   */
  rebuildIndex(): Promise<IndexRebuildProgress> {
    return startIndexRebuild(this.#ctx);
  }

  /**
   * Where this gateway's latest index rebuild stands (admin key): `idle`
   * before any, `running`, `done` or `failed` (with `lastError`), and its counts.
   *
   * @throws LegimError `UNAUTHORIZED` without the admin key
   */
  rebuildStatus(): Promise<IndexRebuildProgress> {
    return getIndexRebuild(this.#ctx);
  }

  /**
   * Creates an API key (admin key). The answer holds the key's `secret`,
   * shown this once: the gateway keeps only its hash. Keys scoped `upload`
   * may upload to a gateway run with `--uploads key`, within their quotas.
   *
   * @throws LegimError `INVALID_OPTION` for a bad name, scope or quota; `UNAUTHORIZED` without the admin key
   * @example
   * const key = await legim.createKey({
   *   name: 'photo-app',
   *   scopes: ['upload', 'read'],
   *   quotas: { maxBytes: 10e9, maxFiles: 10_000, maxTtlSeconds: 86_400 },
   * });
   * const app = new Legim({ url: legim.url, apiKey: key.secret });
   */
  createKey(options: CreateKeyOptions): Promise<CreatedKey> {
    return createKey(this.#ctx, options);
  }

  /**
   * Every API key, revoked ones included, with what its live files hold (admin key). Secrets are never listed.
   *
   * @throws LegimError `UNAUTHORIZED` without the admin key
   * @example
   * for (const key of await legim.keys()) console.log(key.id, key.name, key.usage.files, key.revokedAt ?? 'active');
   */
  keys(): Promise<ApiKey[]> {
    return listKeys(this.#ctx);
  }

  /**
   * Revokes an API key (admin key): every gateway of the index refuses it
   * (401 `KEY_REVOKED`) within a second. Files it uploaded stay. Revoking a
   * revoked key changes nothing.
   *
   * @throws LegimError `KEY_NOT_FOUND`; `UNAUTHORIZED` without the admin key
   * @example
   * const { revokedAt } = await legim.revokeKey('3f9a0c1d2e4b');
   */
  revokeKey(id: string): Promise<ApiKey> {
    return revokeKey(this.#ctx, id);
  }

  /**
   * The gateway's numbers (admin key): files, variants, traffic since it
   * started, replication, job queue and storage nodes. `GET /v1/stats`.
   *
   * @throws LegimError `UNAUTHORIZED` without the admin key; an abort rejects with the signal's reason
   * @example
   * const { files, traffic, nodes } = await legim.stats();
   * console.log(`${files.live} files, ${traffic.downloads} downloads, ${nodes.down} node(s) down`);
   */
  stats(options?: StatsOptions): Promise<Stats> {
    return getStats(this.#ctx, options);
  }

  /**
   * An endless stream of this gateway's events (admin key), read from
   * `GET /v1/events` (Server-Sent Events). Each gateway has its own stream:
   * with several, subscribe to each. If the connection drops the stream is
   * opened again by itself with back-off, sending `Last-Event-ID`, so no
   * event still in the gateway's buffer is lost or repeated. Ends quietly
   * when `signal` aborts (or when you leave the loop).
   *
   * @throws LegimError when the first connection fails: an HTTP error answer, e.g. `UNAUTHORIZED`
   *   without the admin key or `UNAVAILABLE` when the gateway has too many subscribers, or
   *   `NETWORK_ERROR`; later, an HTTP error answer other than a proxy's 502/503/504
   * @example
   * const controller = new AbortController();
   * for await (const event of legim.events({ signal: controller.signal })) {
   *   if (event.type === 'file.uploaded') console.log(event.fileId, event.size);
   *   if (event.type === 'node.status') console.log(event.nodeId, event.previous, '->', event.status);
   * }
   */
  events(options?: EventsOptions): AsyncIterable<LegimEvent> {
    return streamEvents(this.#ctx, options);
  }

  /**
   * The download link of a file on this gateway (no request is made).
   *
   * @throws LegimError `INVALID_OPTION` if `id` is not a file id or link
   * @example
   * legim.fileUrl('5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21');
   * // 'http://127.0.0.1:3333/d/5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21'
   */
  fileUrl(id: string): string {
    return `${this.url}/d/${fileIdFromUrl(id)}`;
  }

  /**
   * The address of a variant of a file on this gateway (no request is made):
   * `<url>/v1/files/<id>/variants/<name>`. Fetching it never takes a
   * download, so it can go straight into an `<img src>`; it answers 404
   * `VARIANT_NOT_READY` (with `Retry-After`) while the file is processing.
   *
   * @throws LegimError `INVALID_OPTION` if `idOrUrl` is not a file id or link, or `name` is malformed
   * @example
   * legim.variantUrl('5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21', 'thumb');
   * // 'http://127.0.0.1:3333/v1/files/5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21/variants/thumb'
   */
  variantUrl(idOrUrl: string, name: VariantName | (string & {})): string {
    return `${this.url}${variantPath(idOrUrl, name)}`;
  }
}

function normalizeUrl(url: unknown): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new LegimError(
      'INVALID_OPTION',
      `invalid Legim server URL ${JSON.stringify(url)}: expected http(s)://host:port, e.g. http://127.0.0.1:3333`,
    );
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new LegimError('INVALID_OPTION', `the Legim server URL ${String(url)} must not have a query or fragment`);
  }
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
}
