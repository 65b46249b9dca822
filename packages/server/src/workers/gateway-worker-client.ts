import { Pool } from 'undici';
import { LegimError, errorFromResponse, tlsFailure } from '@legim/sdk';
import { plainPeerRefusal, type PeerTls } from '@legim/node';
import type { BlobLocation, NodeRecord, VariantRecord } from '../metadata/types.js';
import type { FileReaping, WorkerFile, WorkerStore } from './worker-store.js';
import {
  MAX_REASON_LENGTH,
  WORKER_API,
  parseNodeList,
  parseRecorded,
  parseReplicaNodes,
  parseWorkerFile,
  parseDataKey,
} from './worker-wire.js';
import type { FileKeySource } from '../encryption/file-keyring.js';

/** A reap sends the deletes to every node before it answers; give it time. */
const TIMEOUT_MS = 60_000;

/**
 * A `WorkerStore` (and the reaper of `expire`/`delete` jobs) on another
 * host: the gateway's internal worker API, authenticated with the cluster
 * secret. Only metadata travels here; the worker moves blob bytes to and
 * from the storage nodes itself. A call that fails throws (the gateway down
 * is `UNAVAILABLE`), so the job fails and is retried: a worker never takes
 * an unreachable gateway for a deleted file.
 */
export class GatewayWorkerClient implements WorkerStore, FileReaping, FileKeySource {
  private readonly pool: Pool;
  private readonly auth: string;
  /** A gateway behind a path prefix (`https://host/legim`) keeps it. */
  private readonly base: string;

  private constructor(
    readonly url: string,
    secret: string,
    peers: PeerTls,
  ) {
    const parsed = new URL(url);
    this.base = parsed.pathname.replace(/\/+$/, '');
    this.pool = new Pool(parsed.origin, {
      connections: 16,
      keepAliveTimeout: 30_000,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      connect: peers.ca === undefined ? {} : { ca: peers.ca },
    });
    this.auth = `Bearer ${secret}`;
  }

  /**
   * Opens the client and checks, with one call, that the gateway answers,
   * has the internal API and takes the secret; each failure says what to fix.
   * A worker that uses TLS (`--ca`) sends the secret to an https:// gateway only.
   */
  static async connect(url: string, secret: string, peers: PeerTls): Promise<GatewayWorkerClient> {
    const refusal = plainPeerRefusal(url, peers, 'the gateway');
    if (refusal) throw refusal;
    const client = new GatewayWorkerClient(url, secret, peers);
    try {
      await client.listNodes();
      return client;
    } catch (error) {
      await client.close();
      throw client.explainStartFailure(error);
    }
  }

  async getFile(id: string): Promise<WorkerFile | undefined> {
    try {
      return parseAnswer(parseWorkerFile, await this.call('GET', `/files/${encodeURIComponent(id)}`));
    } catch (error) {
      // Only the gateway's own "no such file" means gone; any other 404 (a proxy, an old gateway) is a failure.
      if (LegimError.is(error) && error.code === 'FILE_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async replicaNodes(blobKey: string): Promise<string[]> {
    return parseAnswer(parseReplicaNodes, await this.call('GET', `/blobs/${encodeURIComponent(blobKey)}/replicas`));
  }

  async recordUploadIntent(key: string, nodeIds: string[], until: number): Promise<void> {
    const forMs = Math.max(0, Math.round(until - Date.now()));
    await this.call('POST', `/blobs/${encodeURIComponent(key)}/intent`, { nodeIds, forMs });
  }

  async recordVariants(
    fileId: string,
    variants: { variant: VariantRecord; nodeIds: string[] }[],
    _now: number,
  ): Promise<boolean> {
    return parseAnswer(
      parseRecorded,
      await this.call('POST', `/files/${encodeURIComponent(fileId)}/variants`, { variants }),
    );
  }

  async queueBlobDeletes(locations: BlobLocation[], _now: number): Promise<void> {
    if (locations.length > 0) await this.call('POST', '/blob-deletes', { locations });
  }

  async markFailed(fileId: string, reason: string): Promise<void> {
    await this.call('POST', `/files/${encodeURIComponent(fileId)}/failed`, {
      reason: reason.slice(0, MAX_REASON_LENGTH),
    });
  }

  async listNodes(): Promise<NodeRecord[]> {
    return parseAnswer(parseNodeList, await this.call('GET', '/nodes'));
  }

  /** The gateway unwraps the key: a worker on another host needs no master key (only the cluster secret, and TLS). */
  async dataKey(fileId: string): Promise<Buffer | undefined> {
    return parseAnswer(parseDataKey, await this.call('GET', `/files/${encodeURIComponent(fileId)}/key`));
  }

  async reap(fileId: string): Promise<void> {
    await this.call('POST', `/files/${encodeURIComponent(fileId)}/reap`);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: this.auth };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.pool
      .request({
        method,
        path: `${this.base}${WORKER_API}${path}`,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        const hint =
          tlsFailure(error)?.kind === 'untrusted'
            ? ' (its TLS certificate is not signed by the CA given with --ca)'
            : '';
        throw new LegimError('UNAVAILABLE', `the gateway at ${this.url} is unreachable${hint}: ${reason}`, {
          cause: error,
        });
      });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.statusCode >= 300) throw errorFromResponse(res.statusCode, json);
    return json;
  }

  private explainStartFailure(error: unknown): unknown {
    if (!LegimError.is(error)) return error;
    const fix = (code: 'UNAUTHORIZED' | 'UNAVAILABLE' | 'NOT_FOUND', message: string) =>
      new LegimError(code, message, { cause: error, statusCode: error.statusCode });
    switch (error.code) {
      case 'UNAUTHORIZED':
      case 'FORBIDDEN':
        return fix(
          'UNAUTHORIZED',
          `the gateway at ${this.url} refused the cluster secret: pass the one in the gateway's identity.json ` +
            'with --secret or LEGIM_CLUSTER_SECRET',
        );
      case 'NOT_FOUND':
      case 'METHOD_NOT_ALLOWED':
        return fix(
          'NOT_FOUND',
          `${this.url} has no internal worker API: point --gateway at a Legim gateway of this version`,
        );
      case 'UNAVAILABLE':
        return fix('UNAVAILABLE', `${error.message}; check --gateway and that the gateway is running`);
      default:
        return error;
    }
  }
}

/** A malformed answer is the gateway's fault, not the worker's request: it must not read as BAD_REQUEST. */
function parseAnswer<T>(parse: (body: unknown) => T, body: unknown): T {
  try {
    return parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LegimError('INTERNAL', `the gateway's answer was malformed: ${reason}`, { cause: error });
  }
}
