import { openSync, readSync } from 'node:fs';
import type { CachedBlobInfo } from './blob-info-cache.js';
import type { BufferPool } from './buffer-pool.js';
import { resolveByteRange, type ByteRangeRequest } from './byte-range.js';
import { closeFdQuietly, fileStream } from './fd-io.js';
import { BufferedBlob, emptyBlob, shortReadError, type OpenedBlob } from './opened-blob.js';

/** A blob read within this long is taken to still be in the page cache. */
export const WARM_MS = 10_000;

export interface WarmReadOptions {
  /** Ranges up to its `bufferBytes` are read at once, here; larger ones are streamed. */
  pool: BufferPool;
  highWaterMark: number;
}

/**
 * Opens a recently used blob, and reads the range into memory if it fits a
 * pool buffer (1 MiB by default), with blocking calls on the main thread.
 * Each thread-pool round trip costs several system calls of its own: for a
 * 20 KiB blob in the page cache, open + read + close done directly take a
 * third of the CPU of doing them asynchronously, for 1 MB about half. Only
 * recently used blobs qualify, so the bytes are almost always in memory and
 * the event loop does not wait for the disk. Larger ranges are streamed.
 *
 * Nothing can run between the caller's cache lookup and this open, so the
 * file opened is the one `info` describes. Returns `undefined` when the file
 * cannot be opened: the caller takes the asynchronous path, which reports
 * errors properly.
 */
export function openWarm(
  path: string,
  info: CachedBlobInfo,
  range: ByteRangeRequest | undefined,
  options: WarmReadOptions,
): OpenedBlob | undefined {
  if (info.size === 0 && range === undefined) return emptyBlob(info.sha256);
  const { start, end } = resolveByteRange(range, info.size);
  const length = end - start + 1;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  info.usedAt = performance.now();
  const { pool } = options;
  if (length > pool.bufferBytes) {
    return {
      stream: fileStream(path, fd, start, end, options.highWaterMark),
      size: info.size,
      sha256: info.sha256,
      start,
      end,
    };
  }
  const { bytes, backing } = pool.take(length);
  let filled = 0;
  try {
    while (filled < length) {
      const bytesRead = readSync(fd, bytes, filled, length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } finally {
    closeFdQuietly(fd);
  }
  if (filled !== length) {
    if (backing) pool.give(backing);
    throw shortReadError(path, info.size);
  }
  return new BufferedBlob({ bytes, backing, pool }, info.size, info.sha256, start, end);
}
