import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { PassThrough } from 'node:stream';
import { Pool } from 'undici';
import { LegimError, errorFromResponse, tlsFailure } from '@legim/sdk';
import { PLAIN_HTTP, plainPeerRefusal, type PeerTls, type SidecarPage, type TombstonePage } from '@legim/node';
import type { NodeStats } from '../../metadata/types.js';
import { parseNodeStats } from '../../metadata/node-stats.js';
import type { BlobRead, BlobStat, BlobTransport, BlobUpload, StoredBlob, UploadOptions } from './blob-transport.js';

const PROBE_TIMEOUT_MS = 2000;
/** A download waits on its checkpoint (an fsync'd sidecar rewrite: seconds on a busy disk); a node silent this long counts as down. */
const CHECKPOINT_TIMEOUT_MS = 10_000;
/** A node that stops answering mid-transfer is given up on after this long. */
const IDLE_TIMEOUT_MS = 30_000;

export interface HttpBlobTransportOptions {
  /** The CA the node's certificate must chain to, and whether the secret may go to an http:// node. */
  peers?: PeerTls;
  /** Told once when the node is refused: a plain-HTTP URL, or a certificate this process does not trust. */
  log?: (line: string) => void;
}

/** A storage node process, reached over its HTTP(S) API (docs/node-api.md). */
export class HttpBlobTransport implements BlobTransport {
  private readonly pool: Pool;
  // Uploads use node:http(s) because they send the digest as an HTTP trailer,
  // which undici cannot do; reads and control calls use undici's pool.
  private readonly uploadAgent: HttpAgent;
  private readonly sendUpload: typeof httpRequest;
  private readonly auth: string;
  /** Set when the secret must not be sent to this node: every call fails with it, nothing is sent. */
  private readonly refusal: LegimError | undefined;
  private readonly log: (line: string) => void;
  private refusalLogged = false;

  constructor(
    readonly nodeId: string,
    readonly baseUrl: string,
    secret: string,
    options: HttpBlobTransportOptions = {},
  ) {
    const peers = options.peers ?? PLAIN_HTTP.peers;
    const ca = peers.ca === undefined ? {} : { ca: peers.ca };
    this.pool = new Pool(baseUrl, {
      connections: 64,
      keepAliveTimeout: 30_000,
      headersTimeout: IDLE_TIMEOUT_MS,
      bodyTimeout: IDLE_TIMEOUT_MS,
      connect: ca,
    });
    const secure = new URL(baseUrl).protocol === 'https:';
    this.uploadAgent = secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ...ca })
      : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    this.sendUpload = secure ? httpsRequest : httpRequest;
    this.auth = `Bearer ${secret}`;
    this.refusal = plainPeerRefusal(baseUrl, peers, `storage node ${nodeId}`);
    this.log = options.log ?? (() => {});
  }

  openUpload(key: string, meta: Record<string, unknown>, options: UploadOptions = {}): BlobUpload {
    if (this.refusal) return this.refusedUpload(this.refused());
    const url = new URL(`/blobs/${encodeURIComponent(key)}`, this.baseUrl);
    const req = this.sendUpload(url, {
      method: 'PUT',
      agent: this.uploadAgent,
      headers: {
        authorization: this.auth,
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked',
        trailer: 'Legim-Sha256, Legim-Meta',
        'legim-meta': encodeMeta(meta),
        ...(options.downloadsTaken !== undefined && { 'legim-downloads-taken': String(options.downloadsTaken) }),
      },
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no progress for ${IDLE_TIMEOUT_MS / 1000}s`)));
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    answered.catch(() => {}); // observed through commit(); an abort must not crash the process
    return {
      stream: req,
      commit: async (sha256: string, finalMeta?: Record<string, unknown>): Promise<StoredBlob> => {
        req.addTrailers({ 'Legim-Sha256': sha256, ...(finalMeta && { 'Legim-Meta': encodeMeta(finalMeta) }) });
        req.end();
        const res = await answered.catch((error: unknown) => {
          throw this.unreachable(error);
        });
        const body = await readJsonBody(res);
        if (res.statusCode !== 201 && res.statusCode !== 200) throw errorFromResponse(res.statusCode ?? 502, body);
        return body as StoredBlob;
      },
      abort: (reason: Error) => req.destroy(reason),
    };
  }

  async read(key: string, range?: { start: number; end?: number }): Promise<BlobRead> {
    const headers: Record<string, string> = { authorization: this.auth };
    if (range) headers['range'] = `bytes=${range.start}-${range.end ?? ''}`;
    const res = await this.connection()
      .request({ method: 'GET', path: `/blobs/${encodeURIComponent(key)}`, headers })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      const body = await res.body.json().catch(() => undefined);
      throw errorFromResponse(res.statusCode, body);
    }
    const size = Number(res.headers['content-length']);
    const contentRange = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    const total = contentRange ? Number(contentRange[1]) : size;
    const start = range?.start ?? 0;
    return { stream: res.body, size: total, sha256: String(res.headers['legim-sha256']), start, end: start + size - 1 };
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const res = await this.connection()
      .request({ method: 'HEAD', path: `/blobs/${encodeURIComponent(key)}`, headers: { authorization: this.auth } })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw errorFromResponse(res.statusCode, undefined);
    const meta = res.headers['legim-meta'];
    const taken = res.headers['legim-downloads-taken'];
    return {
      size: Number(res.headers['content-length']),
      sha256: String(res.headers['legim-sha256']),
      meta: typeof meta === 'string' ? (safeJson(Buffer.from(meta, 'base64url').toString('utf8')) ?? null) : null,
      downloadsTaken: typeof taken === 'string' ? Number(taken) : undefined,
    };
  }

  async delete(key: string, options: { tombstone?: boolean } = {}): Promise<void> {
    const query = options.tombstone ? '?tombstone=1' : '';
    const res = await this.connection()
      .request({
        method: 'DELETE',
        path: `/blobs/${encodeURIComponent(key)}${query}`,
        headers: { authorization: this.auth },
      })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    const body = await res.body.text();
    if (res.statusCode >= 300) throw errorFromResponse(res.statusCode, safeJson(body));
  }

  async checkpoint(key: string, downloadsTaken: number): Promise<number> {
    const body = (await this.json('POST', `/blobs/${encodeURIComponent(key)}/checkpoint`, CHECKPOINT_TIMEOUT_MS, {
      downloadsTaken,
    })) as { downloadsTaken: number };
    return body.downloadsTaken;
  }

  async listSidecars(after: string | undefined, limit: number): Promise<SidecarPage> {
    const query = new URLSearchParams({ meta: '1', limit: String(limit), ...(after !== undefined && { after }) });
    return (await this.json('GET', `/blobs?${query.toString()}`, IDLE_TIMEOUT_MS)) as SidecarPage;
  }

  async listTombstones(after: string | undefined, limit: number): Promise<TombstonePage> {
    const query = new URLSearchParams({ limit: String(limit), ...(after !== undefined && { after }) });
    return (await this.json('GET', `/tombstones?${query.toString()}`, IDLE_TIMEOUT_MS)) as TombstonePage;
  }

  /** A small JSON request; a node that does not answer within `timeoutMs` is unreachable. */
  private async json(method: 'GET' | 'POST', path: string, timeoutMs: number, body?: unknown): Promise<unknown> {
    const res = await this.connection()
      .request({
        method,
        path,
        headers: {
          authorization: this.auth,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    const answer = await res.body.json().catch(() => undefined);
    if (res.statusCode !== 200) throw errorFromResponse(res.statusCode, answer);
    return answer;
  }

  async probe(): Promise<NodeStats> {
    const res = await this.connection()
      .request({
        method: 'GET',
        path: '/stats',
        headers: { authorization: this.auth },
        headersTimeout: PROBE_TIMEOUT_MS,
        bodyTimeout: PROBE_TIMEOUT_MS,
      })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    const body = (await res.body.json().catch(() => undefined)) as NodeStats | undefined;
    if (res.statusCode !== 200 || !body) throw errorFromResponse(res.statusCode, body);
    // Only the storage figures: the answer also names the node and carries the scrubber's counts.
    return parseNodeStats(body);
  }

  async close(): Promise<void> {
    this.uploadAgent.destroy();
    await this.pool.destroy();
  }

  /** The pool, unless the secret must not go to this node. */
  private connection(): Pool {
    if (this.refusal) throw this.refused();
    return this.pool;
  }

  private refused(): LegimError {
    this.logOnce(this.refusal!.message);
    return this.refusal!;
  }

  /** An upload that fails as the node's own would, so the other copies of a replicated write go on. */
  private refusedUpload(refusal: LegimError): BlobUpload {
    const stream = new PassThrough();
    stream.destroy(refusal);
    return { stream, commit: () => Promise.reject(refusal), abort: () => {} };
  }

  private unreachable(error: unknown): LegimError {
    if (LegimError.is(error)) return error;
    const reason = error instanceof Error ? error.message : String(error);
    const tls = tlsFailure(error);
    if (tls?.kind === 'untrusted') {
      const message = `storage node ${this.nodeId} (${this.baseUrl}) is refused: its TLS certificate is not signed by the CA this process trusts (--ca): ${reason}`;
      this.logOnce(message);
      return new LegimError('UNAVAILABLE', message, { cause: error });
    }
    return new LegimError('UNAVAILABLE', `storage node ${this.nodeId} (${this.baseUrl}) is unreachable: ${reason}`, {
      cause: error,
    });
  }

  private logOnce(message: string): void {
    if (this.refusalLogged) return;
    this.refusalLogged = true;
    this.log(message);
  }
}

async function readJsonBody(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return safeJson(Buffer.concat(chunks).toString('utf8'));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function encodeMeta(meta: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(meta)).toString('base64url');
}
