import { formatDuration, LegimError, parseDuration, type KeyQuotas } from '@legim/sdk';
import type { FileRecord, LimitsChange } from '../metadata/types.js';

/** The body of `PATCH /v1/files/:id` as sent. */
export interface RequestedEdit {
  /** From now: a duration (`2h`) or seconds. */
  ttl?: string | number;
  /** An ISO 8601 instant. */
  expiresAt?: string;
  /** The new total limit, downloads already taken included (as `downloads` of an upload). */
  downloads?: number;
}

/** The server's bounds, the same an upload has. */
export interface EditBounds {
  maxDownloads: number;
  maxTtlSeconds: number;
}

/**
 * Turns an edit into the limits to store, or refuses it as an upload would
 * be refused: the limit within the server's and the key's, and the file's
 * whole life (from its upload to its new expiry) no longer than an upload's
 * ttl may be, so repeated edits cannot keep a file forever. A new limit must
 * leave at least one download; ending a file is what DELETE is for.
 */
export function limitsChange(
  edit: RequestedEdit,
  file: FileRecord,
  bounds: EditBounds,
  quotas: KeyQuotas,
  now: number,
): LimitsChange {
  if (edit.ttl !== undefined && edit.expiresAt !== undefined) {
    throw invalid('give ttl or expiresAt, not both');
  }
  if (edit.ttl === undefined && edit.expiresAt === undefined && edit.downloads === undefined) {
    throw invalid('nothing to change: send ttl, expiresAt or downloads');
  }
  const expiresAt = newExpiry(edit, now);
  return {
    ...(edit.downloads !== undefined && { maxDownloads: checkedLimit(edit.downloads, file, bounds, quotas) }),
    ...(expiresAt !== undefined && { expiresAt: checkedExpiry(expiresAt, file, bounds, quotas, now) }),
  };
}

function newExpiry(edit: RequestedEdit, now: number): number | undefined {
  if (edit.ttl !== undefined) return now + parseDuration(edit.ttl) * 1000;
  if (edit.expiresAt === undefined) return undefined;
  const at = Date.parse(edit.expiresAt);
  if (Number.isNaN(at)) throw invalid(`expiresAt must be an ISO 8601 instant, got "${edit.expiresAt}"`);
  return at;
}

function checkedLimit(downloads: number, file: FileRecord, bounds: EditBounds, quotas: KeyQuotas): number {
  if (!Number.isSafeInteger(downloads) || downloads < 1 || downloads > bounds.maxDownloads) {
    throw invalid(`downloads must be a whole number from 1 to ${bounds.maxDownloads}, got ${downloads}`);
  }
  if (quotas.maxDownloads !== undefined && downloads > quotas.maxDownloads) {
    throw new LegimError(
      'QUOTA_DOWNLOADS_EXCEEDED',
      `the key that uploaded this file may give it at most ${quotas.maxDownloads} download(s); ask for fewer`,
      { details: { limit: quotas.maxDownloads } },
    );
  }
  const taken = file.maxDownloads - file.downloadsLeft;
  if (downloads <= taken) throw tooFewDownloads(taken);
  return downloads;
}

function checkedExpiry(at: number, file: FileRecord, bounds: EditBounds, quotas: KeyQuotas, now: number): number {
  if (at <= now) throw invalid('the new expiry must be in the future; to end the file now, delete it');
  const lifeSeconds = Math.ceil((at - file.createdAt) / 1000);
  if (lifeSeconds > bounds.maxTtlSeconds) {
    throw invalid(
      `a file may live at most ${formatDuration(bounds.maxTtlSeconds)} from its upload on this server, ` +
        `so until ${new Date(file.createdAt + bounds.maxTtlSeconds * 1000).toISOString()}`,
    );
  }
  if (quotas.maxTtlSeconds !== undefined && lifeSeconds > quotas.maxTtlSeconds) {
    throw new LegimError(
      'QUOTA_TTL_EXCEEDED',
      `the key that uploaded this file may keep files for at most ${formatDuration(quotas.maxTtlSeconds)} ` +
        `from their upload, so until ${new Date(file.createdAt + quotas.maxTtlSeconds * 1000).toISOString()}`,
      { details: { limit: quotas.maxTtlSeconds } },
    );
  }
  return at;
}

/** Also what the service answers when downloads taken meanwhile reached the new limit. */
export function tooFewDownloads(taken: number): LegimError {
  return invalid(
    `${taken} download(s) of this file were already taken: downloads is the new total limit and must be at least ${taken + 1} ` +
      '(to end the file now, delete it)',
  );
}

function invalid(why: string): LegimError {
  return new LegimError('INVALID_OPTION', why);
}
