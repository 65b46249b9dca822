import { PeriodicTask } from '../background/periodic-task.js';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { MetadataStore } from '../metadata/types.js';

const BATCH = 200;

/**
 * Removes what is due: expired files, files whose last download's grace
 * period ended, deleted files. Each file becomes a tombstone plus durable
 * pending blob deletes in one transaction; the blob deletes are then sent to
 * the nodes and retried until each node confirms (a node that is down gets
 * them when it is back).
 */
export class DeletionSweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    intervalMs: number,
  ) {
    this.task = new PeriodicTask(() => this.sweep(), intervalMs);
  }

  start(): void {
    this.task.start();
  }

  /** Runs a pass soon (a file was just deleted). */
  wake(): void {
    this.task.wake();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One full pass; exposed for tests and shutdown. */
  async sweep(): Promise<void> {
    try {
      const now = Date.now();
      for (const file of await this.metadata.dueForDeletion(now, BATCH)) {
        const reason = file.expiresAt <= now ? 'expired' : (file.deleteReason ?? 'deleted');
        await this.metadata.purgeFile(file.id, reason, now);
      }
      await this.deleteBlobs();
    } catch (error) {
      console.error('legim: deletion sweep failed:', error);
    }
  }

  private async deleteBlobs(): Promise<void> {
    const pending = await this.metadata.pendingBlobDeletes(Date.now(), BATCH);
    await Promise.all(
      pending.map(async (location) => {
        const node = this.registry.get(location.nodeId);
        if (!node || node.status === 'down') return;
        try {
          await node.transport.delete(location.key);
          await this.metadata.clearPendingBlobDelete(location);
        } catch {
          // Kept in the table: the next sweep tries again.
        }
      }),
    );
  }
}
