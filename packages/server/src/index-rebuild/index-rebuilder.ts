import type { Logger } from '@legim/node';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LegimError } from '@legim/sdk';
import type { BlobSidecar, BlobTombstone } from '@legim/node';
import type { LockService } from '../backends/locks/lock-service.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { JobQueue } from '../jobs/index.js';
import type {
  BlobLocation,
  DeleteReason,
  FileRecord,
  MetadataStore,
  RestoredFile,
  VariantRecord,
} from '../metadata/types.js';
import {
  isSealedMeta,
  isVariantMeta,
  parseBlobMeta,
  type BlobMeta,
  type OriginalMeta,
  type VariantMeta,
} from '../replication/blob-meta.js';
import { MergedListing, type KeyedEntries } from './merged-listing.js';
import { idleProgress, REPORTED_KEYS, type RebuildProgress } from './rebuild-progress.js';
import { TombstoneLookup } from './tombstone-lookup.js';

/** Blobs per sidecar listing request to each node (the node's maximum: each page walks every shard folder). */
const SIDECAR_PAGE = 5000;
/** Tombstones per listing request (the node's maximum). */
const TOMBSTONE_PAGE = 1000;
/**
 * Files recorded per transaction: one commit for many files (a commit per
 * file was most of the rebuild's time), and a short enough write lock that
 * uploads beside it barely wait. The loop yields between batches (SQLite
 * answers synchronously).
 */
const BATCH = 100;
/** One rebuild at a time for every gateway sharing the index. */
const LOCK = 'index:rebuild';

/** The copies of one blob that agree, with the meta they carry. */
interface AgreedCopies<M extends BlobMeta> {
  meta: M;
  size: number;
  sha256: string;
  nodeIds: string[];
}

interface FileGroup {
  fileId: string;
  blobs: KeyedEntries<BlobSidecar>[];
}

/**
 * Rebuilds the gateway's index from the storage nodes' sidecars, while the
 * cluster keeps serving. Every node's listing (with sidecars, in key order)
 * and tombstones are merged page by page, so memory stays flat; the copies of
 * one file (its original and its variants: adjacent keys) are looked at
 * together and restored in one transaction that never overwrites what the
 * index has, which makes a rebuild idempotent and safe beside uploads.
 *
 * The rules: a file with a tombstone on any node, past its expiry, or whose
 * download checkpoint reached its limit stays gone (its copies are queued for
 * deletion); any other gets `downloadsLeft = max − highest checkpoint` (see
 * `DownloadCheckpoints`); blobs without valid meta and variants without an
 * original are orphans, reported, never recorded. An encrypted file cannot
 * come back: its key lived only in the index (which is what makes deleting
 * the key destroy every copy), so such a file missing from the index is
 * reported as unrecoverable, never restored as unreadable bytes.
 */
export class IndexRebuilder {
  private progress: RebuildProgress = idleProgress();
  /** Files judged restorable, recorded together by `flush`. */
  private batch: RestoredFile[] = [];
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly locks: LockService,
    private readonly jobs: Pick<JobQueue, 'enqueue'>,
    private readonly logger: Logger,
  ) {}

  /** Where the latest rebuild of this gateway stands. */
  status(): RebuildProgress {
    const progress = structuredClone(this.progress);
    if (progress.startedAt !== null) {
      const end = progress.finishedAt === null ? Date.now() : Date.parse(progress.finishedAt);
      const seconds = Math.max(0.001, (end - Date.parse(progress.startedAt)) / 1000);
      const files = progress.filesRestored + Object.values(progress.skipped).reduce((sum, n) => sum + n, 0);
      progress.filesPerSecond = Math.round(files / seconds);
    }
    return progress;
  }

  /**
   * Starts a rebuild in the background and resolves with its first progress
   * once it holds the lock; `REBUILD_RUNNING` if one runs on any gateway of
   * this index. `done()` resolves when it ends.
   */
  async start(): Promise<RebuildProgress> {
    if (this.running) throw rebuildRunning();
    if (this.stopping.signal.aborted) throw new LegimError('UNAVAILABLE', 'the gateway is stopping');
    if (this.registry.all().length === 0) {
      throw new LegimError('UNAVAILABLE', 'no storage node has joined this gateway yet; retry once they have', {
        details: { retryAfter: 2 },
      });
    }
    let started = false;
    let announce!: () => void;
    let refuse!: (error: unknown) => void;
    const holding = new Promise<void>((resolve, reject) => {
      announce = resolve;
      refuse = reject;
    });
    this.running = this.locks
      .withLock(LOCK, { waitMs: 0 }, async (signal) => {
        started = true;
        this.progress = { ...idleProgress(), state: 'running', startedAt: new Date().toISOString() };
        announce();
        await this.rebuild(signal);
        this.finish('done');
      })
      .catch((error: unknown) => {
        if (!started) return refuse(LegimError.is(error) && error.code === 'LOCK_BUSY' ? rebuildRunning() : error);
        this.progress.lastError = (error as Error).message;
        this.finish('failed');
        this.logger.error({ err: error }, 'the index rebuild failed');
      })
      .finally(() => {
        this.running = undefined;
      });
    await holding;
    return this.status();
  }

  /** Resolves once the rebuild running in this gateway (if any) has ended. */
  async done(): Promise<void> {
    await this.running;
  }

  /** The gateway is closing: a running rebuild stops between two files (it is idempotent: run it again). */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the gateway stopped during the rebuild; run it again'));
    await this.running;
  }

  private finish(state: 'done' | 'failed'): void {
    this.progress.state = state;
    this.progress.finishedAt = new Date().toISOString();
  }

  private async rebuild(signal: AbortSignal): Promise<void> {
    const all = this.registry.all();
    const nodes = all.filter((node) => node.status !== 'down');
    this.progress.nodes = {
      total: all.length,
      scanned: 0,
      unreachable: all.filter((node) => node.status === 'down').map((node) => node.id),
    };
    const blobs = new MergedListing<BlobSidecar>(
      nodes.map((node) => async (after) => {
        const page = await node.transport.listSidecars(after, SIDECAR_PAGE);
        return { items: page.blobs, next: page.next };
      }),
      () => this.progress.nodes.scanned++,
    );
    const tombstones = new TombstoneLookup(
      new MergedListing<BlobTombstone>(
        nodes.map((node) => async (after) => {
          const page = await node.transport.listTombstones(after, TOMBSTONE_PAGE);
          return { items: page.tombstones, next: page.next };
        }),
      ).keys(),
    );
    this.batch = [];
    let group: FileGroup | undefined;
    for await (const blob of blobs.keys()) {
      signal.throwIfAborted();
      this.stopping.signal.throwIfAborted();
      this.progress.blobsSeen += blob.entries.length;
      const [fileId = blob.key] = blob.key.split('.', 1);
      if (group && group.fileId !== fileId) {
        await this.restoreGroup(group, nodes, tombstones);
        if (this.batch.length >= BATCH) {
          await this.flush();
          await yieldToEventLoop();
        }
        group = undefined;
      }
      group ??= { fileId, blobs: [] };
      group.blobs.push(blob);
    }
    if (group) await this.restoreGroup(group, nodes, tombstones);
    await this.flush();
  }

  /** Records the batch of restorable files in one transaction, and queues the previews of those without. */
  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const outcomes = await this.metadata.restoreFiles(batch, Date.now());
    for (const [i, outcome] of outcomes.entries()) {
      const { file, variants } = batch[i]!;
      if (outcome === 'present') this.progress.skipped.alreadyIndexed++;
      else if (outcome === 'deleted') this.progress.skipped.deleted++;
      else if (outcome === 'in-flight') this.progress.skipped.inFlight++;
      else {
        this.progress.filesRestored++;
        this.progress.variantsRestored += variants.length;
        // No expire job: the deletion sweep reaps every file whose expiry has passed, job or no job.
        if (file.status === 'processing') {
          await this.jobs.enqueue({ type: 'process', fileId: file.id, dedupeKey: `process:${file.id}` });
        }
      }
    }
  }

  /** One file: its original's copies (if any) and its variants'. */
  private async restoreGroup(group: FileGroup, nodes: ClusterNode[], tombstones: TombstoneLookup): Promise<void> {
    const { fileId } = group;
    const now = Date.now();
    if (group.blobs.some((blob) => blob.entries.some((entry) => isSealed(blob.key, entry.item.meta)))) {
      return this.judgeSealed(fileId);
    }
    const originalBlob = group.blobs.find((blob) => blob.key === fileId);
    const original = originalBlob && this.agreedCopies(originalBlob, nodes, (meta) => !isVariantMeta(meta));
    if (!original) {
      // Variants (or junk) with no valid original anywhere: fine if the index has the file or its
      // tombstone (the original's deletion went first), orphans otherwise.
      if (await this.metadata.getFile(fileId)) this.progress.skipped.alreadyIndexed++;
      else if (await this.metadata.getTombstone(fileId)) this.progress.skipped.deleted++;
      else for (const blob of group.blobs) this.reportOrphan(blob.key);
      return;
    }
    const meta = original.meta as OriginalMeta;
    const locations: BlobLocation[] = group.blobs.flatMap((blob) =>
      blob.entries.map((entry) => ({ nodeId: nodes[entry.source]!.id, key: blob.key })),
    );
    const checkpoint = Math.max(0, ...originalBlob.entries.map((entry) => entry.item.downloadsTaken ?? 0));
    const deletedAt = await tombstones.latestDelete(fileId);
    if (deletedAt !== undefined) return this.keepGone(fileId, 'deleted', deletedAt, locations);
    if (meta.expiresAt <= now) return this.keepGone(fileId, 'expired', meta.expiresAt, locations);
    if (checkpoint >= meta.maxDownloads) return this.keepGone(fileId, 'exhausted', now, locations);

    const variants: { variant: VariantRecord; nodeIds: string[] }[] = [];
    for (const blob of group.blobs) {
      if (blob === originalBlob) continue;
      const copies = this.agreedCopies(blob, nodes, isVariantMeta);
      if (!copies) {
        this.reportOrphan(blob.key);
        continue;
      }
      const { variant } = copies.meta as VariantMeta;
      variants.push({ variant: { ...variant, size: copies.size, sha256: copies.sha256 }, nodeIds: copies.nodeIds });
    }
    const file: FileRecord = {
      id: fileId,
      title: meta.title,
      size: original.size,
      contentType: meta.contentType,
      extension: meta.extension,
      width: meta.width,
      height: meta.height,
      sha256: original.sha256,
      maxDownloads: meta.maxDownloads,
      downloadsLeft: meta.maxDownloads - checkpoint,
      createdAt: meta.createdAt,
      expiresAt: meta.expiresAt,
      deleteAt: null,
      deleteReason: null,
      deleteTokenHash: meta.deleteTokenHash,
      status: variants.length > 0 ? 'ready' : 'processing',
      statusReason: null,
      replicasWanted: meta.replicasWanted,
      keyId: meta.keyId ?? null,
    };
    this.batch.push({ file, nodeIds: original.nodeIds, variants });
  }

  /** An encrypted file: fine if the index has it or its tombstone; otherwise it is lost with its key. */
  private async judgeSealed(fileId: string): Promise<void> {
    if (await this.metadata.getFile(fileId)) this.progress.skipped.alreadyIndexed++;
    else if (await this.metadata.getTombstone(fileId)) this.progress.skipped.deleted++;
    else {
      this.progress.unrecoverable.count++;
      report(this.progress.unrecoverable.keys, fileId);
    }
  }

  /** A file that must not come back: a tombstone in the index, and its copies queued for deletion. */
  private async keepGone(
    fileId: string,
    reason: DeleteReason,
    deletedAt: number,
    locations: BlobLocation[],
  ): Promise<void> {
    if (await this.metadata.restoreTombstone({ id: fileId, reason, deletedAt }, locations)) {
      this.progress.skipped[reason === 'deleted' ? 'deleted' : reason]++;
    } else this.progress.skipped.alreadyIndexed++;
  }

  /**
   * The copies of one blob that agree on size and digest (the largest such
   * set with valid meta of the expected kind); the others are reported as
   * mismatches. Undefined when no copy carries valid meta.
   */
  private agreedCopies(
    blob: KeyedEntries<BlobSidecar>,
    nodes: ClusterNode[],
    isExpectedKind: (meta: BlobMeta) => boolean,
  ): AgreedCopies<BlobMeta> | undefined {
    const candidates = new Map<string, AgreedCopies<BlobMeta>>();
    for (const { source, item } of blob.entries) {
      const meta = parseBlobMeta(blob.key, item.meta);
      if (!meta || !isExpectedKind(meta)) continue;
      const version = `${item.size}:${item.sha256}`;
      const copies = candidates.get(version) ?? { meta, size: item.size, sha256: item.sha256, nodeIds: [] };
      copies.nodeIds.push(nodes[source]!.id);
      candidates.set(version, copies);
    }
    const agreed = [...candidates.values()].sort((a, b) => b.nodeIds.length - a.nodeIds.length)[0];
    if (!agreed) return undefined;
    for (const { source, item } of blob.entries) {
      if (item.sha256 !== agreed.sha256 || item.size !== agreed.size) {
        this.progress.mismatches.count++;
        report(this.progress.mismatches.keys, `${blob.key}@${nodes[source]!.id}`);
      }
    }
    return agreed;
  }

  private reportOrphan(key: string): void {
    this.progress.orphans.count++;
    report(this.progress.orphans.keys, key);
  }
}

function report(keys: string[], key: string): void {
  if (keys.length < REPORTED_KEYS) keys.push(key);
}

function isSealed(key: string, meta: unknown): boolean {
  const parsed = parseBlobMeta(key, meta);
  return parsed !== undefined && isSealedMeta(parsed);
}

function rebuildRunning(): LegimError {
  return new LegimError('REBUILD_RUNNING', 'an index rebuild is already running; follow it with GET /v1/index/rebuild');
}
