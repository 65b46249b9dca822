import { lstat, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobInfoCache } from './blob-info-cache.js';
import { SIDECAR_SUFFIX } from './blob-key.js';
import { readSidecar } from './blob-sidecar.js';
import type { KeyedLock } from './concurrency.js';
import { fsyncDir, isMissingFileError } from './durable-fs.js';
import type { ShardedLayout } from './sharded-layout.js';
import type { StorageLedger } from './storage-ledger.js';

/** A blob found not to match its sidecar, as it was when it was read. */
export interface SuspectBlob {
  key: string;
  /** Inode of the blob file that was read (kept open until the move, so it cannot be reused). */
  ino: number;
  /** The sidecar's digest it was compared with; `null` when the sidecar could not be parsed. */
  sidecarSha256: string | null;
}

export interface BlobQuarantineOptions {
  /** `<data>/quarantine`. */
  dir: string;
  layout: ShardedLayout;
  cache: BlobInfoCache;
  lock: KeyedLock;
  ledger: StorageLedger;
}

/**
 * Moves corrupt blobs, with their sidecars, out of the store into
 * `quarantine/` (kept for an operator, no longer served, listed or counted).
 * A blob replaced or deleted since it was read is left alone: under the key's
 * lock the file in place must still be the one read, beside the same sidecar.
 */
export class BlobQuarantine {
  readonly dir: string;
  readonly #options: BlobQuarantineOptions;

  constructor(options: BlobQuarantineOptions) {
    this.dir = options.dir;
    this.#options = options;
  }

  /** True if the blob was moved; false if it changed or went away since it was read. */
  async moveIfUnchanged(suspect: SuspectBlob): Promise<boolean> {
    const { key } = suspect;
    const { layout, cache, lock, ledger } = this.#options;
    const paths = layout.paths(key);
    return lock.run(key, async () => {
      const stats = await lstat(paths.blob).catch((error: unknown) => {
        if (isMissingFileError(error)) return undefined;
        throw error;
      });
      if (stats?.ino !== suspect.ino) return false;
      const sidecar = await readSidecar(paths.sidecar).catch((error: unknown) =>
        isMissingFileError(error) ? undefined : null,
      );
      if (sidecar === undefined || (sidecar?.sha256 ?? null) !== suspect.sidecarSha256) return false;
      await mkdir(this.dir, { recursive: true });
      // As a delete: out of the cache before the files move, blob before sidecar.
      cache.delete(key);
      await rename(paths.blob, join(this.dir, key));
      await rename(paths.sidecar, join(this.dir, key + SIDECAR_SUFFIX));
      // The totals counted the size it was stored with, not what is left of a truncated file.
      ledger.recordRemoved(sidecar?.size ?? stats.size);
      await Promise.all([fsyncDir(paths.dir), fsyncDir(this.dir)]);
      return true;
    });
  }
}
