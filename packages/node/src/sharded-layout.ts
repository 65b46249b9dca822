import { hash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { SIDECAR_SUFFIX } from './blob-key.js';
import { mapWithConcurrency } from './concurrency.js';

const SHARD_NAME = /^[0-9a-f]{2}$/;

/** How many shard folders are read at once when walking the whole store. */
const WALK_CONCURRENCY = 16;

/**
 * Where blobs live under `<data>/blobs`: `<aa>/<bb>/<key>` with aa/bb the
 * first four hex digits of sha256(key), so no folder grows past a few
 * thousand entries even with hundreds of millions of blobs. Callers validate
 * keys first; this class only computes paths.
 */
export class ShardedLayout {
  readonly blobsDir: string;

  constructor(blobsDir: string) {
    this.blobsDir = blobsDir;
  }

  shardDir(key: string): string {
    const digest = hash('sha256', key, 'hex');
    return join(this.blobsDir, digest.slice(0, 2), digest.slice(2, 4));
  }

  /** The shard folder, blob and sidecar paths of `key`, hashing it once. */
  paths(key: string): BlobPaths {
    const dir = this.shardDir(key);
    const blob = dir + sep + key;
    return { dir, blob, sidecar: blob + SIDECAR_SUFFIX };
  }

  blobPath(key: string): string {
    return this.paths(key).blob;
  }

  sidecarPath(key: string): string {
    return this.paths(key).sidecar;
  }

  /** Every existing shard folder (absolute paths), in sorted order. */
  async listShardDirs(): Promise<string[]> {
    const top = await readShardNames(this.blobsDir);
    const nested = await mapWithConcurrency(top, WALK_CONCURRENCY, async (aa) => {
      const dir = join(this.blobsDir, aa);
      return (await readShardNames(dir)).map((bb) => join(dir, bb));
    });
    return nested.flat();
  }

  /**
   * Calls `visit` once per shard folder with the blob names and sidecar
   * names (sidecar names without their suffix) it holds. Folders are visited
   * concurrently, so `visit` must not rely on any order.
   */
  async forEachShard(visit: (dir: string, contents: ShardContents) => Promise<void> | void): Promise<void> {
    const dirs = await this.listShardDirs();
    await mapWithConcurrency(dirs, WALK_CONCURRENCY, async (dir) => {
      const contents = await readShardContents(dir);
      if (contents) await visit(dir, contents);
    });
  }
}

export interface BlobPaths {
  dir: string;
  blob: string;
  sidecar: string;
}

export interface ShardContents {
  /** Keys whose blob file is present. */
  blobs: string[];
  /** Keys whose sidecar file is present. */
  sidecars: Set<string>;
}

async function readShardContents(dir: string): Promise<ShardContents | undefined> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const blobs: string[] = [];
  const sidecars = new Set<string>();
  for (const name of entries) {
    if (name.endsWith(SIDECAR_SUFFIX)) sidecars.add(name.slice(0, -SIDECAR_SUFFIX.length));
    else blobs.push(name);
  }
  return { blobs, sidecars };
}

async function readShardNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => SHARD_NAME.test(name)).sort();
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
