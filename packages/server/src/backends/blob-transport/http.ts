import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Pool } from 'undici';
import { LegimError, errorFromResponse } from '@legim/sdk';
import type { NodeStats } from '../../metadata/types.js';
import type { BlobRead, BlobTransport, BlobUpload, StoredBlob } from './blob-transport.js';

const PROBE_TIMEOUT_MS = 2000;
/** A node that stops answering mid-transfer is given up on after this long. */
const IDLE_TIMEOUT_MS = 30_000;

/** A storage node process, reached over its HTTP API (docs/node-api.md). */
export class HttpBlobTransport implements BlobTransport {
  private readonly pool: Pool;
  // Uploads use node:http because they send the digest as an HTTP trailer,
  // which undici cannot do; reads and control calls use undici's pool.
  private readonly uploadAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private readonly auth: string;

  constructor(
    readonly nodeId: string,
    readonly baseUrl: string,
    secret: string,
  ) {
    this.pool = new Pool(baseUrl, {
      connections: 64,
      keepAliveTimeout: 30_000,
      headersTimeout: IDLE_TIMEOUT_MS,
      bodyTimeout: IDLE_TIMEOUT_MS,
    });
    this.auth = `Bearer ${secret}`;
  }

  openUpload(key: string, meta: Record<string, unknown>): BlobUpload {
    const url = new URL(`/blobs/${encodeURIComponent(key)}`, this.baseUrl);
    const req = httpRequest(url, {
      method: 'PUT',
      agent: this.uploadAgent,
      headers: {
        authorization: this.auth,
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked',
        trailer: 'Legim-Sha256',
        'legim-meta': Buffer.from(JSON.stringify(meta)).toString('base64url'),
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
      commit: async (sha256: string): Promise<StoredBlob> => {
        req.addTrailers({ 'Legim-Sha256': sha256 });
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
    const res = await this.pool
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

  async stat(key: string): Promise<StoredBlob | undefined> {
    const res = await this.pool
      .request({ method: 'HEAD', path: `/blobs/${encodeURIComponent(key)}`, headers: { authorization: this.auth } })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw errorFromResponse(res.statusCode, undefined);
    return { size: Number(res.headers['content-length']), sha256: String(res.headers['legim-sha256']) };
  }

  async delete(key: string): Promise<void> {
    const res = await this.pool
      .request({ method: 'DELETE', path: `/blobs/${encodeURIComponent(key)}`, headers: { authorization: this.auth } })
      .catch((error: unknown) => {
        throw this.unreachable(error);
      });
    const body = await res.body.text();
    if (res.statusCode >= 300) throw errorFromResponse(res.statusCode, safeJson(body));
  }

  async probe(): Promise<NodeStats> {
    const res = await this.pool
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
    const { blobCount, usedBytes, freeBytes, totalBytes } = body;
    return { blobCount, usedBytes, freeBytes, totalBytes };
  }

  async close(): Promise<void> {
    this.uploadAgent.destroy();
    await this.pool.destroy();
  }

  private unreachable(error: unknown): LegimError {
    if (LegimError.is(error)) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new LegimError('UNAVAILABLE', `storage node ${this.nodeId} (${this.baseUrl}) is unreachable: ${reason}`, {
      cause: error,
    });
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
