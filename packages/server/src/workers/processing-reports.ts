import type { BlobLocation, NodeRecord, VariantRecord } from '../metadata/types.js';
import type { WorkerFile, WorkerStore } from './worker-store.js';
import type { EmitEvent } from '../events/gateway-events.js';

/**
 * The gateway's worker store, reporting `file.processed` where processing
 * ends: when variants are recorded (the file is ready) or a file is marked
 * failed. The gateway's own image workers and the workers that report
 * through its internal API (`legim worker --gateway`) both write through it;
 * a `legim worker --data` process writes the shared database directly, so
 * its results raise no event.
 */
export class ProcessingReports implements WorkerStore {
  constructor(
    private readonly store: WorkerStore,
    private readonly emit: EmitEvent,
  ) {}

  getFile(id: string): Promise<WorkerFile | undefined> {
    return this.store.getFile(id);
  }

  replicaNodes(blobKey: string): Promise<string[]> {
    return this.store.replicaNodes(blobKey);
  }

  recordUploadIntent(key: string, nodeIds: string[], until: number): Promise<void> {
    return this.store.recordUploadIntent(key, nodeIds, until);
  }

  async recordVariants(
    fileId: string,
    variants: { variant: VariantRecord; nodeIds: string[] }[],
    now: number,
  ): Promise<boolean> {
    const recorded = await this.store.recordVariants(fileId, variants, now);
    if (recorded) this.emit({ type: 'file.processed', fileId, status: 'ready' });
    return recorded;
  }

  queueBlobDeletes(locations: BlobLocation[], now: number): Promise<void> {
    return this.store.queueBlobDeletes(locations, now);
  }

  async markFailed(fileId: string, reason: string): Promise<void> {
    await this.store.markFailed(fileId, reason);
    this.emit({ type: 'file.processed', fileId, status: 'failed' });
  }

  listNodes(): Promise<NodeRecord[]> {
    return this.store.listNodes();
  }
}
