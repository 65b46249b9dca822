import type { ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { DownloadCounter } from '../backends/download-counter/download-counter.js';
import type { CachedFile, MetadataCache } from '../backends/metadata-cache/metadata-cache.js';
import type { GatewayConfig } from '../config.js';
import type { JobQueue } from '../jobs/index.js';
import type { ReplicaReader } from './replica-reader.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import { deleted, exhausted, expired, findServableFile, goneOrMissing } from './file-lookup.js';
import { downloadHeaders } from './download-headers.js';

export interface DownloadServiceDeps {
  config: GatewayConfig;
  metadata: MetadataStore;
  counter: DownloadCounter;
  cache: MetadataCache;
  reader: ReplicaReader;
  jobs: JobQueue;
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
    if (taken.downloadsLeft === 0) this.scheduleDeletion(file.id, now + config.deleteGraceMs);
    try {
      const headers = downloadHeaders(file, taken.downloadsLeft);
      await this.deps.reader.serve({ key: file.id, size: file.size, nodeIds: replicaNodeIds, headers }, res);
    } finally {
      // Nothing reached the client (no replica could serve, or it left first): the download was not used.
      if (!res.headersSent) await counter.refund(file.id);
    }
  }

  /** The last download was taken: the file goes once transfers in flight had their grace period. */
  private scheduleDeletion(fileId: string, at: number): void {
    this.deps.jobs
      .enqueue({ type: 'delete', fileId, runAt: at, dedupeKey: `delete:${fileId}` })
      .catch((error: unknown) => {
        // The deletion time is in the index already; the sweeper removes the file even without this job.
        console.error(`legim: queueing the deletion of ${fileId} failed:`, (error as Error).message);
      });
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
}
