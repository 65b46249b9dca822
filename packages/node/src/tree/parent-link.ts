import { errorFromResponse, tlsFailure } from '@legim/sdk';
import { request, type Dispatcher } from 'undici';
import type { Logger } from '../logging/create-logger.js';
import type { CorruptReports } from '../corrupt-reports.js';
import type { BlobStoreStats } from '../storage-ledger.js';
import { MAX_CORRUPT_PER_JOIN, type DrainRequest, type JoinRequest, type JoinResponse } from './join-message.js';

export interface ParentLinkOptions {
  /** Base URL of the parent node or gateway, e.g. `http://10.0.0.6:3333`. */
  parentUrl: string;
  secret: string;
  nodeId: string;
  /** This node's advertised URL. */
  url: string;
  /** Random per process start (see {@link JoinRequest.bootId}). */
  bootId: string;
  /** Fresh stats for each heartbeat. */
  readStats: () => Promise<BlobStoreStats>;
  /** Time between joins while the parent answers (default 1000); the parent's answer overrides it. */
  heartbeatMs?: number;
  /** Longest wait between attempts while the parent is down (default 5000). */
  maxBackoffMs?: number;
  /** Per-request limit for headers and body (default 5000). */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  logger: Logger;
  /** Called once when the gateway answers that this node was drained and removed; heartbeats stop. */
  onRemoved?: () => void;
  /** Corrupt blobs to report in joins (`corrupt`), each until the gateway confirms it. */
  corruptReports?: CorruptReports;
}

export interface ParentLinkStatus {
  /** The last join succeeded. */
  connected: boolean;
  consecutiveFailures: number;
  lastJoinAt: number | undefined;
  lastError: string | undefined;
  heartbeatMs: number;
}

const MIN_HEARTBEAT_MS = 10;
const MAX_HEARTBEAT_MS = 60_000;

/**
 * A node's control-plane link to its parent: joins right after `start()`,
 * then every `heartbeatMs` with fresh stats, backing off exponentially (with
 * jitter) while the parent is down. It also relays children's joins upward,
 * so the gateway learns the whole tree. Reads and writes never wait on it.
 */
export class ParentLink {
  readonly #options: ParentLinkOptions;
  readonly #joinUrl: URL;
  readonly #drainUrl: URL;
  readonly #maxBackoffMs: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #heartbeatMs: number;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #running = false;
  #failures = 0;
  #lastJoinAt: number | undefined;
  #lastError: string | undefined;

  constructor(options: ParentLinkOptions) {
    this.#options = options;
    const base = options.parentUrl.endsWith('/') ? options.parentUrl : `${options.parentUrl}/`;
    this.#joinUrl = new URL('join', base);
    this.#drainUrl = new URL('drain', base);
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#log = options.logger.child({ component: 'parent-link' });
  }

  start(): void {
    if (this.#running || this.#abort.signal.aborted) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops heartbeats and cancels a join in flight. The link cannot be restarted. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#beating;
  }

  status(): ParentLinkStatus {
    return {
      connected: this.#lastJoinAt !== undefined && this.#failures === 0,
      consecutiveFailures: this.#failures,
      lastJoinAt: this.#lastJoinAt,
      lastError: this.#lastError,
      heartbeatMs: this.#heartbeatMs,
    };
  }

  /**
   * Forwards a child's join to the parent, naming this node as the child's
   * parent unless a deeper node already did, and resolves with the parent's
   * answer (which may tell the child it was removed). Never throws: while the
   * parent is down the relay is skipped (resolves `undefined`), and the
   * child's next heartbeat brings it back once the parent returns.
   */
  async relay(join: JoinRequest): Promise<JoinResponse | undefined> {
    if (!this.#running || this.#failures > 0) return undefined;
    try {
      return await this.#post<JoinResponse>(this.#joinUrl, {
        ...join,
        parentId: join.parentId ?? this.#options.nodeId,
      });
    } catch {
      return undefined;
    }
  }

  /**
   * Asks the gateway, through the parent, to drain a node (this one or a
   * child): its blobs are copied elsewhere, then it is removed. Throws when
   * the parent cannot pass the request on.
   */
  async requestDrain(request: DrainRequest): Promise<void> {
    await this.#post(this.#drainUrl, request);
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#beating = this.#beat().finally(() => {
        this.#beating = undefined;
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    let nextDelay: number;
    try {
      const { nodeId, url, bootId, readStats, corruptReports } = this.#options;
      const corrupt = corruptReports?.pending(MAX_CORRUPT_PER_JOIN) ?? [];
      const join: JoinRequest = { nodeId, url, bootId, stats: await readStats() };
      if (corrupt.length > 0) join.corrupt = corrupt;
      const reply = await this.#post<JoinResponse>(this.#joinUrl, join);
      if (reply.removed) return this.#removed();
      if (reply.corruptReceived) corruptReports?.delivered(corrupt);
      if (this.#failures > 0) this.#log.info(`parent ${this.#options.parentUrl} is reachable again`);
      this.#failures = 0;
      this.#lastError = undefined;
      this.#lastJoinAt = Date.now();
      if (Number.isFinite(reply.heartbeatMs)) {
        this.#heartbeatMs = Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, reply.heartbeatMs));
      }
      nextDelay = this.#heartbeatMs;
    } catch (error) {
      if (!this.#running) return;
      this.#failures += 1;
      this.#lastError = describeFailure(error);
      // One line when the parent goes away, not one per retry.
      if (this.#failures === 1)
        this.#log.warn(`cannot join parent ${this.#options.parentUrl} (${this.#lastError}); retrying with back-off`);
      nextDelay = this.#backoffMs();
    }
    if (this.#running) this.#schedule(nextDelay);
  }

  #removed(): void {
    this.#log.info(`node ${this.#options.nodeId} was drained and removed from the cluster`);
    this.#running = false;
    this.#lastJoinAt = Date.now();
    this.#options.onRemoved?.();
  }

  #backoffMs(): number {
    const exponential = this.#heartbeatMs * 2 ** Math.min(this.#failures - 1, 16);
    const jitter = 0.75 + Math.random() * 0.5;
    return Math.min(this.#maxBackoffMs, exponential) * jitter;
  }

  async #post<Reply>(url: URL, message: JoinRequest | DrainRequest): Promise<Reply> {
    const response = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#options.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: this.#abort.signal,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
    });
    const text = await response.body.text();
    const body = parseJsonOrUndefined(text);
    if (response.statusCode < 200 || response.statusCode > 299) throw errorFromResponse(response.statusCode, body);
    return (body ?? {}) as Reply;
  }
}

/** The failure as a log line; an untrusted certificate names the flag that fixes it. */
function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return tlsFailure(error)?.kind === 'untrusted'
    ? `${message}: its TLS certificate is not signed by a CA this node trusts; pass the cluster's CA with --ca`
    : message;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
