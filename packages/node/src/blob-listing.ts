import { isValidBlobKey } from './blob-key.js';
import type { ShardedLayout } from './sharded-layout.js';

/**
 * The first `count` keys greater than `after`, in key (code unit) order,
 * across every shard. Keys are spread over the shards by hash, so each page
 * reads every shard folder: O(shards + blobs) per page, but memory stays
 * O(count). Only blobs with a sidecar count, as only those are readable.
 */
export async function listKeysAfter(
  layout: ShardedLayout,
  after: string | undefined,
  count: number,
): Promise<string[]> {
  const selection = new SmallestKeys(count, after);
  await layout.forEachShard((_dir, { blobs, sidecars }) => {
    for (const key of blobs) {
      if (sidecars.has(key) && isValidBlobKey(key)) selection.offer(key);
    }
  });
  return selection.result();
}

/**
 * Keeps the `count` smallest keys offered. Sorting and trimming only when the
 * buffer doubles keeps offers O(1) amortised without a heap; after the first
 * trim, keys at or above the current worst kept key are dropped at once.
 */
class SmallestKeys {
  readonly #count: number;
  readonly #after: string | undefined;
  #keys: string[] = [];
  #ceiling: string | undefined;

  constructor(count: number, after: string | undefined) {
    this.#count = count;
    this.#after = after;
  }

  offer(key: string): void {
    if (this.#after !== undefined && key <= this.#after) return;
    if (this.#ceiling !== undefined && key >= this.#ceiling) return;
    this.#keys.push(key);
    if (this.#keys.length >= this.#count * 2) this.#trim();
  }

  result(): string[] {
    this.#trim();
    return this.#keys;
  }

  #trim(): void {
    this.#keys.sort(compareKeys);
    if (this.#keys.length >= this.#count) {
      this.#keys.length = this.#count;
      this.#ceiling = this.#keys[this.#count - 1];
    }
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
