import { createHash, timingSafeEqual } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import { findLiveFile, findServableFile } from '../download/file-lookup.js';
import type { KeyStore } from '../keys/key-store.js';
import { hasScope, type Principal } from '../keys/principal.js';
import { limitsChange, tooFewDownloads, type EditBounds, type RequestedEdit } from './limits-edit.js';
import type { DownloadCounter } from '../backends/download-counter/download-counter.js';
import type { MetadataCache } from '../backends/metadata-cache/metadata-cache.js';
import type { JobQueue } from '../jobs/index.js';
import type { FileFilter, FileRecord, MetadataStore, VariantRecord } from '../metadata/types.js';
import { hashToken } from '../upload/upload-service.js';
import type { EmitEvent } from '../events/gateway-events.js';

export interface FileServiceDeps {
  metadata: MetadataStore;
  jobs: JobQueue;
  counter: DownloadCounter;
  cache: MetadataCache;
  /** The uploaders' keys, whose quotas bound an edit of their files. */
  keys: Pick<KeyStore, 'getKey'>;
  adminKey: string;
  /** Downloads already streaming get this long to finish before the bytes go. */
  deleteGraceMs: number;
  /** What an edit may ask for: an upload's bounds. */
  bounds: EditBounds;
  emit?: EmitEvent;
  /** Hears each file whose expiry an edit brought closer: caches may hold its previews until the old one (the CDN purge). */
  expiryShortened?: (fileId: string) => void;
}

/** A file as `GET /v1/files/:id` shows it. */
export interface FileDetails {
  file: FileRecord;
  replicas: number;
  variants: VariantRecord[];
}

/** One page of a listing; `next` is the cursor of the page after, undefined after the last. */
export interface FilePage {
  files: FileRecord[];
  next: string | undefined;
}

/** Metadata reads, listings, and owners' edits and deletes. */
export class FileService {
  constructor(private readonly deps: FileServiceDeps) {}

  async info(id: string): Promise<FileDetails> {
    return this.details(await findServableFile(this.deps.metadata, id, Date.now()));
  }

  /**
   * Live files, `limit` at a time in id order after `cursor`. A key
   * without the `admin` scope lists only the files it uploaded: naming
   * another key is refused, not ignored.
   */
  async list(principal: Principal, filter: FileFilter, cursor: string, limit: number): Promise<FilePage> {
    const own = principal.kind === 'key' && !hasScope(principal, 'admin') ? principal.key.id : undefined;
    if (own !== undefined && filter.keyId !== undefined && filter.keyId !== own) {
      throw new LegimError('FORBIDDEN', `this API key lists only its own files (key=${own}); the admin key lists all`);
    }
    const files = await this.deps.metadata.listLiveFiles(
      own === undefined ? filter : { ...filter, keyId: own },
      cursor,
      limit,
      Date.now(),
    );
    return { files, next: files.length === limit ? files.at(-1)!.id : undefined };
  }

  /**
   * Changes a live file's download limit or expiry (its delete token or the
   * admin key), within an upload's bounds. The index row changes first, in
   * one conditional statement; then the shared counter re-reads it, every
   * gateway's cache drops the file, and an expiry job is queued for the new
   * instant (one for the old instant finds the file not due and does
   * nothing; the sweeper catches any the queue lost).
   */
  async edit(id: string, token: string | undefined, edit: RequestedEdit): Promise<FileDetails> {
    const { metadata, counter, cache, jobs } = this.deps;
    const now = Date.now();
    const file = await findServableFile(metadata, id, now);
    this.authorize(file, token, 'changing');
    const key = file.keyId === null ? undefined : await this.deps.keys.getKey(file.keyId);
    const change = limitsChange(edit, file, this.deps.bounds, key?.quotas ?? {}, now);
    const changed = await metadata.changeLimits(file.id, change, now);
    if (!changed) {
      // Taken meanwhile: used up, deleted, expired, or its downloads reached the new limit.
      const current = await findServableFile(metadata, id, Date.now());
      throw tooFewDownloads(current.maxDownloads - current.downloadsLeft);
    }
    await counter.limitsChanged(file.id);
    await cache.invalidate(file.id);
    if (change.expiresAt !== undefined) {
      await jobs.enqueue({
        type: 'expire',
        fileId: file.id,
        runAt: change.expiresAt,
        dedupeKey: `expire:${file.id}:${change.expiresAt}`,
      });
      if (change.expiresAt < file.expiresAt) this.deps.expiryShortened?.(file.id);
    }
    return this.details(changed);
  }

  /**
   * Needs the file's delete token or the admin key (the caller takes it
   * from the bearer header, or `?token=`). From the answer on, every gateway refuses the file; the
   * bytes are purged after the grace period, so a download that was already
   * streaming ends whole instead of being cut off half-way.
   */
  async delete(id: string, token: string | undefined): Promise<void> {
    const { metadata, jobs, counter, cache, deleteGraceMs } = this.deps;
    // Deleting something already used up is fine; deleting the unknown, expired or deleted is not.
    const file = await findLiveFile(metadata, id, Date.now());
    this.authorize(file, token, 'deleting');
    // Redis first, so its gateways refuse at once; with Redis unreachable this does nothing and the
    // index mark alone stops every gateway (the index refuses a Redis take's write-through for a
    // deleted file). The delete answers only once the index is marked: it never fails open.
    await counter.close(file.id, file.expiresAt);
    const purgeAt = Date.now() + deleteGraceMs;
    await metadata.scheduleDeletion(file.id, purgeAt, 'deleted');
    // Crypto-shred: the owner wants it gone, and nothing may read it any more, so an encrypted file's
    // key goes now (copies on nodes that are down included), not when the grace period ends.
    await metadata.destroyFileKey(file.id, Date.now());
    await cache.invalidate(file.id);
    await jobs.enqueue({ type: 'delete', fileId: file.id, runAt: purgeAt, dedupeKey: `delete:${file.id}` });
    // Now, when the file stops being served; the reaper reports only expiries and used-up files.
    this.deps.emit?.({ type: 'file.deleted', fileId: file.id, reason: 'deleted' });
  }

  /** The file's delete token, or the admin key, allows changing and deleting it. */
  private authorize(file: FileRecord, token: string | undefined, what: 'changing' | 'deleting'): void {
    if (token === undefined) {
      throw new LegimError('UNAUTHORIZED', 'send the delete token from the upload (Authorization: Bearer <token>)');
    }
    const allowed = secretsEqual(hashToken(token), file.deleteTokenHash) || secretsEqual(token, this.deps.adminKey);
    if (!allowed) throw new LegimError('FORBIDDEN', `this token does not allow ${what} this file`);
  }

  private async details(file: FileRecord): Promise<FileDetails> {
    const { metadata } = this.deps;
    const [replicas, variants] = await Promise.all([metadata.replicaNodes(file.id), metadata.listVariants(file.id)]);
    return { file, replicas: replicas.length, variants };
  }
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
