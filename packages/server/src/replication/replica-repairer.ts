import { pipeline } from 'node:stream/promises';
import { PeriodicTask } from '../background/periodic-task.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore, UnderReplicatedFile } from '../metadata/types.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';

const BATCH = 50;
/** A copy still pending after this long is checked on its node. */
const PENDING_GRACE_MS = 60_000;
/** How long a repair copy may take before it is presumed orphaned. */
const INTENT_MS = 3600_000;

/**
 * Brings files back to their wanted number of copies by copying from a
 * healthy replica to new nodes. Runs on an interval and when woken (an
 * upload that answered with fewer copies than wanted).
 */
export class ReplicaRepairer {
  private readonly task: PeriodicTask;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly placer: ReplicaPlacer,
    intervalMs: number,
  ) {
    this.task = new PeriodicTask('replica repair', () => this.repairAll(), intervalMs);
  }

  start(): void {
    this.task.start();
  }

  /** Runs a pass soon (an upload ended with fewer copies than wanted). */
  wake(): void {
    this.task.wake();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  private async repairAll(): Promise<void> {
    await this.settleStalePending();
    for (const entry of await this.metadata.underReplicated(BATCH)) await this.repair(entry);
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
      if (blob?.sha256 === file.sha256) await this.metadata.addReplica(file.id, nodeId, now);
      else await this.metadata.dropReplica(file.id, nodeId, now);
    }
  }

  private async repair({ file, durable, holders }: UnderReplicatedFile): Promise<void> {
    const source = durable.map((id) => this.registry.get(id)).find((node) => node?.status === 'up');
    if (!source) return;
    const missing = file.replicasWanted - holders.length;
    for (const target of this.placer.place(file.id, file.size, missing, new Set(holders))) {
      // The intent removes the copy again should the gateway stop before recording it.
      await this.metadata.recordUploadIntent(file.id, [target.id], Date.now() + INTENT_MS);
      try {
        await copyBlob(file, source, target);
        const recorded = await this.metadata.addReplica(file.id, target.id, Date.now());
        // The file was deleted while we copied: the new copy must not linger.
        if (!recorded) await this.metadata.queueBlobDeletes([{ nodeId: target.id, key: file.id }], Date.now());
      } catch (error) {
        await this.metadata.queueBlobDeletes([{ nodeId: target.id, key: file.id }], Date.now());
        console.error(`legim: copying ${file.id} to ${target.id} failed:`, (error as Error).message);
      }
    }
  }
}

async function copyBlob(file: FileRecord, from: ClusterNode, to: ClusterNode): Promise<void> {
  const read = await from.transport.read(file.id);
  const upload = to.transport.openUpload(file.id, {
    fileId: file.id,
    createdAt: file.createdAt,
    expiresAt: file.expiresAt,
  });
  try {
    await pipeline(read.stream, upload.stream, { end: false });
  } catch (error) {
    upload.abort(error as Error);
    throw error;
  }
  await upload.commit(file.sha256);
}
