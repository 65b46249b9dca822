/** What a read needs to know about a stored blob, kept so that reads need no sidecar I/O. */
export interface CachedBlobInfo {
  readonly size: number;
  readonly sha256: string;
  /** `performance.now()` when the blob was last written or read: its bytes are then likely in the page cache. */
  usedAt: number;
}

interface Entry extends CachedBlobInfo {
  stamp: number;
}

/**
 * Size and SHA-256 of recently read or written blobs, bounded to
 * `maxEntries` (a node may hold far more blobs than fit in memory), evicting
 * roughly the least recently used.
 *
 * Entries double as version tokens: `set` always makes a new object, and the
 * store removes a key's entry before it renames or unlinks that key's files
 * and adds one only while it holds the key's lock. So when `get(key)` returns
 * the same object before and after opening the blob file, no write or delete
 * touched the key in between, and the opened file is the one the entry
 * describes. That is what lets reads skip the lock.
 */
export class BlobInfoCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  #clock = 0;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedBlobInfo | undefined {
    const entry = this.#entries.get(key);
    // Moving every hit to the back would cost two map operations per read;
    // moving only entries past half their life keeps hot keys just as safe.
    if (entry !== undefined && this.#clock - entry.stamp > this.maxEntries / 2) {
      this.#entries.delete(key);
      entry.stamp = ++this.#clock;
      this.#entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, info: { size: number; sha256: string }): CachedBlobInfo {
    const entry: Entry = { size: info.size, sha256: info.sha256, usedAt: performance.now(), stamp: ++this.#clock };
    if (this.maxEntries <= 0) return entry;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return entry;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
