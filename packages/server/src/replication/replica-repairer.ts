import type { Logger } from '@legim/node';
import { pipeline } from 'node:stream/promises';
import { LegimError } from '@legim/sdk';
import type { LockService } from '../backends/locks/lock-service.js';
import { PeriodicTask } from '../background/periodic-task.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { EmitEvent } from '../events/gateway-events.js';
import type { MetadataStore, ReplicaState, StoredBlob } from '../metadata/types.js';
import type { PlaceOptions, ReplicaPlacer } from '../placement/replica-placer.js';
import { originalMeta, parseBlobMeta, sealedMeta, variantMeta, type BlobMeta } from './blob-meta.js';

const BATCH = 50;
/** Blob keys checked per pass by the walk over every blob (the backstop for whatever nothing reported). */
const WALK_PAGE = 1000;
/** Blob keys read at a time from a leaving node's list, and pages of it per pass. */
const LEAVING_PAGE = 200;
const LEAVING_PAGES_PER_PASS = 10;
/** A copy still pending after this long is checked on its node. */
const PENDING_GRACE_MS = 60_000;
/** How long a repair copy may take before it is presumed orphaned. */
const INTENT_MS = 3600_000;

export interface RepairOptions {
  intervalMs: number;
  /** A node down this long is lost: its copies are made again elsewhere, then forgotten there. */
  lostAfterMs: number;
  /** Where each copy made is reported (the gateway's events). */
  emit?: EmitEvent;
  logger: Logger;
}

/**
 * Nodes whose copies no longer count: lost ones (down too long) and draining
 * ones. A draining node is up, so its copies can still be read from.
 */
type Leaving = ReadonlySet<string>;

/**
 * Keeps every blob of every file (the original and its variants) at its
 * wanted number of copies, copying from a healthy replica to new nodes.
 * Each pass looks at the files reported short of copies (an upload that
 * answered with fewer), then at every blob on a leaving node (lost: down
 * longer than `lostAfterMs`, or draining), then at one page of a walk over
 * all blobs, which catches whatever nobody reported. Copies on a leaving node
 * are forgotten (and deleted from it) only once the blob has its full count
 * elsewhere, so a repair never leaves a blob with fewer copies than it had.
 * Each query reads a page, so no pass holds the event loop for long.
 */
export class ReplicaRepairer {
  private readonly task: PeriodicTask;
  private readonly reported = new Set<string>();
  private walkedTo = '';
  private readonly leavingCursors = new Map<string, string>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly placer: ReplicaPlacer,
    private readonly locks: LockService,
    private readonly options: RepairOptions,
  ) {
    this.task = new PeriodicTask('replica repair', () => this.repairAll(), options.intervalMs, options.logger);
  }

  start(): void {
    this.task.start();
  }

  /** Runs a pass soon (at start: whatever went missing while the gateway was down). */
  wake(): void {
    this.task.wake();
  }

  /** A file has fewer copies than wanted (an upload answered with fewer): repaired on the next pass, soon. */
  check(fileId: string): void {
    this.reported.add(fileId);
    this.task.wake();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  private async repairAll(): Promise<void> {
    await this.settleStalePending();
    const leaving: Leaving = new Set([
      ...this.registry.lost(this.options.lostAfterMs, Date.now()),
      ...this.registry.draining().map((node) => node.id),
    ]);
    const fileIds = [...this.reported];
    this.reported.clear();
    for (const fileId of fileIds) await this.repairKeys(await this.metadata.blobKeysOfFile(fileId), leaving);
    await this.moveOffLeavingNodes(leaving);
    const page = await this.metadata.walkBlobs(this.walkedTo, WALK_PAGE);
    this.walkedTo = page.lastKey ?? '';
    await this.repairKeys(page.short, leaving);
  }

  /** A few pages of each leaving node's blobs per pass, resuming where the last pass stopped. */
  private async moveOffLeavingNodes(leaving: Leaving): Promise<void> {
    for (const nodeId of this.leavingCursors.keys()) if (!leaving.has(nodeId)) this.leavingCursors.delete(nodeId);
    for (const nodeId of leaving) {
      for (let page = 0; page < LEAVING_PAGES_PER_PASS; page++) {
        const after = this.leavingCursors.get(nodeId) ?? '';
        const keys = await this.metadata.blobKeysOnNode(nodeId, after, LEAVING_PAGE);
        this.leavingCursors.set(nodeId, keys.length < LEAVING_PAGE ? '' : keys.at(-1)!);
        await this.repairKeys(keys, leaving);
        // SQLite answers synchronously: let requests in between pages.
        await new Promise((resolve) => setImmediate(resolve));
        if (keys.length < LEAVING_PAGE) break;
      }
    }
  }

  private async repairKeys(keys: string[], leaving: Leaving): Promise<void> {
    for (const blob of await this.metadata.storedBlobs(keys, Date.now())) {
      if (!needsRepair(blob, leaving)) continue;
      // Another gateway repairing or purging the same file would race this one
      // for the same target node; whoever holds the lock does it, the others skip.
      await this.locks
        .withLock(`file:${blob.file.id}`, { waitMs: 0 }, () => this.repair(blob.key, leaving))
        .catch((error) => {
          if (!LegimError.is(error) || error.code !== 'LOCK_BUSY') throw error;
        });
    }
  }

  /**
   * Copies still "pending" long after their upload (the gateway stopped
   * before it heard back) are checked on their node: confirmed if the node
   * has the right bytes, forgotten (and removed) otherwise.
   */
  private async settleStalePending(): Promise<void> {
    const now = Date.now();
    for (const { file, nodeId } of await this.metadata.stalePendingReplicas(now - PENDING_GRACE_MS, BATCH)) {
      const node = this.registry.get(nodeId);
      if (node?.status !== 'up') continue;
      const blob = await node.transport.stat(file.id).catch(() => 'unknown' as const);
      if (blob === 'unknown') continue;
      if (blob?.sha256 === (file.sealed ?? file).sha256) await this.metadata.addReplica(file.id, file.id, nodeId, now);
      else await this.metadata.dropReplica(file.id, nodeId, now);
    }
  }

  private async repair(key: string, leaving: Leaving): Promise<void> {
    // Read again under the lock: another gateway may have repaired or purged the file since.
    const [blob] = await this.metadata.storedBlobs([key], Date.now());
    if (!blob) return;
    const kept = blob.copies.filter((copy) => !leaving.has(copy.nodeId));
    const missing = blob.file.replicasWanted - kept.length;
    const source = this.sourceOf(blob);
    if (missing > 0 && source) {
      for (const target of this.placer.place(key, blob.size, missing, this.placement(blob, kept))) {
        if (await this.copy(blob, source, target)) kept.push({ nodeId: target.id, durable: true });
      }
    }
    // Only a blob back at full strength elsewhere lets go of its copies on leaving nodes.
    if (kept.filter((copy) => copy.durable).length < blob.file.replicasWanted) return;
    for (const copy of blob.copies) {
      if (leaving.has(copy.nodeId)) await this.metadata.dropReplica(key, copy.nodeId, Date.now());
    }
  }

  /** The up node to copy from: a durable copy, on a draining node only if no other has one. */
  private sourceOf(blob: StoredBlob): ClusterNode | undefined {
    const durable = blob.copies.filter((copy) => copy.durable).map((copy) => copy.nodeId);
    const up = this.registry.readOrder(durable).filter((node) => node.status === 'up');
    return up.find((node) => node.membership === 'active') ?? up[0];
  }

  /**
   * Where new copies go: not on a node that holds one (a lost node that
   * returns still holds its copy until it is forgotten), in failure domains
   * the kept copies are not in, and under the leaving node's parent first,
   * so a drained node's blobs flow back into its branch of the tree.
   */
  private placement(blob: StoredBlob, kept: ReplicaState[]): PlaceOptions {
    const domainOf = (nodeId: string) => {
      const node = this.registry.get(nodeId);
      return node && this.registry.domainOf(node);
    };
    const leavingCopy = blob.copies.find((copy) => !kept.includes(copy));
    return {
      exclude: new Set(blob.copies.map((copy) => copy.nodeId)),
      takenDomains: new Set(kept.map((copy) => domainOf(copy.nodeId)).filter((domain) => domain !== undefined)),
      preferDomain: leavingCopy && domainOf(leavingCopy.nodeId),
    };
  }

  /** One copy to a new node; true once it is recorded. */
  private async copy(blob: StoredBlob, from: ClusterNode, to: ClusterNode): Promise<boolean> {
    const { file, key } = blob;
    // The intent removes the copy again should the gateway stop before recording it.
    await this.metadata.recordUploadIntent(key, [to.id], Date.now() + INTENT_MS);
    try {
      await this.copyBlob(blob, from, to);
      const recorded = await this.metadata.addReplica(file.id, key, to.id, Date.now());
      // The file was deleted while we copied: the new copy must not linger.
      if (!recorded) await this.metadata.queueBlobDeletes([{ nodeId: to.id, key }], Date.now());
      else this.options.emit?.({ type: 'replica.repaired', fileId: file.id, blobKey: key, nodeId: to.id });
      return recorded;
    } catch (error) {
      await this.metadata.queueBlobDeletes([{ nodeId: to.id, key }], Date.now());
      this.options.logger.warn(
        { key, nodeId: to.id },
        `copying ${key} to ${to.id} failed: ${(error as Error).message}`,
      );
      return false;
    }
  }

  /**
   * Streams one blob from a node to another. The copy keeps the source's
   * sidecar meta and download checkpoint, so an index rebuilt from it
   * restores the same file and never serves more than the limit; a source
   * without valid meta (written before sidecars carried it) gets it from the index.
   */
  private async copyBlob(blob: StoredBlob, from: ClusterNode, to: ClusterNode): Promise<void> {
    const { key, sha256 } = blob;
    const source = await from.transport.stat(key);
    if (!source) throw new LegimError('BLOB_NOT_FOUND', `${from.id} no longer has ${key}`);
    const meta = parseBlobMeta(key, source.meta) ?? (await this.metaFromIndex(blob));
    const read = await from.transport.read(key);
    const upload = to.transport.openUpload(key, { ...meta }, { downloadsTaken: source.downloadsTaken });
    try {
      await pipeline(read.stream, upload.stream, { end: false });
    } catch (error) {
      upload.abort(error as Error);
      throw error;
    }
    await upload.commit(sha256);
  }

  /** The sidecar meta the first copies of a blob got (upload-service, variant-writer), from the index. */
  private async metaFromIndex({ file, key }: StoredBlob): Promise<BlobMeta> {
    const name = key.slice(file.id.length + 1);
    if (file.sealed) return sealedMeta(file.id, key === file.id ? 'original' : name);
    if (key === file.id) return originalMeta(file);
    const variant = (await this.metadata.listVariants(file.id)).find((record) => record.name === name);
    if (!variant) throw new LegimError('BLOB_NOT_FOUND', `the index has no variant ${name} of ${file.id}`);
    return variantMeta(file.id, variant);
  }
}

/** Short of copies, or holding copies on leaving nodes that should move. */
function needsRepair(blob: StoredBlob, leaving: Leaving): boolean {
  return blob.copies.some((copy) => leaving.has(copy.nodeId)) || blob.copies.length < blob.file.replicasWanted;
}
