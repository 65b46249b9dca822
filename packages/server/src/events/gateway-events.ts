import type { LegimEvent } from '@legim/sdk';

type WithoutTime<E> = E extends LegimEvent ? Omit<E, 'at'> : never;

/** An event as the code where it happened reports it; the bus adds the time. */
export type EventReport = WithoutTime<LegimEvent>;

/** How services report events: given to them at construction, a no-op where nobody listens (workers). */
export type EmitEvent = (event: EventReport) => void;

/** An event with its place in this gateway's stream (the SSE `id:`). */
export interface NumberedEvent {
  id: number;
  event: LegimEvent;
}

export type EventListener = (event: NumberedEvent) => void;

/** Recent events kept for subscribers that reconnect with `Last-Event-ID`. */
const DEFAULT_CAPACITY = 1000;

/**
 * This gateway's event bus: what happened here (uploads, downloads, node
 * status...), in order, each with an increasing id. The last `capacity`
 * events stay in a ring buffer, so a subscriber that lost its connection
 * gets what it missed when it comes back with the last id it saw. Events are
 * per process: another gateway sharing the index has its own stream.
 */
export class GatewayEvents {
  private readonly ring: (NumberedEvent | undefined)[];
  /**
   * Ids start at the boot time in microseconds rather than at 1, so ids of a
   * later process are larger than those of an earlier one: a client that
   * comes back after a restart with an old id is recognised and gets the
   * whole buffer instead of a wrong slice of it.
   */
  private readonly firstId = Date.now() * 1000;
  private nextId = this.firstId;
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {
    this.ring = new Array<NumberedEvent | undefined>(capacity);
  }

  /** Records an event and hands it to every listener; bound, so it can be passed around as a callback. */
  readonly emit: EmitEvent = (report) => {
    const numbered = { id: this.nextId++, event: { ...report, at: new Date().toISOString() } };
    this.ring[numbered.id % this.capacity] = numbered;
    for (const listener of this.listeners) listener(numbered);
  };

  /** The id of the newest event; one less than the first id before any. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Listens from now on; returns the way to stop. */
  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The buffered events after `lastId`, oldest first: all of them when the id
   * is not one of this process (an earlier run, another gateway), none when
   * it is the newest.
   */
  since(lastId: number | undefined): NumberedEvent[] {
    const newest = this.nextId - 1;
    const oldest = Math.max(this.firstId, this.nextId - this.capacity);
    const ours = lastId !== undefined && lastId >= this.firstId && lastId <= newest;
    const from = ours ? Math.max(lastId + 1, oldest) : oldest;
    const events: NumberedEvent[] = [];
    for (let id = from; id <= newest; id++) events.push(this.ring[id % this.capacity]!);
    return events;
  }
}
