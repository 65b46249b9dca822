import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * bus's buffer), then follows live events. A closed connection unsubscribes
 * at once, so no listener outlives its client.
 */
export class EventStream {
  private readonly open = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: GatewayEvents,
    private readonly options: EventStreamOptions,
  ) {}

  /** Streams currently open. */
  get subscribers(): number {
    return this.open.size;
  }

  /** Starts the stream, or throws (before anything is written) when there are too many. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.open.size >= this.options.maxSubscribers) {
      throw new LegimError(
        'UNAVAILABLE',
        `this gateway already streams events to ${this.options.maxSubscribers} subscribers; close one, or retry later`,
        { details: { retryAfter: 5 } },
      );
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx buffers proxied responses unless told not to: events would arrive in bursts, or never.
      'x-accel-buffering': 'no',
    });
    const after = lastEventId(req);
    if (after !== undefined) for (const event of this.events.since(after)) this.send(res, event);
    // The newest id, even with nothing to replay: a client that drops before the next event then
    // comes back with it, and gets what happened in between.
    res.write(`retry: ${RETRY_MS}\nid: ${this.events.lastId}\n\n`);
    const stop = this.events.listen((event) => this.send(res, event));
    this.open.add(res);
    this.startHeartbeat();
    res.once('close', () => {
      stop();
      this.open.delete(res);
      if (this.open.size === 0) this.stopHeartbeat();
    });
  }

  /** Ends every stream (the gateway is shutting down); clients reconnect to wherever the gateway comes back. */
  close(): void {
    for (const res of this.open) res.end();
    this.stopHeartbeat();
  }

  private send(res: ServerResponse, { id, event }: NumberedEvent): void {
    if (res.writableLength > MAX_BACKLOG_BYTES) {
      res.destroy();
      return;
    }
    const { type, ...data } = event;
    res.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private startHeartbeat(): void {
    this.heartbeat ??= setInterval(() => {
      for (const res of this.open) res.write(': heartbeat\n\n');
    }, this.options.heartbeatMs).unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function lastEventId(req: IncomingMessage): number | undefined {
  const header = req.headers['last-event-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,16}$/.test(value.trim()) ? Number(value) : undefined;
}
