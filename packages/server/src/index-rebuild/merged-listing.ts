/** One page of a node's listing in key order: what a `GET /blobs?meta=1` or `GET /tombstones` answers. */
export interface KeyedPage<T> {
  items: T[];
  next: string | null;
}

/** Fetches the page after `after` (undefined: the first). */
export type PageFetcher<T> = (after: string | undefined) => Promise<KeyedPage<T>>;

/** Every node's entries for one key, as the merge hands them out. */
export interface KeyedEntries<T> {
  key: string;
  entries: { source: number; item: T }[];
}

/**
 * Merges the key-ordered listings of several nodes into one key-ordered
 * stream, one key (with every node's entry for it) at a time. Holds one page
 * per node, so memory stays flat however many keys the nodes hold.
 * `onSourceDone` is told as each node's listing runs out.
 */
export class MergedListing<T extends { key: string }> {
  private readonly cursors: Cursor<T>[];

  constructor(
    fetchers: PageFetcher<T>[],
    private readonly onSourceDone: (source: number) => void = () => {},
  ) {
    this.cursors = fetchers.map((fetch, source) => new Cursor(fetch, source));
  }

  async *keys(): AsyncGenerator<KeyedEntries<T>> {
    for (;;) {
      // Each cursor with an empty buffer fetches its next page, all nodes at once.
      await Promise.all(this.cursors.map((cursor) => cursor.fill(this.onSourceDone)));
      let smallest: string | undefined;
      for (const cursor of this.cursors) {
        const key = cursor.peek()?.key;
        if (key !== undefined && (smallest === undefined || key < smallest)) smallest = key;
      }
      if (smallest === undefined) return;
      const entries: KeyedEntries<T>['entries'] = [];
      for (const cursor of this.cursors) {
        if (cursor.peek()?.key === smallest) entries.push({ source: cursor.source, item: cursor.take() });
      }
      yield { key: smallest, entries };
    }
  }
}

class Cursor<T extends { key: string }> {
  private buffer: T[] = [];
  private index = 0;
  private after: string | undefined;
  private done = false;

  constructor(
    private readonly fetch: PageFetcher<T>,
    readonly source: number,
  ) {}

  async fill(onDone: (source: number) => void): Promise<void> {
    while (!this.done && this.index >= this.buffer.length) {
      const page = await this.fetch(this.after);
      this.buffer = page.items;
      this.index = 0;
      this.after = page.next ?? undefined;
      if (page.next === null) {
        this.done = true;
        onDone(this.source);
      }
    }
  }

  peek(): T | undefined {
    return this.buffer[this.index];
  }

  take(): T {
    return this.buffer[this.index++]!;
  }
}
