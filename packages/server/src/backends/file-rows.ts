import type { DeleteReason, FileRecord, FileStatus, VariantRecord } from '../metadata/types.js';

/** A `files` row as both engines store it: the same columns, names and values. */
export interface FileRow {
  id: string;
  title: string;
  size: number;
  content_type: string;
  extension: string;
  width: number;
  height: number;
  sha256: string;
  max_downloads: number;
  downloads_left: number;
  created_at: number;
  expires_at: number;
  delete_at: number | null;
  delete_reason: DeleteReason | null;
  delete_token_hash: string;
  status: FileStatus;
  status_reason: string | null;
  replicas_wanted: number;
  key_id: string | null;
  sealed_size: number | null;
  sealed_sha256: string | null;
}

export const fromRow = (row: FileRow): FileRecord => ({
  id: row.id,
  title: row.title,
  size: row.size,
  contentType: row.content_type,
  extension: row.extension,
  width: row.width,
  height: row.height,
  sha256: row.sha256,
  maxDownloads: row.max_downloads,
  downloadsLeft: row.downloads_left,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  deleteAt: row.delete_at,
  deleteReason: row.delete_reason,
  deleteTokenHash: row.delete_token_hash,
  status: row.status,
  statusReason: row.status_reason,
  replicasWanted: row.replicas_wanted,
  keyId: row.key_id,
  ...(row.sealed_size !== null &&
    row.sealed_sha256 !== null && {
      sealed: { size: row.sealed_size, sha256: row.sealed_sha256 },
    }),
});

export const toRow = (file: FileRecord): FileRow => ({
  id: file.id,
  title: file.title,
  size: file.size,
  content_type: file.contentType,
  extension: file.extension,
  width: file.width,
  height: file.height,
  sha256: file.sha256,
  max_downloads: file.maxDownloads,
  downloads_left: file.downloadsLeft,
  created_at: file.createdAt,
  expires_at: file.expiresAt,
  delete_at: file.deleteAt,
  delete_reason: file.deleteReason,
  delete_token_hash: file.deleteTokenHash,
  status: file.status,
  status_reason: file.statusReason,
  replicas_wanted: file.replicasWanted,
  key_id: file.keyId,
  sealed_size: file.sealed?.size ?? null,
  sealed_sha256: file.sealed?.sha256 ?? null,
});

/** The `files` columns in table order, for statements that list them. */
export const FILE_COLUMNS = `id, title, size, content_type, extension, width, height, sha256, max_downloads, downloads_left,
  created_at, expires_at, delete_at, delete_reason, delete_token_hash, status, status_reason, replicas_wanted, key_id,
  sealed_size, sealed_sha256`;

/** `$1, $2, …` for the values of `FILE_COLUMNS`. */
export const FILE_PLACEHOLDERS = FILE_COLUMNS.split(',')
  .map((_, i) => `$${i + 1}`)
  .join(', ');

/** A file's values in `FILE_COLUMNS` order, for positional parameters. */
export const fileValues = (file: FileRecord): unknown[] => Object.values(toRow(file));

/** A `variants` row as both engines store it. */
export interface VariantRow {
  name: string;
  content_type: string;
  width: number;
  height: number;
  size: number;
  sha256: string;
  sealed_size: number | null;
  sealed_sha256: string | null;
}

export function variantFromRow(row: VariantRow): VariantRecord {
  return {
    name: row.name,
    contentType: row.content_type,
    width: row.width,
    height: row.height,
    size: row.size,
    sha256: row.sha256,
    ...(row.sealed_size !== null &&
      row.sealed_sha256 !== null && { sealed: { size: row.sealed_size, sha256: row.sealed_sha256 } }),
  };
}
