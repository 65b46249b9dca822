import { closeSync, createReadStream, fstat, fsync, open, read, writev, type ReadStream, type Stats } from 'node:fs';

// Plain file descriptors and the callback API instead of `fs/promises`
// FileHandles: every file operation is a hop to the thread pool, and the
// FileHandle wrappers (close tracking, per-call option parsing) cost more CPU
// than the hop itself on the hot read and write paths.

export function openFd(path: string, flags: 'r' | 'wx'): Promise<number> {
  return new Promise((resolve, reject) => {
    open(path, flags, 0o666, (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}

export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => {
    fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats)));
  });
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Closes a descriptor with a blocking call: closing never waits for the disk
 * here (files are read-only, or already fsync'd), and a thread-pool round
 * trip costs more CPU than the call itself.
 */
export function closeFd(fd: number): void {
  closeSync(fd);
}

/** {@link closeFd} where the outcome no longer matters (a read is done, or an error is already being reported). */
export function closeFdQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already reporting something else, or nothing left to report.
  }
}

// What a file stream uses to read and close: the usual asynchronous reads (a
// large copy belongs off the main thread) but a blocking close.
const streamFs = {
  read,
  close: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
    closeFdQuietly(fd);
    process.nextTick(callback, null);
  },
};

/** Streams bytes `start..end` (inclusive) of an open file, then closes it; destroying the stream closes it too. */
export function fileStream(path: string, fd: number, start: number, end: number, highWaterMark: number): ReadStream {
  return createReadStream(path, { fd, start, end, highWaterMark, fs: streamFs });
}

/** Fills `buffer` from `position`; resolves how many bytes the file had there (less than asked at its end). */
export async function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = await new Promise<number>((resolve, reject) => {
      read(fd, buffer, filled, buffer.length - filled, position + filled, (error, n) =>
        error ? reject(error) : resolve(n),
      );
    });
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Writes all of `buffers` at `position` in as few system calls as the kernel allows. */
export async function writeAllAt(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers.filter((buffer) => buffer.length > 0);
  let at = position;
  while (remaining.length > 0) {
    const written = await new Promise<number>((resolve, reject) => {
      writev(fd, remaining, at, (error, n) => (error ? reject(error) : resolve(n)));
    });
    if (written === 0) throw new Error(`writev made no progress on fd ${fd}`);
    at += written;
    remaining = skipBytes(remaining, written);
  }
}

/** What is left of `buffers` once their first `count` bytes are written. */
function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  let index = 0;
  while (index < buffers.length && left >= (buffers[index] as Buffer).length) {
    left -= (buffers[index] as Buffer).length;
    index++;
  }
  const rest = buffers.slice(index);
  if (left > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(left);
  return rest;
}
