import { close, fstat, fsync, open, read, writev, type Stats } from 'node:fs';

// Plain file descriptors and the callback API instead of `fs/promises`
// FileHandles: every file operation is a hop to the thread pool, and the
// FileHandle wrappers (close tracking, per-call option parsing) cost more CPU
// than the hop itself on the hot read and write paths.

export function openFd(path: string, flags: 'r' | 'wx'): Promise<number> {
  return new Promise((resolve, reject) => {
    open(path, flags, 0o644, (error, fd) => (error ? reject(error) : resolve(fd)));
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

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    close(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** Closes `fd` on an error path, where a second error would only hide the first. */
export function closeFdQuietly(fd: number): void {
  close(fd, () => undefined);
}

/** Fills `buffer` from `position`; resolves how many bytes the file had there (less than asked at its end). */
export async function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = await new Promise<number>((resolve, reject) => {
      read(fd, buffer, filled, buffer.length - filled, position + filled, (error, n) => (error ? reject(error) : resolve(n)));
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
