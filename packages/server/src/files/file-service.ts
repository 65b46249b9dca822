import { createHash, timingSafeEqual } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import { findLiveFile, findServableFile } from '../download/file-lookup.js';
import type { DownloadCounter } from '../backends/download-counter/download-counter.js';
import type { MetadataCache } from '../backends/metadata-cache/metadata-cache.js';
import type { JobQueue } from '../jobs/index.js';
import type { FileRecord, MetadataStore, VariantRecord } from '../metadata/types.js';
import { hashToken } from '../upload/upload-service.js';
import type { EmitEvent } from '../events/gateway-events.js';

export interface FileServiceDeps {
  metadata: MetadataStore;
  jobs: JobQueue;
  counter: DownloadCounter;
  cache: MetadataCache;
  adminKey: string;
  /** Downloads already streaming get this long to finish before the bytes go. */
  deleteGraceMs: number;
  emit?: EmitEvent;
}

/** Metadata reads and owner deletes. */
export class FileService {
  constructor(private readonly deps: FileServiceDeps) {}

  async info(id: string): Promise<{ file: FileRecord; replicas: number; variants: VariantRecord[] }> {
    const { metadata } = this.deps;
    const file = await findServableFile(metadata, id, Date.now());
    const [replicas, variants] = await Promise.all([metadata.replicaNodes(file.id), metadata.listVariants(file.id)]);
    return { file, replicas: replicas.length, variants };
  }

  /**
   * Needs the file's delete token or the admin key (the caller takes it
   * from the bearer header, or `?token=`). From the answer on, every gateway refuses the file; the
   * bytes are purged after the grace period, so a download that was already
   * streaming ends whole instead of being cut off half-way.
   */
  async delete(id: string, token: string | undefined): Promise<void> {
    const { metadata, jobs, counter, cache, adminKey, deleteGraceMs } = this.deps;
    // Deleting something already used up is fine; deleting the unknown, expired or deleted is not.
    const file = await findLiveFile(metadata, id, Date.now());
    if (token === undefined) {
      throw new LegimError('UNAUTHORIZED', 'send the delete token from the upload (Authorization: Bearer <token>)');
    }
    const allowed = secretsEqual(hashToken(token), file.deleteTokenHash) || secretsEqual(token, adminKey);
    if (!allowed) throw new LegimError('FORBIDDEN', 'this token does not allow deleting this file');
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
}

/** Constant-time comparison (hashing first makes the lengths equal). */
function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
