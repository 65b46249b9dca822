import type { ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { DownloadCounter } from '../backends/download-counter/download-counter.js';
import type { BlobRead } from '../backends/blob-transport/blob-transport.js';
import type { CachedFile, MetadataCache } from '../backends/metadata-cache/metadata-cache.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { GatewayConfig } from '../config.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import { deleted, exhausted, expired, findServableFile, goneOrMissing } from './file-lookup.js';
import { downloadHeaders } from './download-headers.js';

export interface DownloadServiceDeps {
  config: GatewayConfig;
  metadata: MetadataStore;
  counter: DownloadCounter;
  cache: MetadataCache;
  registry: NodeRegistry;
  health: HealthMonitor;
}

/**
 * Serves originals: takes one download atomically, then streams from the
 * best replica, moving to the next one (resuming at the same byte) if a
 * replica fails. A download the server could not deliver is given back.
 */
export class DownloadService {
  constructor(private readonly deps: DownloadServiceDeps) {}

  async head(id: string, res: ServerResponse): Promise<void> {
    const file = await findServableFile(this.deps.metadata, id, Date.now());
    res.writeHead(200, downloadHeaders(file, file.downloadsLeft));
    res.end();
  }

  async download(id: string, res: ServerResponse): Promise<void> {
    const { counter, config, cache } = this.deps;
    const now = Date.now();
    const { file, replicaNodeIds } = await this.hotMetadata(id, now);
    const taken = await counter.take(file.id, now, config.deleteGraceMs);
    if (!taken.ok) {
      cache.invalidate(file.id);
      throw await this.refusal(taken.reason, file);
    }
    try {
      await this.stream(file, replicaNodeIds, taken.downloadsLeft, res);
    } finally {
      // Nothing reached the client (no replica could serve, or it left first): the download was not used.
      if (!res.headersSent) await counter.refund(file.id);
    }
  }

  /** The file and its replicas, from the cache when possible: a download then costs one counter operation. */
  private async hotMetadata(id: string, now: number): Promise<CachedFile> {
    const cached = this.deps.cache.get(id);
    if (cached) return cached;
    const file = await findServableFile(this.deps.metadata, id, now);
    const entry = { file, replicaNodeIds: await this.deps.metadata.replicaNodes(file.id) };
    this.deps.cache.set(file.id, entry);
    return entry;
  }

  private async refusal(
    reason: 'missing' | 'exhausted' | 'expired' | 'deleted',
    file: FileRecord,
  ): Promise<LegimError> {
    if (reason === 'expired') return expired();
    if (reason === 'deleted') return deleted();
    if (reason === 'exhausted') return exhausted(file.maxDownloads);
    return goneOrMissing(this.deps.metadata, file.id);
  }

  /** Returns the bytes sent; throws only if nothing could be sent at all. */
  private async stream(
    file: FileRecord,
    replicaNodeIds: string[],
    downloadsLeft: number,
    res: ServerResponse,
  ): Promise<number> {
    let sent = 0;
    let lastError: unknown;
    for (const node of this.candidates(replicaNodeIds)) {
      if (res.destroyed) return sent;
      let read: BlobRead;
      try {
        read = await node.transport.read(file.id, sent > 0 ? { start: sent } : undefined);
        if (read.size !== file.size)
          throw new Error(`replica on ${node.id} has ${read.size} bytes, expected ${file.size}`);
      } catch (error) {
        lastError = error;
        this.deps.health.reportFailure(node);
        continue;
      }
      if (!res.headersSent) res.writeHead(200, downloadHeaders(file, downloadsLeft));
      try {
        sent = await pump(read, res, sent);
        if (sent === file.size || res.destroyed) break;
      } catch (error) {
        sent = (error as { sent?: number }).sent ?? sent;
        lastError = error;
        this.deps.health.reportFailure(node);
      }
    }
    if (sent === file.size) {
      res.end();
      return sent;
    }
    if (res.headersSent) {
      // Every replica failed mid-transfer: a short body must not look complete.
      res.destroy();
      return sent;
    }
    throw new LegimError(
      'UNAVAILABLE',
      'no replica of this file can be read right now; your download was not used, retry shortly',
      {
        cause: lastError,
        details: { retryAfter: 5 },
      },
    );
  }

  /** Replicas in the order to try: up before suspect before down, then by latency. */
  private candidates(replicaNodeIds: string[]): ClusterNode[] {
    const rank = { up: 0, suspect: 1, down: 2 } as const;
    return replicaNodeIds
      .map((id) => this.deps.registry.get(id))
      .filter((node): node is ClusterNode => node !== undefined)
      .sort((a, b) => rank[a.status] - rank[b.status] || (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity));
  }
}

/** Copies a replica's stream to the client; returns the new byte offset. */
async function pump(read: BlobRead, res: ServerResponse, offset: number): Promise<number> {
  let sent = offset;
  try {
    for await (const chunk of read.stream as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      sent += chunk.length;
      if (!res.write(chunk)) await drained(res);
    }
  } catch (error) {
    throw Object.assign(error as Error, { sent });
  } finally {
    read.stream.destroy();
  }
  return sent;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
