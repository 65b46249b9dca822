import { appendFile, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fsyncDir, isMissingFileError, writeFileSynced } from './durable-fs.js';
import { closeFd, fsyncFd, openFd } from './fd-io.js';
import type { Logger } from './logging/create-logger.js';

/** One key deleted on the gateway's request, remembered so an index rebuild does not bring it back. */
export interface BlobTombstone {
  key: string;
  /** Epoch milliseconds of the delete. */
  deletedAt: number;
}

export interface TombstonePage {
  tombstones: BlobTombstone[];
  /** Pass as `after` for the next page; `null` on the last page. */
  next: string | null;
}

/** As long as the gateway keeps a deleted id answering 410 (its tombstone period). */
export const TOMBSTONE_KEEP_MS = 7 * 24 * 3600 * 1000;

/**
 * The tombstones of one store: an append-only file of JSON lines
 * (`<data>/tombstones.jsonl`) mirrored in memory. A delete appends its line
 * and fsyncs before the blob goes, so a crash never loses a tombstone for a
 * blob that is gone; appends that arrive together share one fsync. Lines
 * older than {@link TOMBSTONE_KEEP_MS} are dropped when the file is
 * rewritten (temp file, fsync, rename), at start and then every hour.
 * Memory holds one entry per key deleted in the last 7 days.
 */
export class TombstoneLog {
  readonly path: string;
  readonly #tmpDir: string;
  readonly #keepMs: number;
  readonly #log: Logger;
  readonly #entries = new Map<string, number>();
  #sorted: string[] | undefined;
  #waiting: { line: string; done: () => void; failed: (error: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  /** Lines in the file, torn and duplicate ones included: a rewrite is due when they outnumber the entries. */
  #fileLines = 0;

  constructor(dataDir: string, tmpDir: string, logger: Logger, keepMs = TOMBSTONE_KEEP_MS) {
    this.path = join(dataDir, 'tombstones.jsonl');
    this.#log = logger;
    this.#tmpDir = tmpDir;
    this.#keepMs = keepMs;
  }

  /** Loads the file, prunes it, and prunes again every hour in the background. */
  async init(now = Date.now()): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (!isMissingFileError(error)) throw error;
    }
    for (const line of text.split('\n')) {
      if (line.trim() !== '') this.#fileLines += 1;
      const entry = parseLine(line);
      if (entry) this.#remember(entry.key, entry.deletedAt);
    }
    await this.prune(now);
    this.#pruneTimer = setInterval(() => {
      this.prune().catch((error: unknown) => this.#log.error({ err: error }, 'pruning tombstones failed'));
    }, PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref();
  }

  stop(): void {
    clearInterval(this.#pruneTimer);
  }

  /** Records that `key` was deleted; resolves once the line is durable. */
  add(key: string, deletedAt = Date.now()): Promise<void> {
    this.#remember(key, deletedAt);
    const line = JSON.stringify({ key, deletedAt }) + '\n';
    const written = new Promise<void>((done, failed) => this.#waiting.push({ line, done, failed }));
    this.#flushing ??= this.#flush();
    return written;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** One page of tombstones in key order, after `after`. */
  list(after: string | undefined, limit: number): TombstonePage {
    this.#sorted ??= [...this.#entries.keys()].sort();
    const sorted = this.#sorted;
    let start = 0;
    if (after !== undefined) {
      let high = sorted.length;
      while (start < high) {
        const middle = (start + high) >>> 1;
        if (sorted[middle]! <= after) start = middle + 1;
        else high = middle;
      }
    }
    const keys = sorted.slice(start, start + limit);
    return {
      tombstones: keys.map((key) => ({ key, deletedAt: this.#entries.get(key)! })),
      next: start + limit < sorted.length ? (keys.at(-1) ?? null) : null,
    };
  }

  /** Forgets tombstones older than the keep period and rewrites the file with the rest. */
  async prune(now = Date.now()): Promise<void> {
    // After the appends in flight, so the rewrite cannot drop a line written meanwhile.
    while (this.#flushing) await this.#flushing;
    for (const [key, deletedAt] of this.#entries) {
      if (deletedAt < now - this.#keepMs) {
        this.#entries.delete(key);
        this.#sorted = undefined;
      }
    }
    if (this.#fileLines === this.#entries.size) return;
    const lines = [...this.#entries].map(([key, deletedAt]) => JSON.stringify({ key, deletedAt }) + '\n');
    const tmp = join(this.#tmpDir, `tombstones-${randomUUID()}.jsonl`);
    await writeFileSynced(tmp, lines.join(''));
    await rename(tmp, this.path);
    await fsyncDir(join(this.path, '..'));
    this.#fileLines = lines.length;
  }

  #remember(key: string, deletedAt: number): void {
    const known = this.#entries.get(key);
    if (known === undefined) this.#sorted = undefined;
    if (known === undefined || deletedAt > known) this.#entries.set(key, deletedAt);
  }

  /** Appends every waiting line with one write and one fsync, until none waits. */
  async #flush(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        this.#fileLines += batch.length;
        await appendFile(this.path, batch.map((entry) => entry.line).join(''));
        const fd = await openFd(this.path, 'r');
        try {
          await fsyncFd(fd);
        } finally {
          closeFd(fd);
        }
        for (const entry of batch) entry.done();
      } catch (error) {
        for (const entry of batch) entry.failed(error);
      }
    }
    this.#flushing = undefined;
  }
}

const PRUNE_INTERVAL_MS = 3600_000;

function parseLine(line: string): BlobTombstone | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<BlobTombstone>;
    if (typeof value.key === 'string' && typeof value.deletedAt === 'number') {
      return { key: value.key, deletedAt: value.deletedAt };
    }
  } catch {
    // A line torn by a crash mid-append: its delete never answered, and the gateway sends it again.
  }
  return undefined;
}
