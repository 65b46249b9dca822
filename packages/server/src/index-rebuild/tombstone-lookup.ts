import type { BlobTombstone } from '@legim/node';
import type { KeyedEntries } from './merged-listing.js';

/**
 * Answers "does any node keep a tombstone of a key of this file?" for file
 * ids asked in increasing order, walking the nodes' merged tombstone
 * listings alongside the blob listings: one page per node in memory.
 */
export class TombstoneLookup {
  private readonly iterator: AsyncIterator<KeyedEntries<BlobTombstone>>;
  private current: KeyedEntries<BlobTombstone> | undefined;
  private started = false;
  private ended = false;

  constructor(merged: AsyncIterable<KeyedEntries<BlobTombstone>>) {
    this.iterator = merged[Symbol.asyncIterator]();
  }

  /** The latest delete of the file (its original or a variant) on any node, or undefined. */
  async latestDelete(fileId: string): Promise<number | undefined> {
    let latest: number | undefined;
    for (;;) {
      const entry = await this.peek();
      if (!entry) return latest;
      if (entry.key < fileId) {
        await this.advance();
        continue;
      }
      if (entry.key !== fileId && !entry.key.startsWith(`${fileId}.`)) return latest;
      for (const { item } of entry.entries) latest = Math.max(latest ?? 0, item.deletedAt);
      await this.advance();
    }
  }

  private async peek(): Promise<KeyedEntries<BlobTombstone> | undefined> {
    if (!this.started) {
      this.started = true;
      await this.advance();
    }
    return this.ended ? undefined : this.current;
  }

  private async advance(): Promise<void> {
    const next = await this.iterator.next();
    this.ended = next.done === true;
    this.current = next.done ? undefined : next.value;
  }
}
