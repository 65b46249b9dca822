import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LegimError } from '@legim/sdk';
import { assertValidBlobKey, SIDECAR_SUFFIX } from './blob-key.js';
import { listKeysAfter } from './blob-listing.js';
import { readSidecar, serializeSidecar, type BlobInfo, type BlobSidecar } from './blob-sidecar.js';
import { resolveByteRange, type ByteRangeRequest } from './byte-range.js';
import { KeyedLock, mapWithConcurrency } from './concurrency.js';
import {
  fsyncDir,
  isMissingFileError,
  isNoSpaceError,
  mkdirDurable,
  removeQuietly,
  unlinkIfExists,
  writeFileSynced,
} from './durable-fs.js';
import { HashingMeter } from './hashing-meter.js';
import { ShardedLayout } from './sharded-layout.js';
import { normalizeSha256, resolveExpectedSha256 } from './sha256-hex.js';
import { scanStoredBlobs } from './startup-scan.js';
import { diskFull, StorageLedger, type BlobStoreStats } from './storage-ledger.js';

export type { BlobStoreStats } from './storage-ledger.js';

export interface BlobStoreOptions {
  /** Root folder; blobs go to `<dataDir>/blobs`, in-flight writes to `<dataDir>/tmp`. */
  dataDir: string;
  /** Upper bound on the bytes stored, below the disk size; unlimited when absent. */
  capacityBytes?: number;
  /** Read and write buffer size of the file streams (default 256 KiB). */
  highWaterMark?: number;
}

export interface PutBlobOptions {
  /** Expected SHA-256 (hex), when known before the bytes are sent. */
  sha256?: string;
  /** Asked once the source has ended, when the digest comes last (HTTP trailers). */
  expectedSha256?: () => string | undefined;
  /** Stored in the sidecar as `meta`. */
  meta?: unknown;
  /** Declared length, if known: lets a full store refuse before reading any byte. */
  size?: number;
}

export interface OpenedBlob {
  /** The selected bytes; destroy it if it is not consumed, to close the file. */
  stream: Readable;
  /** The whole blob's size, whatever the range. */
  size: number;
  sha256: string;
  /** First and last byte (inclusive) in `stream`; `end` is -1 for an empty blob. */
  start: number;
  end: number;
}

export interface BlobPage {
  blobs: BlobInfo[];
  /** Pass as `after` to get the next page; `null` on the last page. */
  next: string | null;
}

const DEFAULT_HIGH_WATER_MARK = 256 * 1024;
const SIDECAR_READ_CONCURRENCY = 16;

/**
 * Blobs on a local disk, written atomically and durably: bytes stream to
 * `tmp/` while being hashed, are fsync'd and verified, and only then are the
 * sidecar and the blob renamed into their shard folder. A reader sees a whole
 * blob with its sidecar, or nothing. Used by storage nodes and by the gateway
 * for its own disk.
 */
export class BlobStore {
  readonly dataDir: string;
  readonly blobsDir: string;
  readonly tmpDir: string;
  readonly #layout: ShardedLayout;
  readonly #ledger: StorageLedger;
  readonly #highWaterMark: number;
  readonly #lock = new KeyedLock();
  readonly #shardDirsReady = new Map<string, Promise<void>>();
  #ready = false;

  constructor(options: BlobStoreOptions) {
    this.#ledger = new StorageLedger(options.capacityBytes);
    this.dataDir = options.dataDir;
    this.blobsDir = join(options.dataDir, 'blobs');
    this.tmpDir = join(options.dataDir, 'tmp');
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#layout = new ShardedLayout(this.blobsDir);
  }

  /** Creates the folders, drops writes a crash left in `tmp/`, and counts the blobs. */
  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
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
    // Until pipeline() listens, a source failing (a client hanging up) while we
    // check for room would be an unhandled 'error' event and crash the process.
    const ignoreEarlyError = (): void => undefined;
    source.on('error', ignoreEarlyError);
    const tmpBlob = join(this.tmpDir, randomUUID());
    const tmpSidecar = tmpBlob + SIDECAR_SUFFIX;
    let reserved = 0;
    const meter = new HashingMeter((bytes) => {
      this.#ledger.reserve(bytes);
      reserved += bytes;
    });
    let sink: WriteStream | undefined;
    let committed = false;
    try {
      assertValidBlobKey(key);
      this.#assertReady();
      if (options.sha256 !== undefined) normalizeSha256(options.sha256);
      if (options.size !== undefined) await this.#ledger.assertRoomFor(this.dataDir, options.size);
      // `flush` fsyncs the file before closing it, and the pipeline waits for that close.
      sink = createWriteStream(tmpBlob, { flags: 'wx', flush: true, highWaterMark: this.#highWaterMark });
      const written = pipeline(source, meter, sink);
      source.off('error', ignoreEarlyError);
      await written;
      const sha256 = meter.digest();
      const expected = resolveExpectedSha256(options.sha256, options.expectedSha256);
      if (expected !== sha256) {
        throw new LegimError('DIGEST_MISMATCH', `the bytes received hash to ${sha256}, not ${expected}; nothing was stored`);
      }
      const sidecar: BlobSidecar = { key, size: meter.bytes, sha256, storedAt: new Date().toISOString(), meta: options.meta ?? null };
      await writeFileSynced(tmpSidecar, serializeSidecar(sidecar));
      await this.#commit(key, tmpBlob, tmpSidecar, sidecar.size);
      committed = true;
      return { key, size: sidecar.size, sha256 };
    } catch (error) {
      source.destroy();
      throw isNoSpaceError(error) ? diskFull(error) : error;
    } finally {
      source.off('error', ignoreEarlyError);
      this.#ledger.release(reserved);
      if (!committed) {
        // The sink may still be opening the file: removing it before then would leave it behind.
        if (sink && !sink.closed) await new Promise<void>((resolve) => sink?.once('close', () => resolve()));
        await Promise.all([removeQuietly(tmpBlob), removeQuietly(tmpSidecar)]);
      }
    }
  }

  /**
   * Opens a blob for reading, optionally a byte range of it. Throws
   * `BLOB_NOT_FOUND`, or `RANGE_NOT_SATISFIABLE` with `details.size`.
   */
  async open(key: string, range?: ByteRangeRequest): Promise<OpenedBlob> {
    assertValidBlobKey(key);
    this.#assertReady();
    const { handle, sidecar } = await this.#lock.run(key, () => this.#openLocked(key));
    try {
      const { size } = await handle.stat();
      if (size === 0 && range === undefined) {
        await handle.close();
        return { stream: Readable.from([]), size, sha256: sidecar.sha256, start: 0, end: -1 };
      }
      const { start, end } = resolveByteRange(range, size);
      const stream = handle.createReadStream({ start, end, highWaterMark: this.#highWaterMark, autoClose: true });
      return { stream, size, sha256: sidecar.sha256, start, end };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** The sidecar of a blob (`BLOB_NOT_FOUND` if absent), without opening the blob. */
  async stat(key: string): Promise<BlobSidecar> {
    assertValidBlobKey(key);
    this.#assertReady();
    return this.#lock.run(key, async () => {
      try {
        const [sidecar, stats] = await Promise.all([readSidecar(this.#layout.sidecarPath(key)), lstat(this.#layout.blobPath(key))]);
        return { ...sidecar, size: stats.size };
      } catch (error) {
        throw isMissingFileError(error) ? blobNotFound(key) : error;
      }
    });
  }

  /** Removes a blob and its sidecar; resolves `false` if there was none (deletes are retried). */
  async delete(key: string): Promise<boolean> {
    assertValidBlobKey(key);
    this.#assertReady();
    return this.#lock.run(key, async () => {
      const blobPath = this.#layout.blobPath(key);
      const size = await sizeIfPresent(blobPath);
      // Blob first: a crash in between leaves an orphan sidecar, never a blob without one.
      const removedBlob = await unlinkIfExists(blobPath);
      const removedSidecar = await unlinkIfExists(this.#layout.sidecarPath(key));
      if (size !== undefined && removedBlob) this.#ledger.recordRemoved(size);
      if (removedBlob || removedSidecar) await fsyncDir(this.#layout.shardDir(key));
      return removedBlob;
    });
  }

  /** One page of blobs in key order, starting after `after`. */
  async list(after: string | undefined, limit: number): Promise<BlobPage> {
    this.#assertReady();
    if (!Number.isSafeInteger(limit) || limit < 1) throw new LegimError('BAD_REQUEST', `limit must be a positive integer, got ${limit}`);
    const keys = await listKeysAfter(this.#layout, after, limit + 1);
    const pageKeys = keys.slice(0, limit);
    const sidecars = await mapWithConcurrency(pageKeys, SIDECAR_READ_CONCURRENCY, (key) =>
      readSidecar(this.#layout.sidecarPath(key)).catch((error: unknown) => {
        if (isMissingFileError(error)) return undefined; // deleted while listing
        throw error;
      }),
    );
    const blobs = sidecars.flatMap((sidecar) => (sidecar ? [{ key: sidecar.key, size: sidecar.size, sha256: sidecar.sha256 }] : []));
    return { blobs, next: keys.length > limit ? (pageKeys.at(-1) ?? null) : null };
  }

  async stats(): Promise<BlobStoreStats> {
    this.#assertReady();
    return this.#ledger.stats(this.dataDir);
  }

  async #openLocked(key: string): Promise<{ handle: FileHandle; sidecar: BlobSidecar }> {
    const [opened, sidecar] = await Promise.allSettled([open(this.#layout.blobPath(key), 'r'), readSidecar(this.#layout.sidecarPath(key))]);
    if (opened.status === 'fulfilled' && sidecar.status === 'fulfilled') return { handle: opened.value, sidecar: sidecar.value };
    if (opened.status === 'fulfilled') await opened.value.close();
    const reason: unknown = opened.status === 'rejected' ? opened.reason : (sidecar as PromiseRejectedResult).reason;
    throw isMissingFileError(reason) ? blobNotFound(key) : reason;
  }

  /** Moves a verified, fsync'd write into place: sidecar first, so every visible blob has one. */
  async #commit(key: string, tmpBlob: string, tmpSidecar: string, size: number): Promise<void> {
    const shardDir = this.#layout.shardDir(key);
    await this.#ensureShardDir(shardDir);
    await this.#lock.run(key, async () => {
      const blobPath = this.#layout.blobPath(key);
      const previousSize = await sizeIfPresent(blobPath);
      await rename(tmpSidecar, this.#layout.sidecarPath(key));
      await rename(tmpBlob, blobPath);
      this.#ledger.recordStored(size, previousSize);
      await fsyncDir(shardDir);
    });
  }

  #ensureShardDir(dir: string): Promise<void> {
    let ready = this.#shardDirsReady.get(dir);
    if (!ready) {
      ready = mkdirDurable(dir);
      this.#shardDirsReady.set(dir, ready);
      ready.catch(() => this.#shardDirsReady.delete(dir));
    }
    return ready;
  }

  #assertReady(): void {
    if (!this.#ready) throw new Error('BlobStore.init() must complete before the store is used');
  }
}

async function sizeIfPresent(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).size;
  } catch (error) {
    if (isMissingFileError(error)) return undefined;
    throw error;
  }
}

function blobNotFound(key: string): LegimError {
  return new LegimError('BLOB_NOT_FOUND', `no blob with key ${key} on this node`);
}
