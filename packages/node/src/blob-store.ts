import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LegimError } from '@legim/sdk';
import { BlobInfoCache } from './blob-info-cache.js';
import { BufferPool } from './buffer-pool.js';
import { assertValidBlobKey } from './blob-key.js';
import { listKeysAfter } from './blob-listing.js';
import { BlobQuarantine, type SuspectBlob } from './blob-quarantine.js';
import { blobNotFound, BlobReader } from './blob-reader.js';
import { readSidecar, type BlobInfo, type BlobSidecar } from './blob-sidecar.js';
import { BlobWriter, sizeIfPresent, type PutBlobOptions } from './blob-writer.js';
import type { ByteRangeRequest } from './byte-range.js';
import { KeyedLock, mapWithConcurrency } from './concurrency.js';
import type { OpenedBlob } from './opened-blob.js';
import { fsyncDir, isMissingFileError, unlinkIfExists } from './durable-fs.js';
import { ShardedLayout, type BlobPaths } from './sharded-layout.js';
import { scanStoredBlobs } from './startup-scan.js';
import { StorageLedger, type BlobStoreStats } from './storage-ledger.js';
import { rewriteSidecar } from './sidecar-rewrite.js';
import { TombstoneLog, type TombstonePage } from './tombstone-log.js';
import type { Logger } from './logging/create-logger.js';

export type { BlobStoreStats } from './storage-ledger.js';
export type { OpenedBlob } from './opened-blob.js';
export type { PutBlobOptions } from './blob-writer.js';
export type { SuspectBlob } from './blob-quarantine.js';
export type { BlobTombstone, TombstonePage } from './tombstone-log.js';

export interface BlobStoreOptions {
  /** Root folder; blobs go to `<dataDir>/blobs`, in-flight writes to `<dataDir>/tmp`. */
  dataDir: string;
  /** Upper bound on the bytes stored, below the disk size; unlimited when absent. */
  capacityBytes?: number;
  /** Read chunk size of large reads, and how many bytes a write gathers per file write (default 1 MiB). */
  highWaterMark?: number;
  /** Reads of up to this many bytes come whole in `OpenedBlob.bytes` (default 1 MiB). */
  maxBufferedRead?: number;
  /** How many blobs' size and digest are kept in memory so reads skip the sidecar (default 100,000). */
  infoCacheEntries?: number;
  /** For what fails in the background (the hourly pruning of tombstones). */
  logger: Logger;
}

export interface BlobPage {
  blobs: BlobInfo[];
  /** Pass as `after` to get the next page; `null` on the last page. */
  next: string | null;
}

/** A page of blobs with their whole sidecars (`meta`, `downloadsTaken`), what an index rebuild reads. */
export interface SidecarPage {
  blobs: BlobSidecar[];
  next: string | null;
}

export interface DeleteBlobOptions {
  /** Keep a tombstone of the key (the gateway deleted the file): an index rebuild must not bring it back. */
  tombstone?: boolean;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
const DEFAULT_MAX_BUFFERED_READ = 1024 * 1024;
const DEFAULT_INFO_CACHE_ENTRIES = 100_000;
const SIDECAR_READ_CONCURRENCY = 16;

/**
 * Blobs on a local disk, written atomically and durably: bytes stream to
 * `tmp/` while being hashed, are verified and fsync'd, and only then are the
 * sidecar and the blob renamed into their shard folder. A reader sees a whole
 * blob with its sidecar, or nothing; reads of recently used blobs take no
 * lock and touch no sidecar (see `BlobReader`). Used by storage nodes and by
 * the gateway for its own disk.
 */
export class BlobStore {
  readonly dataDir: string;
  readonly blobsDir: string;
  readonly tmpDir: string;
  /** `<dataDir>/quarantine`: corrupt blobs moved out of the store (see {@link quarantine}). */
  readonly quarantineDir: string;
  readonly #layout: ShardedLayout;
  readonly #ledger: StorageLedger;
  readonly #cache: BlobInfoCache;
  // Orders writes and deletes of a key, and reads that missed the cache, against each other.
  readonly #lock = new KeyedLock();
  readonly #reader: BlobReader;
  readonly #writer: BlobWriter;
  readonly #quarantine: BlobQuarantine;
  readonly #tombstones: TombstoneLog;
  #ready = false;

  constructor(options: BlobStoreOptions) {
    this.#ledger = new StorageLedger(options.capacityBytes);
    this.dataDir = options.dataDir;
    this.blobsDir = join(options.dataDir, 'blobs');
    this.tmpDir = join(options.dataDir, 'tmp');
    this.#layout = new ShardedLayout(this.blobsDir);
    this.#cache = new BlobInfoCache(options.infoCacheEntries ?? DEFAULT_INFO_CACHE_ENTRIES);
    const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    const shared = { layout: this.#layout, cache: this.#cache, lock: this.#lock };
    const pool = new BufferPool(options.maxBufferedRead ?? DEFAULT_MAX_BUFFERED_READ);
    this.#reader = new BlobReader({ ...shared, highWaterMark, pool });
    this.#writer = new BlobWriter({
      ...shared,
      dataDir: this.dataDir,
      tmpDir: this.tmpDir,
      ledger: this.#ledger,
      batchBytes: highWaterMark,
    });
    this.quarantineDir = join(options.dataDir, 'quarantine');
    this.#quarantine = new BlobQuarantine({ ...shared, dir: this.quarantineDir, ledger: this.#ledger });
    this.#tombstones = new TombstoneLog(this.dataDir, this.tmpDir, options.logger);
  }

  /** Creates the folders, drops writes a crash left in `tmp/`, and counts the blobs. */
  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await this.#tombstones.init();
    const { blobCount, usedBytes } = await scanStoredBlobs(this.#layout);
    this.#ledger.reset(blobCount, usedBytes);
    this.#ready = true;
  }

  /**
   * Streams `source` into the store under `key`, replacing any blob of that
   * key atomically. Resolves once the blob and its sidecar are durable.
   * Fails with `DIGEST_MISMATCH`, `BAD_REQUEST` (no digest given) or
   * `INSUFFICIENT_STORAGE`, and then keeps nothing; so does an aborted source.
   */
  async put(key: string, source: Readable, options: PutBlobOptions = {}): Promise<BlobInfo> {
    try {
      assertValidBlobKey(key);
      this.#assertReady();
    } catch (error) {
      source.destroy();
      throw error;
    }
    return this.#writer.put(key, source, options);
  }

  /**
   * Opens a blob for reading, optionally a byte range of it. Throws
   * `BLOB_NOT_FOUND`, or `RANGE_NOT_SATISFIABLE` with `details.size`.
   */
  async open(key: string, range?: ByteRangeRequest): Promise<OpenedBlob> {
    assertValidBlobKey(key);
    this.#assertReady();
    return this.#reader.open(key, range);
  }

  /** The sidecar of a blob (`BLOB_NOT_FOUND` if absent), without opening the blob. */
  async stat(key: string): Promise<BlobSidecar> {
    assertValidBlobKey(key);
    this.#assertReady();
    const paths = this.#layout.paths(key);
    return this.#lock.run(key, async () => {
      const [sidecar, size] = await Promise.all([readSidecar(paths.sidecar), sizeIfPresent(paths.blob)]).catch(
        (error: unknown) => {
          throw isMissingFileError(error) ? blobNotFound(key) : error;
        },
      );
      if (size === undefined) throw blobNotFound(key);
      return { ...sidecar, size };
    });
  }

  /**
   * Removes a blob and its sidecar; resolves `false` if there was none
   * (deletes are retried). With `tombstone`, the key's tombstone is durable
   * before anything is removed, so no crash can lose it once the blob is gone.
   */
  async delete(key: string, options: DeleteBlobOptions = {}): Promise<boolean> {
    assertValidBlobKey(key);
    this.#assertReady();
    const paths = this.#layout.paths(key);
    return this.#lock.run(key, async () => {
      if (options.tombstone) await this.#tombstones.add(key);
      const size = await sizeIfPresent(paths.blob);
      // Before the unlink: a lock-free reader that opened the blob meanwhile sees the entry gone and retries.
      this.#cache.delete(key);
      // Blob first: a crash in between leaves an orphan sidecar, never a blob without one.
      const removedBlob = await unlinkIfExists(paths.blob);
      const removedSidecar = await unlinkIfExists(paths.sidecar);
      if (size !== undefined && removedBlob) this.#ledger.recordRemoved(size);
      if (removedBlob || removedSidecar) await fsyncDir(paths.dir);
      return removedBlob;
    });
  }

  /** One page of blobs in key order, starting after `after`. */
  async list(after: string | undefined, limit: number): Promise<BlobPage> {
    const page = await this.listSidecars(after, limit);
    return {
      blobs: page.blobs.map((sidecar) => ({ key: sidecar.key, size: sidecar.size, sha256: sidecar.sha256 })),
      next: page.next,
    };
  }

  /** One page of blobs in key order with their whole sidecars, starting after `after`. */
  async listSidecars(after: string | undefined, limit: number): Promise<SidecarPage> {
    this.#assertReady();
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new LegimError('BAD_REQUEST', `limit must be a positive integer, got ${limit}`);
    const keys = await listKeysAfter(this.#layout, after, limit + 1);
    const pageKeys = keys.slice(0, limit);
    const sidecars = await mapWithConcurrency(pageKeys, SIDECAR_READ_CONCURRENCY, (key) =>
      readSidecar(this.#layout.sidecarPath(key)).catch((error: unknown) => {
        if (isMissingFileError(error)) return undefined; // deleted while listing
        throw error;
      }),
    );
    const blobs = sidecars.filter((sidecar): sidecar is BlobSidecar => sidecar !== undefined);
    return { blobs, next: keys.length > limit ? (pageKeys.at(-1) ?? null) : null };
  }

  /**
   * Raises the download checkpoint in a blob's sidecar to `downloadsTaken`
   * (never lowers it) and resolves with the checkpoint now stored, once it is
   * durable. Runs under the key's lock, so it never races a write, a delete
   * or a quarantine of the key. `BLOB_NOT_FOUND` if the blob is absent.
   */
  async checkpoint(key: string, downloadsTaken: number): Promise<number> {
    assertValidBlobKey(key);
    this.#assertReady();
    if (!Number.isSafeInteger(downloadsTaken) || downloadsTaken < 0)
      throw new LegimError('BAD_REQUEST', `downloadsTaken must be a non-negative integer, got ${downloadsTaken}`);
    const paths = this.#layout.paths(key);
    return this.#lock.run(key, async () => {
      const [sidecar, size] = await Promise.all([readSidecar(paths.sidecar), sizeIfPresent(paths.blob)]).catch(
        (error: unknown) => {
          throw isMissingFileError(error) ? blobNotFound(key) : error;
        },
      );
      if (size === undefined) throw blobNotFound(key);
      const stored = sidecar.downloadsTaken ?? 0;
      if (stored >= downloadsTaken) return stored;
      await rewriteSidecar(paths, this.tmpDir, { ...sidecar, downloadsTaken });
      return downloadsTaken;
    });
  }

  /** One page of the tombstones of keys deleted in the last 7 days, in key order. */
  tombstones(after: string | undefined, limit: number): TombstonePage {
    this.#assertReady();
    return this.#tombstones.list(after, limit);
  }

  /** Up to `limit` keys after `after` in key order, without reading their sidecars. */
  async keysAfter(after: string | undefined, limit: number): Promise<string[]> {
    this.#assertReady();
    return listKeysAfter(this.#layout, after, limit);
  }

  /** Where a blob and its sidecar live, for a reader of the raw files (the scrubber). */
  paths(key: string): BlobPaths {
    assertValidBlobKey(key);
    return this.#layout.paths(key);
  }

  /**
   * Moves a blob found corrupt, and its sidecar, into `quarantineDir`: it is
   * no longer served, listed or counted. Resolves `false`, moving nothing,
   * when the blob was replaced or deleted since it was read.
   */
  async quarantine(suspect: SuspectBlob): Promise<boolean> {
    assertValidBlobKey(suspect.key);
    this.#assertReady();
    return this.#quarantine.moveIfUnchanged(suspect);
  }

  async stats(): Promise<BlobStoreStats> {
    this.#assertReady();
    return this.#ledger.stats(this.dataDir);
  }

  #assertReady(): void {
    if (!this.#ready) throw new Error('BlobStore.init() must complete before the store is used');
  }
}
