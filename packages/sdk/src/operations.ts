import { setTimeout as sleep } from 'node:timers/promises';
import { LegimError } from './errors.js';
import { failure, readJson, send, type HttpContext } from './http.js';
import { parseServerSentEvents, type ServerSentEvent } from './server-sent-events.js';
import type { LegimEvent, LegimEventType, Stats } from './protocol/index.js';

/** Options of `Legim.stats`. */
export interface StatsOptions {
  signal?: AbortSignal;
}

/** Options of `Legim.events`. */
export interface EventsOptions {
  /** Ends the stream: the iteration then finishes quietly. */
  signal?: AbortSignal;
}

export async function getStats(ctx: HttpContext, options: StatsOptions = {}): Promise<Stats> {
  const { signal } = options;
  return readJson<Stats>(ctx, await send(ctx, { method: 'GET', path: '/v1/stats', signal }), signal);
}

const EVENT_TYPES: ReadonlySet<string> = new Set<LegimEventType>([
  'file.uploaded',
  'file.downloaded',
  'file.processed',
  'file.deleted',
  'node.status',
  'node.joined',
  'replica.repaired',
  'node.draining',
  'node.removed',
]);

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
/** Statuses a proxy answers while a gateway restarts. */
const PASSING_STATUSES = new Set([502, 503, 504]);

/**
 * The events of `GET /v1/events`, for as long as the caller iterates. A
 * dropped connection is opened again with back-off, sending the id of the
 * last event seen as `Last-Event-ID` so the gateway replays what was missed
 * (from its buffer of recent events).
 */
export async function* streamEvents(ctx: HttpContext, options: EventsOptions = {}): AsyncGenerator<LegimEvent> {
  const { signal } = options;
  let lastEventId: string | undefined;
  let opened = false;
  let retryMs = FIRST_RETRY_MS;
  while (!signal?.aborted) {
    try {
      const response = await openStream(ctx, lastEventId, signal);
      opened = true;
      for await (const message of parseServerSentEvents(response.body)) {
        // Back-off starts over only once the gateway speaks (it does at once), not on any accepted connection.
        retryMs = FIRST_RETRY_MS;
        if (message.id !== undefined) lastEventId = message.id;
        const event = legimEvent(message);
        if (event !== undefined) yield event;
      }
    } catch (error) {
      if (signal?.aborted) return;
      const cause = failure(ctx, error, signal, 'response');
      if (!isPassing(cause, opened)) throw cause;
    }
    // The gateway ended the stream (it is shutting down) or the connection failed: open it again.
    if (!(await pause(retryMs, signal))) return;
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}

function openStream(ctx: HttpContext, lastEventId: string | undefined, signal: AbortSignal | undefined) {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  return send(ctx, { method: 'GET', path: '/v1/events', headers, signal });
}

/**
 * A failure worth opening the stream again for, rather than throwing: once
 * the stream has been open, a broken connection or an answer a proxy gives
 * while a gateway restarts. Before that, every failure is the caller's to see.
 */
function isPassing(error: unknown, opened: boolean): boolean {
  if (!opened || !LegimError.is(error)) return false;
  return error.code === 'NETWORK_ERROR' || PASSING_STATUSES.has(error.statusCode);
}

/** Waits before opening the stream again; false when the signal aborted meanwhile. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms * (0.5 + Math.random() / 2), undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** The event a message carries; undefined for a type this version does not know, or a malformed one. */
function legimEvent(message: ServerSentEvent): LegimEvent | undefined {
  if (message.data === undefined || !EVENT_TYPES.has(message.event)) return undefined;
  try {
    const data = JSON.parse(message.data) as Record<string, unknown>;
    return { ...data, type: message.event } as LegimEvent;
  } catch {
    return undefined;
  }
}
