import { pipeline } from 'node:stream/promises';
import { LegimError } from '@legim/sdk';
import type { LockService } from '../backends/locks/lock-service.js';
import { PeriodicTask } from '../background/periodic-task.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { MetadataStore, StoredBlob } from '../metadata/types.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';

const BATCH = 50;
/** Blob keys checked per pass by the walk over every blob (the backstop for whatever nothing reported). */
const WALK_PAGE = 1000;
/** Blob keys read at a time from a lost node's list, and pages of it per pass. */
const LOST_PAGE = 200;
const LOST_PAGES_PER_PASS = 10;
/** A copy still pending after this long is checked on its node. */
const PENDING_GRACE_MS = 60_000;
/** How long a repair copy may take before it is presumed orphaned. */
const INTENT_MS = 3600_000;

export interface RepairOptions {
  intervalMs: number;
  /** A node down this long is lost: its copies are made again elsewhere, then forgotten there. */
  lostAfterMs: number;
}

/**
 * Keeps every blob of every file (the original and its variants) at its
 * wanted number of copies, copying from a healthy replica to new nodes.
 * Each pass looks at the files reported short of copies (an upload that
 * answered with fewer), then at every blob on a lost node (down longer than
 * `lostAfterMs`), then at one page of a walk over all blobs, which catches
 * whatever nobody reported. Copies on a lost node are forgotten (and deleted
 * from it, should it return) only once the blob has its full count
 * elsewhere, so a repair never leaves a blob with fewer copies than it had.
 * Each query reads a page, so no pass holds the event loop for long.
 */
export class ReplicaRepairer {
  private readonly task: PeriodicTask;
  private readonly reported = new Set<string>();
  private walkedTo = '';
  private readonly lostCursors = new Map<string, string>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly placer: ReplicaPlacer,
    private readonly locks: LockService,
    private readonly options: RepairOptions,
  ) {
    this.task = new PeriodicTask('replica repair', () => this.repairAll(), options.intervalMs);
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
    const lost = new Set(this.registry.lost(this.options.lostAfterMs, Date.now()));
    const fileIds = [...this.reported];
    this.reported.clear();
    for (const fileId of fileIds) await this.repairKeys(await this.metadata.blobKeysOfFile(fileId), lost);
    await this.moveOffLostNodes(lost);
    const page = await this.metadata.walkBlobs(this.walkedTo, WALK_PAGE);
    this.walkedTo = page.lastKey ?? '';
    await this.repairKeys(page.short, lost);
  }

  /** A few pages of each lost node's blobs per pass, resuming where the last pass stopped. */
  private async moveOffLostNodes(lost: Set<string>): Promise<void> {
    for (const nodeId of this.lostCursors.keys()) if (!lost.has(nodeId)) this.lostCursors.delete(nodeId);
    for (const nodeId of lost) {
      for (let page = 0; page < LOST_PAGES_PER_PASS; page++) {
        const after = this.lostCursors.get(nodeId) ?? '';
        const keys = await this.metadata.blobKeysOnNode(nodeId, after, LOST_PAGE);
        this.lostCursors.set(nodeId, keys.length < LOST_PAGE ? '' : keys.at(-1)!);
        await this.repairKeys(keys, lost);
        // SQLite answers synchronously: let requests in between pages.
        await new Promise((resolve) => setImmediate(resolve));
        if (keys.length < LOST_PAGE) break;
      }
    }
  }

  private async repairKeys(keys: string[], lost: Set<string>): Promise<void> {
    for (const blob of await this.metadata.storedBlobs(keys, Date.now())) {
      if (!needsRepair(blob, lost)) continue;
      // Another gateway repairing or purging the same file would race this one
      // for the same target node; whoever holds the lock does it, the others skip.
      await this.locks
        .withLock(`file:${blob.file.id}`, { waitMs: 0 }, () => this.repair(blob.key, lost))
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
      if (blob?.sha256 === file.sha256) await this.metadata.addReplica(file.id, file.id, nodeId, now);
      else await this.metadata.dropReplica(file.id, nodeId, now);
    }
  }

  private async repair(key: string, lost: Set<string>): Promise<void> {
    // Read again under the lock: another gateway may have repaired or purged the file since.
    const [blob] = await this.metadata.storedBlobs([key], Date.now());
    if (!blob) return;
    const kept = blob.copies.filter((copy) => !lost.has(copy.nodeId));
    const sources = kept.filter((copy) => copy.durable).map((copy) => copy.nodeId);
    const source = this.registry.readOrder(sources).find((node) => node.status === 'up');
    const missing = blob.file.replicasWanted - kept.length;
    if (missing > 0 && source) {
      // Lost nodes are excluded too: one that returns still holds its copy until it is forgotten.
      const exclude = new Set(blob.copies.map((copy) => copy.nodeId));
      for (const target of this.placer.place(key, blob.size, missing, exclude)) {
        if (await this.copy(blob, source, target)) kept.push({ nodeId: target.id, durable: true });
      }
    }
    // Only a blob back at full strength elsewhere lets go of its copies on lost nodes.
    if (kept.filter((copy) => copy.durable).length < blob.file.replicasWanted) return;
    for (const copy of blob.copies) {
      if (lost.has(copy.nodeId)) await this.metadata.dropReplica(key, copy.nodeId, Date.now());
    }
  }

  /** One copy to a new node; true once it is recorded. */
  private async copy(blob: StoredBlob, from: ClusterNode, to: ClusterNode): Promise<boolean> {
    const { file, key } = blob;
    // The intent removes the copy again should the gateway stop before recording it.
    await this.metadata.recordUploadIntent(key, [to.id], Date.now() + INTENT_MS);
    try {
      await copyBlob(blob, from, to);
      const recorded = await this.metadata.addReplica(file.id, key, to.id, Date.now());
      // The file was deleted while we copied: the new copy must not linger.
      if (!recorded) await this.metadata.queueBlobDeletes([{ nodeId: to.id, key }], Date.now());
      return recorded;
    } catch (error) {
      await this.metadata.queueBlobDeletes([{ nodeId: to.id, key }], Date.now());
      console.error(`legim: copying ${key} to ${to.id} failed:`, (error as Error).message);
      return false;
    }
  }
}

async function copyBlob({ file, key, sha256 }: StoredBlob, from: ClusterNode, to: ClusterNode): Promise<void> {
  const read = await from.transport.read(key);
  // The same sidecar as the first copies got (upload-service, variant-writer).
  const meta =
    key === file.id
      ? { fileId: file.id, createdAt: file.createdAt, expiresAt: file.expiresAt }
      : { fileId: file.id, variant: key.slice(file.id.length + 1) };
  const upload = to.transport.openUpload(key, meta);
  try {
    await pipeline(read.stream, upload.stream, { end: false });
  } catch (error) {
    upload.abort(error as Error);
    throw error;
  }
  await upload.commit(sha256);
}

/** Short of copies once lost nodes are left out, or holding copies on lost nodes that should move. */
function needsRepair(blob: StoredBlob, lost: Set<string>): boolean {
  const onLost = blob.copies.filter((copy) => lost.has(copy.nodeId)).length;
  return onLost > 0 || blob.copies.length < blob.file.replicasWanted;
}
