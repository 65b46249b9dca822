import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidBlobKey, SIDECAR_SUFFIX } from './blob-key.js';
import { unlinkIfExists } from './durable-fs.js';
import type { ShardedLayout } from './sharded-layout.js';

export interface StoredTotals {
  blobCount: number;
  usedBytes: number;
}

/**
 * Counts the readable blobs (a blob file with its sidecar) and removes the
 * halves a crash left behind: a blob without its sidecar (a write stopped
 * between its renames; a replace removes the old sidecar first, so its old
 * blob is one too) and a sidecar without its blob (a delete stopped between
 * its unlinks). Neither was ever acknowledged whole. Runs once, before the
 * store serves anything, so nothing races with the removals.
 */
export async function scanStoredBlobs(layout: ShardedLayout): Promise<StoredTotals> {
  const totals: StoredTotals = { blobCount: 0, usedBytes: 0 };
  await layout.forEachShard(async (dir, { blobs, sidecars }) => {
    for (const key of blobs) {
      if (!isValidBlobKey(key)) continue;
      if (!sidecars.has(key)) {
        await unlinkIfExists(join(dir, key));
        continue;
      }
      const { size } = await lstat(join(dir, key));
      totals.blobCount += 1;
      totals.usedBytes += size;
    }
    const present = new Set(blobs);
    for (const key of sidecars) {
      if (!present.has(key)) await unlinkIfExists(join(dir, key + SIDECAR_SUFFIX));
    }
  });
  return totals;
}
