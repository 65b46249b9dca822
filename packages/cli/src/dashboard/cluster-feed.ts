import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterView, Health, Legim, LegimEvent, Stats } from '@legim/sdk';
import { trafficRates, type TrafficRates } from './traffic-rates.js';

/** `live` once a refresh succeeded; `reconnecting` (keeping the last data) while refreshes fail. */
export type Connection = 'connecting' | 'live' | 'reconnecting';

/** What the dashboard shows; a new object on every change. */
export interface FeedSnapshot {
  cluster: ClusterView | undefined;
  health: Health | undefined;
  stats: Stats | undefined;
  rates: TrafficRates | undefined;
  /** The most recent events, oldest first. */
  events: readonly LegimEvent[];
  connection: Connection;
  /** Why the last refresh failed, while not live. */
  problem: string | undefined;
  /** When the shown data was read (our clock). */
  updatedAt: Date | undefined;
}

export interface ClusterFeedOptions {
  intervalMs: number;
}

/** Events kept for the log. */
const EVENTS_KEPT = 12;

const INITIAL: FeedSnapshot = {
  cluster: undefined,
  health: undefined,
  stats: undefined,
  rates: undefined,
  events: [],
  connection: 'connecting',
  problem: undefined,
  updatedAt: undefined,
};

/**
 * Reads a gateway's cluster, health and stats every `intervalMs` and follows
 * its event stream, keeping the last good data when the gateway cannot be
 * reached and picking up again when it returns. Never throws: a failure is
 * part of the snapshot. The subscribe/snapshot pair fits `useSyncExternalStore`.
 */
export class ClusterFeed {
  #snapshot: FeedSnapshot = INITIAL;
  readonly #listeners = new Set<() => void>();
  #controller: AbortController | undefined;

  constructor(
    private readonly legim: Legim,
    private readonly options: ClusterFeedOptions,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): FeedSnapshot => this.#snapshot;

  start(): void {
    if (this.#controller) return;
    const controller = new AbortController();
    this.#controller = controller;
    void this.#poll(controller.signal);
    void this.#follow(controller.signal);
  }

  stop(): void {
    this.#controller?.abort();
    this.#controller = undefined;
  }

  async #poll(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.#refresh(signal);
      if (!(await pause(this.options.intervalMs, signal))) return;
    }
  }

  /**
   * One reading of cluster, health and stats. What could be read is shown
   * even if another part failed; the feed is live only when all three were.
   */
  async #refresh(signal: AbortSignal): Promise<void> {
    // A gateway that accepts the connection but never answers must show as unreachable too.
    const limitMs = Math.max(MIN_ANSWER_MS, 2 * this.options.intervalMs);
    const [cluster, health, stats] = await Promise.allSettled([
      withinMs(this.legim.cluster(), limitMs),
      withinMs(this.legim.health(), limitMs),
      withinMs(this.legim.stats({ signal }), limitMs),
    ]);
    if (signal.aborted) return;
    const change: Partial<FeedSnapshot> = {};
    if (cluster.status === 'fulfilled') change.cluster = cluster.value;
    if (health.status === 'fulfilled') change.health = health.value;
    if (stats.status === 'fulfilled') {
      change.stats = stats.value;
      change.rates = trafficRates(this.#snapshot.stats, stats.value);
    }
    const failure = [cluster, health, stats].find((result) => result.status === 'rejected');
    if (failure === undefined) {
      change.connection = 'live';
      change.problem = undefined;
      change.updatedAt = new Date();
    } else {
      change.connection = this.#snapshot.updatedAt === undefined ? 'connecting' : 'reconnecting';
      change.problem = describe(failure.reason);
    }
    this.#update(change);
  }

  /** The event stream reconnects by itself; this loop only restarts it after an error it gave up on. */
  async #follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const event of this.legim.events({ signal })) {
          this.#update({ events: [...this.#snapshot.events, event].slice(-EVENTS_KEPT) });
        }
      } catch {
        // UNAUTHORIZED, a gateway without events...: the polling shows what is wrong; try again later.
      }
      if (!(await pause(this.options.intervalMs, signal))) return;
    }
  }

  #update(change: Partial<FeedSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    for (const listener of this.#listeners) listener();
  }
}

const MIN_ANSWER_MS = 5_000;

/** The promise, or a rejection once `ms` have passed without an answer. */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!;
}
