import type { Logger } from '@legim/node';
import { LegimError } from '@legim/sdk';
import type { DownloadCounter, RefusalReason } from '../backends/download-counter/download-counter.js';
import type { CachedFile, MetadataCache } from '../backends/metadata-cache/metadata-cache.js';
import type { GatewayConfig } from '../config.js';
import type { JobQueue } from '../jobs/index.js';
import type { DownloadCheckpoints } from './download-checkpoints.js';
import type { FileBlobReader } from './file-blob-reader.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import { deleted, exhausted, expired, findLiveFile, findServableFile, goneOrMissing } from './file-lookup.js';
import type { ResumeTokens } from './resume-tokens.js';
import type { ResumeCredits } from './resume-credits.js';
import { requestedRange } from './byte-range.js';
import { downloadHeaders, entityTag, partialHeaders } from './download-headers.js';
import type { BlobAnswer, HeadAnswer } from './blob-answer.js';
import type { EmitEvent } from '../events/gateway-events.js';

export interface DownloadServiceDeps {
  config: GatewayConfig;
  metadata: MetadataStore;
  counter: DownloadCounter;
  cache: MetadataCache;
  reader: FileBlobReader;
  checkpoints: DownloadCheckpoints;
  jobs: JobQueue;
  resumeTokens: ResumeTokens;
  resumeCredits: ResumeCredits;
  emit?: EmitEvent;
  logger: Logger;
}

/** What a download request carries besides the file id. */
export interface DownloadRequest {
  /** `Range`: one byte range is honoured (206); several, or another unit, are ignored. */
  range: string | undefined;
  /** `If-Range`: the Range holds only if it is this file's entity tag. */
  ifRange: string | undefined;
  /** `Legim-Resume`, from the answer that took the download. */
  token: string | undefined;
  /** The client's address as the gateway sees it (`--trusted-proxy` applied): whose resume credits apply. */
  client: string;
}

/**
 * Serves originals: takes one download atomically, then streams from the
 * best replica, moving to the next one (resuming at the same byte) if a
 * replica fails. A download the server could not deliver is given back.
 */
export class DownloadService {
  constructor(private readonly deps: DownloadServiceDeps) {}

  async head(id: string): Promise<HeadAnswer> {
    const file = await findServableFile(this.deps.metadata, id, Date.now());
    return { status: 200, headers: downloadHeaders(file, file.downloadsLeft) };
  }

  /**
   * Takes no download for the rest of one taken earlier: with a resume
   * token and `Range: bytes=N-`, or with a `Range` from a client holding a
   * resume credit (its download of this file was cut). Otherwise takes one,
   * and sends the range asked for (206) or the whole file.
   */
  async download(id: string, request: DownloadRequest): Promise<BlobAnswer> {
    if (request.token !== undefined && request.range !== undefined) {
      return this.resume(id, request.token, request.range);
    }
    if (request.range !== undefined) {
      const resumed = await this.resumeWithCredit(id, request);
      if (resumed) return resumed;
    }
    return this.take(id, request);
  }

  private async take(id: string, request: DownloadRequest): Promise<BlobAnswer> {
    const { counter, config, resumeTokens } = this.deps;
    const now = Date.now();
    const { file, replicaNodeIds } = await this.hotMetadata(id, now);
    // Before the download is taken: a range past the end takes none.
    const range = requestedRange(request, file.size, { etag: entityTag(file) });
    const taken = await counter.take(file.id, now, config.deleteGraceMs);
    if (!taken.ok) throw await this.refusal(taken.reason, file);
    // Nothing reached the client (no replica could be read, or it left first): the download was not used.
    const giveBack = () => counter.refund(file.id);
    try {
      // Before any byte: the nodes must know this download was taken, or a rebuilt index could serve it again.
      await this.deps.checkpoints.ensure(file, file.maxDownloads - taken.downloadsLeft);
    } catch (error) {
      await giveBack();
      throw error;
    }
    if (taken.downloadsLeft === 0) this.scheduleDeletion(file.id, now + config.deleteGraceMs);
    const blob = await this.deps.reader.openOriginal(file, replicaNodeIds, range).catch(async (error: unknown) => {
      await giveBack();
      throw error;
    });
    return {
      status: range ? 206 : 200,
      headers: {
        ...downloadHeaders(file, taken.downloadsLeft),
        ...(range && partialHeaders(range, file.size)),
        'Legim-Resume': resumeTokens.issue(file, now),
      },
      stream: {
        chunks: blob.chunks,
        abandoned: async () => {
          blob.close();
          await giveBack();
        },
        sent: (bytes) =>
          this.deps.emit?.({ type: 'file.downloaded', fileId: file.id, downloadsLeft: taken.downloadsLeft, bytes }),
        cut: () => this.deps.resumeCredits.leave(file.id, request.client),
      },
    };
  }

  /**
   * The range asked for, without a download, when this client holds a
   * resume credit on the file (even used up, during its delete grace);
   * undefined when it holds none, or the Range does not hold (`If-Range`).
   * A resumed answer cut again leaves a new credit for its rest.
   */
  private async resumeWithCredit(id: string, request: DownloadRequest): Promise<BlobAnswer | undefined> {
    const { metadata, resumeCredits } = this.deps;
    const file = await findLiveFile(metadata, id, Date.now());
    const range = requestedRange(request, file.size, { etag: entityTag(file) });
    if (!range || !(await resumeCredits.spend(file.id, request.client))) return undefined;
    const giveBack = () => resumeCredits.leave(file.id, request.client);
    const nodeIds = await metadata.replicaNodes(file.id);
    const blob = await this.deps.reader.openOriginal(file, nodeIds, range).catch((error: unknown) => {
      giveBack();
      throw error;
    });
    return {
      status: 206,
      headers: { ...downloadHeaders(file, file.downloadsLeft), ...partialHeaders(range, file.size) },
      stream: {
        chunks: blob.chunks,
        abandoned: async () => {
          blob.close();
          giveBack();
        },
        cut: giveBack,
      },
    };
  }

  private async resume(id: string, token: string, range: string): Promise<BlobAnswer> {
    const now = Date.now();
    const file = await findLiveFile(this.deps.metadata, id, now);
    if (!this.deps.resumeTokens.isValid(token, file, now)) {
      throw new LegimError('FORBIDDEN', 'this resume token is not for this file, or its window has passed');
    }
    const start = resumeStart(range, file.size);
    const nodeIds = await this.deps.metadata.replicaNodes(file.id);
    const blob = await this.deps.reader.openOriginal(file, nodeIds, { start });
    return {
      status: 206,
      headers: {
        ...downloadHeaders(file, file.downloadsLeft),
        ...partialHeaders({ start, end: file.size - 1 }, file.size),
      },
      stream: { chunks: blob.chunks, abandoned: async () => blob.close() },
    };
  }

  /** The last download was taken: the file goes once transfers in flight had their grace period. */
  private scheduleDeletion(fileId: string, at: number): void {
    this.deps.jobs
      .enqueue({ type: 'delete', fileId, runAt: at, dedupeKey: `delete:${fileId}` })
      .catch((error: unknown) => {
        // The deletion time is in the index already; the sweeper removes the file even without this job.
        this.deps.logger.warn({ fileId }, `queueing the deletion of ${fileId} failed: ${(error as Error).message}`);
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

  private async refusal(reason: RefusalReason, file: FileRecord): Promise<LegimError> {
    if (reason === 'expired') return expired();
    if (reason === 'deleted') return deleted();
    if (reason === 'exhausted') return exhausted(file.maxDownloads);
    return goneOrMissing(this.deps.metadata, file.id);
  }
}

/** The first byte of `bytes=N-`, which must lie inside the file. */
function resumeStart(range: string, size: number): number {
  const match = /^bytes=(\d{1,15})-$/.exec(range.trim());
  if (!match) throw new LegimError('BAD_REQUEST', 'a resumed download takes a Range of the form bytes=<first byte>-');
  const start = Number(match[1]);
  if (start >= size) {
    throw new LegimError('RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`, { details: { size } });
  }
  return start;
}
