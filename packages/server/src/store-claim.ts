import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LegimError } from '@legim/sdk';

/**
 * Gateways may share a data directory, but not the store inside it: its
 * in-memory caches belong to one process. The first gateway with `--store`
 * claims the folder by writing its pid; a second one is refused with what to
 * do instead. A claim whose process is gone (a crash) is taken over.
 */
export function claimStore(storeDir: string): () => void {
  const path = join(storeDir, 'owner.pid');
  const owner = readOwner(path);
  if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
    throw new LegimError(
      'INVALID_OPTION',
      `another gateway (pid ${owner}) keeps replicas in ${storeDir}; ` +
        'start further gateways on this data directory with --no-store and store on storage nodes',
    );
  }
  writeFileSync(path, `${process.pid}\n`);
  return () => {
    if (readOwner(path) === process.pid) rmSync(path, { force: true });
  };
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it just is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
