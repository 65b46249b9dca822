import { pipeline } from 'node:stream/promises';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';

const BATCH = 50;

/**
 * Brings files back to their wanted number of copies by copying from a
 * healthy replica to new nodes. Runs on an interval and when woken (an
 * upload that answered with fewer copies than wanted).
 */
export class ReplicaRepairer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly placer: ReplicaPlacer,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.repairAll().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async repairAll(): Promise<void> {
    try {
      for (const { file, nodeIds } of await this.metadata.underReplicated(BATCH)) {
        await this.repair(file, nodeIds);
      }
    } catch (error) {
      console.error('legim: replica repair round failed:', error);
    }
  }

  private async repair(file: FileRecord, holders: string[]): Promise<void> {
    const sources = holders
      .map((id) => this.registry.get(id))
      .filter((node): node is ClusterNode => node?.status === 'up');
    if (sources.length === 0) return;
    const missing = file.replicasWanted - holders.length;
    const targets = this.placer.place(file.id, file.size, missing, new Set(holders));
    for (const target of targets) {
      try {
        await copyBlob(file, sources[0]!, target);
        const recorded = await this.metadata.addReplica(file.id, target.id);
        // The file was deleted while we copied: the new copy must not linger.
        if (!recorded) await this.metadata.queueBlobDeletes([{ nodeId: target.id, key: file.id }], Date.now());
      } catch (error) {
        console.error(`legim: copying ${file.id} to ${target.id} failed:`, (error as Error).message);
      }
    }
  }
}

async function copyBlob(file: FileRecord, from: ClusterNode, to: ClusterNode): Promise<void> {
  const read = await from.transport.read(file.id);
  const upload = to.transport.openUpload(file.id, { fileId: file.id, createdAt: file.createdAt, expiresAt: file.expiresAt });
  try {
    await pipeline(read.stream, upload.stream, { end: false });
  } catch (error) {
    upload.abort(error as Error);
    throw error;
  }
  await upload.commit(file.sha256);
}
