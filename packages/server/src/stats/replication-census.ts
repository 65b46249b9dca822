import type { Logger } from '@legim/node';
import type { IndexTotals } from './index-totals.js';

/** Files per query: one page holds the event loop for a millisecond or so. */
const PAGE = 2000;
const DEFAULT_MAX_AGE_MS = 5000;

/**
 * Counts the live files that have fewer durable copies than they want,
 * leaving out copies on nodes that are down. That takes a look at every
 * file, so it is done in pages with the event loop free in between, and only
 * when someone asks and the last count is older than `maxAgeMs`: readers get
 * the latest count at once while the next one is made (only the very first
 * reader waits).
 */
export class ReplicationCensus {
  private latest: { count: number; at: number } | undefined;
  private counting: Promise<number> | undefined;

  constructor(
    private readonly totals: IndexTotals,
    private readonly downNodeIds: () => string[],
    private readonly logger: Logger,
    private readonly maxAgeMs = DEFAULT_MAX_AGE_MS,
  ) {}

  async underReplicated(): Promise<number> {
    const latest = this.latest;
    if (latest && Date.now() - latest.at <= this.maxAgeMs) return latest.count;
    this.counting ??= this.count().finally(() => (this.counting = undefined));
    if (!latest) return this.counting;
    // Nobody waits for this one: a failure (the index closing at shutdown) is only logged.
    this.counting.catch((error: unknown) =>
      this.logger.warn(`counting under-replicated files failed: ${(error as Error).message}`),
    );
    return latest.count;
  }

  private async count(): Promise<number> {
    const started = Date.now();
    const down = this.downNodeIds();
    let short = 0;
    let after = '';
    for (;;) {
      const page = await this.totals.replicationPage(after, PAGE, down, Date.now());
      short += page.short;
      if (page.files < PAGE || page.lastId === undefined) break;
      after = page.lastId;
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.latest = { count: short, at: started };
    return short;
  }
}
