import { randomUUID } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SIDECAR_SUFFIX } from './blob-key.js';
import { serializeSidecar, type BlobSidecar } from './blob-sidecar.js';
import { fsyncDir, removeQuietly, writeFileSynced } from './durable-fs.js';
import type { BlobPaths } from './sharded-layout.js';

/**
 * Replaces a blob's sidecar durably: the new one is written and fsync'd in
 * `tmpDir` (same file system), renamed over the old one, and the shard
 * folder is fsync'd. A crash leaves the old sidecar or the new one, never a
 * torn one. The caller holds the key's lock.
 */
export async function rewriteSidecar(paths: BlobPaths, tmpDir: string, sidecar: BlobSidecar): Promise<void> {
  const tmp = join(tmpDir, randomUUID() + SIDECAR_SUFFIX);
  try {
    await writeFileSynced(tmp, serializeSidecar(sidecar));
    await rename(tmp, paths.sidecar);
  } catch (error) {
    await removeQuietly(tmp);
    throw error;
  }
  await fsyncDir(paths.dir);
}
