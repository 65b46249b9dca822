import type { FileRecord } from '../../metadata/types.js';

/**
 * What the download path needs to know of a file besides its counter. The
 * file's descriptive fields never change; the replica list may lag by the
 * cache's lifetime, which only costs a failover.
 */
export interface CachedFile {
  file: FileRecord;
  replicaNodeIds: string[];
}

/**
 * Hot metadata, so a download costs one counter operation rather than
 * several index reads. Correctness never depends on it: the counter decides
 * whether a download may happen.
 */
export interface MetadataCache {
  get(id: string): CachedFile | undefined;
  set(id: string, value: CachedFile): void;
  /** Drops the entry here and in every gateway sharing the cache (a delete must be seen by all at once). */
  invalidate(id: string): Promise<void>;
}
