import type { FileRecord, VariantRecord } from '../metadata/types.js';

/**
 * What the gateway writes into an original's sidecar (`Legim-Meta`): with
 * the sidecar's own size and SHA-256, everything the index needs to rebuild
 * the file. Counters are not here: the download checkpoint is (see
 * `DownloadCheckpoints`).
 */
export interface OriginalMeta {
  fileId: string;
  title: string;
  contentType: string;
  extension: string;
  width: number;
  height: number;
  maxDownloads: number;
  createdAt: number;
  expiresAt: number;
  deleteTokenHash: string;
  replicasWanted: number;
  /** The API key that uploaded it (absent for anonymous uploads, and in sidecars older than keys). */
  keyId?: string;
}

/** What a variant's sidecar carries: its file, and the variant record but for size and digest (the sidecar's). */
export interface VariantMeta {
  fileId: string;
  variant: Pick<VariantRecord, 'name' | 'contentType' | 'width' | 'height'>;
}

/**
 * What an encrypted blob's sidecar carries: whose blob it is, nothing more.
 * Title, dimensions and limits stay in the index with the file's key: a
 * node's disk tells nothing about the image, and a rebuild knows to report
 * such a blob as unrecoverable (its key lived only in the index).
 */
export interface SealedMeta {
  fileId: string;
  encrypted: true;
  /** `original`, or the variant's name. */
  blob: string;
}

export type BlobMeta = OriginalMeta | VariantMeta | SealedMeta;

export function originalMeta(
  file: Omit<FileRecord, 'size' | 'sha256' | 'downloadsLeft' | 'deleteAt' | 'deleteReason' | 'status' | 'statusReason'>,
): OriginalMeta {
  return {
    fileId: file.id,
    title: file.title,
    contentType: file.contentType,
    extension: file.extension,
    width: file.width,
    height: file.height,
    maxDownloads: file.maxDownloads,
    createdAt: file.createdAt,
    expiresAt: file.expiresAt,
    deleteTokenHash: file.deleteTokenHash,
    replicasWanted: file.replicasWanted,
    ...(file.keyId !== null && { keyId: file.keyId }),
  };
}

export function variantMeta(fileId: string, variant: VariantMeta['variant']): VariantMeta {
  const { name, contentType, width, height } = variant;
  return { fileId, variant: { name, contentType, width, height } };
}

export function sealedMeta(fileId: string, blob: string): SealedMeta {
  return { fileId, encrypted: true, blob };
}

export function isVariantMeta(meta: BlobMeta): meta is VariantMeta {
  return 'variant' in meta;
}

export function isSealedMeta(meta: BlobMeta): meta is SealedMeta {
  return 'encrypted' in meta;
}

/**
 * The meta of the blob stored under `key`, if it is a well-formed one that
 * belongs to that key (an original under its file id, a variant under
 * `<file id>.<name>`); undefined for anything else, which a rebuild reports
 * as an orphan.
 */
export function parseBlobMeta(key: string, meta: unknown): BlobMeta | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const record = meta as Record<string, unknown>;
  if (!isText(record.fileId) || !FILE_ID.test(record.fileId)) return undefined;
  if (record.encrypted === true) {
    const { blob } = record;
    if (!isText(blob) || key !== (blob === 'original' ? record.fileId : `${record.fileId}.${blob}`)) return undefined;
    return sealedMeta(record.fileId, blob);
  }
  if ('variant' in record) {
    const variant = record.variant as Record<string, unknown> | null;
    if (typeof variant !== 'object' || variant === null) return undefined;
    const { name, contentType, width, height } = variant;
    if (!isText(name) || !isText(contentType) || !isCount(width) || !isCount(height)) return undefined;
    if (key !== `${record.fileId}.${name}`) return undefined;
    return { fileId: record.fileId, variant: { name, contentType, width, height } };
  }
  if (key !== record.fileId) return undefined;
  const { title, contentType, extension, width, height, maxDownloads, createdAt, expiresAt } = record;
  const { deleteTokenHash, replicasWanted, keyId } = record;
  if (typeof title !== 'string' || !isText(contentType) || !isText(extension) || !isText(deleteTokenHash))
    return undefined;
  if (!isCount(width) || !isCount(height) || !isCount(createdAt) || !isCount(expiresAt)) return undefined;
  if (!isCount(maxDownloads) || maxDownloads < 1 || !isCount(replicasWanted) || replicasWanted < 1) return undefined;
  if (keyId !== undefined && !isText(keyId)) return undefined;
  return {
    fileId: record.fileId,
    title,
    contentType,
    extension,
    width,
    height,
    maxDownloads,
    createdAt,
    expiresAt,
    deleteTokenHash,
    replicasWanted,
    ...(keyId !== undefined && { keyId }),
  };
}

/** File ids are lower-case UUIDs: no dots, so `<id>.<name>` splits unambiguously. */
const FILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
