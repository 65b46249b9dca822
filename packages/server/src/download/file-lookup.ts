import { LegimError } from '@legim/sdk';
import type { FileRecord, MetadataStore, Tombstone } from '../metadata/types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Finds a file that may still be served, or throws the error that tells the
 * client why not (404 unknown, 410 expired / used up / deleted).
 */
export async function findServableFile(metadata: MetadataStore, id: string, now: number): Promise<FileRecord> {
  const file = await findLiveFile(metadata, id, now);
  if (file.downloadsLeft === 0) throw exhausted(file.maxDownloads, file.deleteAt ?? undefined);
  return file;
}

/**
 * A file neither expired nor deleted, though maybe used up: its owner may
 * still delete it, and its last download may still be resumed.
 */
export async function findLiveFile(metadata: MetadataStore, id: string, now: number): Promise<FileRecord> {
  const file = UUID.test(id) ? await metadata.getFile(id.toLowerCase()) : undefined;
  if (!file) throw await goneOrMissing(metadata, id);
  if (file.expiresAt <= now) throw expired(file.expiresAt);
  if (file.deleteReason === 'deleted') throw deleted(file.deleteAt ?? undefined);
  return file;
}

export async function goneOrMissing(metadata: Pick<MetadataStore, 'getTombstone'>, id: string): Promise<LegimError> {
  const tombstone = UUID.test(id) ? await metadata.getTombstone(id.toLowerCase()) : undefined;
  return tombstone
    ? tombstoneError(tombstone)
    : new LegimError('FILE_NOT_FOUND', `no file with id ${JSON.stringify(id)}`);
}

function tombstoneError(tombstone: Tombstone): LegimError {
  const error = reasonError(tombstone);
  if (tombstone.keyDestroyedAt === undefined) return error;
  // An encrypted file: when its key went is when every copy, on any disk, became unreadable.
  const at = new Date(tombstone.keyDestroyedAt).toISOString();
  return new LegimError(error.code, `${error.message}; its encryption key was destroyed at ${at}`, {
    details: { ...error.details, keyDestroyedAt: at },
  });
}

function reasonError(tombstone: Tombstone): LegimError {
  const at = tombstone.deletedAt;
  switch (tombstone.reason) {
    case 'expired':
      return expired(at);
    case 'exhausted':
      return new LegimError('DOWNLOADS_EXHAUSTED', 'every download of this file was used; it has been deleted', {
        details: goneDetails('used-up', at),
      });
    case 'deleted':
      return deleted(at);
  }
}

/**
 * A finished file's final state, which the error answer carries as `gone`
 * (docs/api.md): how it ended, and when its bytes were or are to be removed
 * from the storage nodes (an expired file's: its expiry). Unknown for a
 * download refused by the counter alone.
 */
function goneDetails(state: 'expired' | 'used-up' | 'deleted', at: number | undefined) {
  return at === undefined ? undefined : { gone: { state, at: new Date(at).toISOString() } };
}

export const expired = (at?: number) =>
  new LegimError('EXPIRED', 'this file has expired and is no longer available', {
    details: goneDetails('expired', at),
  });
export const deleted = (at?: number) =>
  new LegimError('DELETED', 'this file was deleted by its owner', { details: goneDetails('deleted', at) });
export const exhausted = (max: number, at?: number) =>
  new LegimError('DOWNLOADS_EXHAUSTED', `all ${max} download${max === 1 ? '' : 's'} of this file were used`, {
    details: goneDetails('used-up', at),
  });

/**
 * A file whose data key is gone although its row was read a moment ago: it
 * was purged meanwhile (its tombstone says why), or its owner deleted it and
 * the key went at once, before the grace period ends.
 */
export async function keyGone(metadata: Pick<MetadataStore, 'getTombstone'>, id: string): Promise<LegimError> {
  const tombstone = await metadata.getTombstone(id);
  return tombstone ? tombstoneError(tombstone) : deleted();
}
