import { openSync } from 'node:fs';
import { mkdir, rm, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { closeFd, closeFdQuietly, fsyncFd, openFd, writeAllAt } from './fd-io.js';

/**
 * Makes renames and new entries in `dir` survive a crash. Linux needs this;
 * platforms that cannot open a directory for syncing are skipped.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    // Opening a folder that was just written to is a cached lookup: not worth a thread-pool round trip.
    fd = openSync(dir, 'r');
    await fsyncFd(fd);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    if (fd !== undefined) closeFd(fd);
  }
}

/** Writes `data` to `path` (a fresh temporary file) and fsyncs it. */
export async function writeFileSynced(path: string, data: string | Buffer): Promise<void> {
  const fd = await openFd(path, 'wx');
  try {
    await writeAllAt(fd, [typeof data === 'string' ? Buffer.from(data) : data], 0);
    await fsyncFd(fd);
  } catch (error) {
    closeFdQuietly(fd);
    throw error;
  }
  closeFd(fd);
}

/**
 * `mkdir -p` that also fsyncs the parents of every folder it created, so a
 * blob renamed into a brand-new shard folder is reachable after a crash.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  let current = dir;
  const parents: string[] = [];
  while (current.length >= firstCreated.length) {
    current = dirname(current);
    parents.push(current);
  }
  for (const parent of parents) await fsyncDir(parent);
}

/** Removes a file that may already be gone. */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Best-effort cleanup on an error path: never throws. */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function isMissingFileError(error: unknown): boolean {
  return errorCode(error) === 'ENOENT';
}

/** The disk (or the user's quota) is full. */
export function isNoSpaceError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}
