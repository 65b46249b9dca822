import { LegimError } from '@legim/sdk';
import type { GatewayEvents, NumberedEvent } from './gateway-events.js';

export interface EventStreamOptions {
  /** Open streams at once; one more is answered 503. */
  maxSubscribers: number;
  /** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
  heartbeatMs: number;
}

/** A subscriber this far behind (bytes not yet taken by its socket) is cut off; it reconnects and catches up. */
const MAX_BACKLOG_BYTES = 1024 * 1024;
/** Sent once per stream: how long a browser's EventSource waits before reconnecting. */
const RETRY_MS = 2000;

/**
 * `GET /v1/events`: the gateway's events as Server-Sent Events. Each stream
 * first replays what the client missed (after its `Last-Event-ID`, from the
 * bus's buffer), then follows live events. A client that leaves unsubscribes
 * at once, so no listener outlives its client.
 */
export class EventStream {
  private readonly open = new Set<EventFeed>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: GatewayEvents,
    private readonly options: EventStreamOptions,
  ) {}

  /** Streams currently open. */
  get subscribers(): number {
    return this.open.size;
  }

  /**
   * A new stream of SSE frames, until the client leaves (`signal`) or the
   * gateway closes; throws (before anything is sent) when there are too many.
   */
  subscribe(lastEventId: string | undefined, signal: AbortSignal): AsyncIterable<string> {
    if (this.open.size >= this.options.maxSubscribers) {
      throw new LegimError(
        'UNAVAILABLE',
        `this gateway already streams events to ${this.options.maxSubscribers} subscribers; close one, or retry later`,
        { details: { retryAfter: 5 } },
      );
    }
    const feed = new EventFeed();
    const after = parseEventId(lastEventId);
    if (after !== undefined) for (const event of this.events.since(after)) feed.push(frame(event));
    // The newest id, even with nothing to replay: a client that drops before the next event then
    // comes back with it, and gets what happened in between.
    feed.push(`retry: ${RETRY_MS}\nid: ${this.events.lastId}\n\n`);
    const stop = this.events.listen((event) => feed.push(frame(event)));
    this.open.add(feed);
    this.startHeartbeat();
    const finish = () => {
      stop();
      this.open.delete(feed);
      if (this.open.size === 0) this.stopHeartbeat();
      feed.end();
    };
    signal.addEventListener('abort', finish, { once: true });
    feed.onEnd = finish;
    return feed;
  }

  /** Ends every stream (the gateway is shutting down); clients reconnect to wherever the gateway comes back. */
  close(): void {
    for (const feed of this.open) feed.end();
    this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    this.heartbeat ??= setInterval(() => {
      for (const feed of this.open) feed.push(': heartbeat\n\n');
    }, this.options.heartbeatMs).unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function frame({ id, event }: NumberedEvent): string {
  const { type, ...data } = event;
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function parseEventId(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,16}$/.test(value.trim()) ? Number(value) : undefined;
}

/**
 * The frames of one stream, queued until its client takes them. A client
 * this far behind is cut off (the iteration fails); it reconnects and
 * catches up from its last id.
 */
class EventFeed implements AsyncIterable<string> {
  onEnd: () => void = () => {};
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private state: 'open' | 'ended' | 'overrun' = 'open';
  private wake: (() => void) | undefined;

  push(text: string): void {
    if (this.state !== 'open') return;
    this.queue.push(text);
    this.queuedBytes += text.length;
    if (this.queuedBytes > MAX_BACKLOG_BYTES) this.state = 'overrun';
    this.wake?.();
  }

  end(): void {
    if (this.state === 'open') this.state = 'ended';
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    try {
      for (;;) {
        if (this.state === 'overrun') throw new Error('the event subscriber fell too far behind');
        const next = this.queue.shift();
        if (next !== undefined) {
          this.queuedBytes -= next.length;
          yield next;
        } else if (this.state === 'ended') {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
        }
      }
    } finally {
      this.onEnd();
    }
  }
}
