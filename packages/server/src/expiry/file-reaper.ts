import type { NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';

const BATCH = 200;

/**
 * Removes files that are due: expired, deleted, or past the grace period
 * after their last download. In one transaction the file becomes a tombstone
 * and each of its blobs (original and variants, on every node) a durable
 * pending delete, which is then sent to the nodes and kept until each node
 * confirms: a node that is down gets its deletes when it returns, and a
 * process that dies half-way loses nothing. Used by `expire`/`delete` jobs
 * and by the sweeper that catches whatever a lost job missed.
 */
export class FileReaper {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
  ) {}

  /** Reaps one file if it is due; running it twice does no harm. */
  async reap(fileId: string): Promise<void> {
    const now = Date.now();
    const file = await this.metadata.getFile(fileId);
    if (!file || !isDue(file, now)) return;
    await this.purge(file, now);
    await this.deleteBlobs();
  }

  /** Reaps every due file, then sends the pending blob deletes. */
  async reapDue(): Promise<void> {
    const now = Date.now();
    for (const file of await this.metadata.dueForDeletion(now, BATCH)) await this.purge(file, now);
    await this.deleteBlobs();
  }

  private purge(file: FileRecord, now: number): Promise<void> {
    const reason = file.expiresAt <= now ? 'expired' : (file.deleteReason ?? 'deleted');
    return this.metadata.purgeFile(file.id, reason, now);
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
          // Kept in the table: the next pass tries again.
        }
      }),
    );
  }
}

function isDue(file: FileRecord, now: number): boolean {
  return file.expiresAt <= now || (file.deleteAt !== null && file.deleteAt <= now);
}
