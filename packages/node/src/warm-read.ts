import { closeSync, openSync, readSync } from 'node:fs';
import { fileStream } from './fd-io.js';
import type { CachedBlobInfo } from './blob-info-cache.js';
import { resolveByteRange, type ByteRangeRequest } from './byte-range.js';
import { BufferedBlob, shortReadError, type OpenedBlob } from './opened-blob.js';

/** A blob read within this long is taken to still be in the page cache. */
export const WARM_MS = 10_000;

export interface WarmReadOptions {
  /** Ranges up to this size are read at once, here; larger ones are streamed. */
  maxBufferedRead: number;
  highWaterMark: number;
}

/**
 * Opens a recently used blob, and reads it if the range is small, with
 * blocking calls on the main thread. Each thread-pool round trip costs
 * several system calls of its own; for a few KiB already in the page cache,
 * open + read + close done directly take about a third of the CPU. Only warm
 * blobs qualify, so this never waits for the disk. Larger ranges are still
 * read asynchronously, by a stream: their copy is worth a thread.
 *
 * Nothing can run between the caller's cache lookup and this open, so the
 * file opened is the one `info` describes. Returns `undefined` when the file
 * cannot be opened: the caller takes the asynchronous path, which reports
 * errors properly.
 */
export function openWarm(path: string, info: CachedBlobInfo, range: ByteRangeRequest | undefined, options: WarmReadOptions): OpenedBlob | undefined {
  if (info.size === 0 && range === undefined) return new BufferedBlob(Buffer.alloc(0), 0, info.sha256, 0, -1);
  const { start, end } = resolveByteRange(range, info.size);
  const length = end - start + 1;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  info.usedAt = performance.now();
  if (length > options.maxBufferedRead) {
    return { stream: fileStream(path, fd, start, end, options.highWaterMark), size: info.size, sha256: info.sha256, start, end };
  }
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  try {
    while (filled < length) {
      const bytesRead = readSync(fd, bytes, filled, length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } finally {
    closeSync(fd);
  }
  if (filled !== length) throw shortReadError(path, info.size);
  return new BufferedBlob(bytes, info.size, info.sha256, start, end);
}
