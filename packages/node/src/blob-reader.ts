import { LegimError } from '@legim/sdk';
import type { BlobInfoCache, CachedBlobInfo } from './blob-info-cache.js';
import { readSidecar } from './blob-sidecar.js';
import type { BufferPool } from './buffer-pool.js';
import { resolveByteRange, type ByteRangeRequest } from './byte-range.js';
import type { KeyedLock } from './concurrency.js';
import { isMissingFileError } from './durable-fs.js';
import { closeFdQuietly, fileStream, fstatFd, openFd, readAt } from './fd-io.js';
import { BufferedBlob, emptyBlob, shortReadError, type OpenedBlob } from './opened-blob.js';
import type { ShardedLayout } from './sharded-layout.js';
import { openWarm, WARM_MS } from './warm-read.js';

export interface BlobReaderOptions {
  layout: ShardedLayout;
  cache: BlobInfoCache;
  lock: KeyedLock;
  /** Chunk size of the file streams of larger reads. */
  highWaterMark: number;
  /** Ranges up to its `bufferBytes` are read into memory in one go. */
  pool: BufferPool;
}

interface OpenFile {
  fd: number;
  size: number;
  sha256: string;
  info: CachedBlobInfo;
}

/**
 * The read side of the store. A read of a blob whose size and digest are
 * cached opens the blob without taking the key's lock (see
 * {@link BlobInfoCache} for why the result is still consistent): no sidecar
 * I/O, no fstat, and popular blobs are not read one request at a time. Only
 * a cache miss, or a write racing the open, takes the lock and reads the
 * sidecar, which then fills the cache.
 */
export class BlobReader {
  readonly #options: BlobReaderOptions;

  constructor(options: BlobReaderOptions) {
    this.#options = options;
  }

  /** Throws `BLOB_NOT_FOUND`, or `RANGE_NOT_SATISFIABLE` with `details.size`. */
  async open(key: string, range: ByteRangeRequest | undefined): Promise<OpenedBlob> {
    const cached = this.#options.cache.get(key);
    if (cached !== undefined && performance.now() - cached.usedAt < WARM_MS) {
      const warm = openWarm(this.#options.layout.blobPath(key), cached, range, this.#options);
      if (warm !== undefined) return warm;
    }
    const { fd, size, sha256, info } = await this.#openFile(key);
    const path = this.#options.layout.blobPath(key);
    let closed = false;
    try {
      if (size === 0 && range === undefined) return emptyBlob(sha256);
      const { start, end } = resolveByteRange(range, size);
      const { pool } = this.#options;
      if (end - start + 1 > pool.bufferBytes) {
        const stream = fileStream(path, fd, start, end, this.#options.highWaterMark);
        closed = true; // the stream owns the descriptor now and closes it when done or destroyed
        info.usedAt = performance.now();
        return { stream, size, sha256, start, end };
      }
      const { bytes, backing } = pool.take(end - start + 1);
      const bytesRead = await readAt(fd, bytes, start).catch((error: unknown) => {
        if (backing) pool.give(backing);
        throw error;
      });
      closed = true;
      closeFdQuietly(fd);
      if (bytesRead !== bytes.length) {
        if (backing) pool.give(backing);
        throw shortReadError(path, size);
      }
      info.usedAt = performance.now();
      return new BufferedBlob({ bytes, backing, pool }, size, sha256, start, end);
    } finally {
      if (!closed) closeFdQuietly(fd);
    }
  }

  async #openFile(key: string): Promise<OpenFile> {
    const { cache } = this.#options;
    const cached = cache.get(key);
    if (cached !== undefined) {
      const fd = await openFd(this.#options.layout.blobPath(key), 'r').catch(() => undefined);
      if (fd !== undefined && cache.get(key) === cached)
        return { fd, size: cached.size, sha256: cached.sha256, info: cached };
      // A write or delete of this key ran meanwhile (or the file is gone): ask again under the lock.
      if (fd !== undefined) closeFdQuietly(fd);
    }
    return this.#options.lock.run(key, () => this.#openLocked(key));
  }

  /** No write or delete of `key` runs while this does, so blob, sidecar and cache agree. */
  async #openLocked(key: string): Promise<OpenFile> {
    const { layout, cache } = this.#options;
    const paths = layout.paths(key);
    const cached = cache.get(key);
    if (cached !== undefined) {
      // Filled by a read queued before this one.
      const fd = await openFd(paths.blob, 'r').catch((error: unknown) => {
        cache.delete(key);
        throw isMissingFileError(error) ? blobNotFound(key) : error;
      });
      return { fd, size: cached.size, sha256: cached.sha256, info: cached };
    }
    const [opened, sidecar] = await Promise.allSettled([openFd(paths.blob, 'r'), readSidecar(paths.sidecar)]);
    if (opened.status === 'rejected' || sidecar.status === 'rejected') {
      if (opened.status === 'fulfilled') closeFdQuietly(opened.value);
      const reason: unknown = opened.status === 'rejected' ? opened.reason : (sidecar as PromiseRejectedResult).reason;
      throw isMissingFileError(reason) ? blobNotFound(key) : reason;
    }
    const fd = opened.value;
    try {
      const { size } = await fstatFd(fd);
      const info = cache.set(key, { size, sha256: sidecar.value.sha256 });
      return { fd, size: info.size, sha256: info.sha256, info };
    } catch (error) {
      closeFdQuietly(fd);
      throw error;
    }
  }
}

export function blobNotFound(key: string): LegimError {
  return new LegimError('BLOB_NOT_FOUND', `no blob with key ${key} on this node`);
}
