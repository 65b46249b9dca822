import { readFile } from 'node:fs/promises';

/** What `GET /blobs` and `stat` report about one blob. */
export interface BlobInfo {
  key: string;
  size: number;
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
}

/**
 * The sidecar `<key>.meta.json` stored beside each blob, so the gateway's
 * index can be rebuilt from the nodes alone.
 */
export interface BlobSidecar extends BlobInfo {
  /** ISO 8601 instant the blob became durable on this node. */
  storedAt: string;
  /** Whatever the writer passed (`Legim-Meta`); `null` when nothing was given. */
  meta: unknown;
  /**
   * The download checkpoint: the gateway has served at most this many
   * downloads of the file (`POST /blobs/:key/checkpoint`, only ever raised).
   * Absent until the first checkpoint.
   */
  downloadsTaken?: number;
}

export async function readSidecar(path: string): Promise<BlobSidecar> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`corrupt blob sidecar ${path}: not JSON`, { cause: error });
  }
  if (!isSidecar(parsed)) throw new Error(`corrupt blob sidecar ${path}: missing key, size or sha256`);
  return parsed;
}

export function serializeSidecar(sidecar: BlobSidecar): string {
  return JSON.stringify(sidecar);
}

function isSidecar(value: unknown): value is BlobSidecar {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.key === 'string' &&
    typeof record.size === 'number' &&
    typeof record.sha256 === 'string' &&
    typeof record.storedAt === 'string' &&
    (record.downloadsTaken === undefined || typeof record.downloadsTaken === 'number')
  );
}
