import type { DownloadCounter } from '../backends/download-counter/download-counter.js';
import type { LockService } from '../backends/locks/lock-service.js';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import type { EmitEvent } from '../events/gateway-events.js';

const BATCH = 200;
/** A reap job waits this long for a repair of the same file to end; the job is retried after. */
const LOCK_WAIT_MS = 5000;

/**
 * Removes files that are due: expired, deleted, or past the grace period
 * after their last download. In one transaction the file becomes a tombstone
 * and each of its blobs (original and variants, on every node) a durable
 * pending delete, which is then sent to the nodes and kept until each node
 * confirms: a node that is down gets its deletes when it returns, and a
 * process that dies half-way loses nothing. Used by `expire`/`delete` jobs
 * and by the sweeper that catches whatever a lost job missed. A file is
 * purged under its lock, so no repair copies it at the same time on
 * another gateway.
 */
export class FileReaper {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly locks: LockService,
    private readonly counter: Pick<DownloadCounter, 'forget'>,
    private readonly emit: EmitEvent = () => {},
    /** Hears each file removed before its expiry, whose previews caches may still hold (the CDN purge). */
    private readonly goneEarly: (fileId: string) => void = () => {},
  ) {}

  /** Reaps one file if it is due; running it twice does no harm. */
  async reap(fileId: string): Promise<void> {
    await this.locks.withLock(`file:${fileId}`, { waitMs: LOCK_WAIT_MS }, () => this.purgeIfDue(fileId));
    await this.deleteBlobs();
  }

  /** Reaps every due file (skipping those another process is busy with), then sends the pending blob deletes. */
  async reapDue(): Promise<void> {
    for (const file of await this.metadata.dueForDeletion(Date.now(), BATCH)) {
      await this.locks
        .withLock(`file:${file.id}`, { waitMs: 0 }, () => this.purgeIfDue(file.id))
        .catch(() => {
          // Busy elsewhere: that process reaps it, or the next sweep does.
        });
    }
    await this.deleteBlobs();
  }

  /** Re-reads the file under the lock: another process may have purged it or a refund undone its deletion. */
  private async purgeIfDue(fileId: string): Promise<void> {
    const now = Date.now();
    const file = await this.metadata.getFile(fileId);
    if (!file || !isDue(file, now)) return;
    const reason = file.expiresAt <= now ? 'expired' : (file.deleteReason ?? 'deleted');
    await this.metadata.purgeFile(file.id, reason, now);
    // An owner's delete was reported when it was asked for (FileService).
    if (file.deleteReason !== 'deleted') {
      this.emit({ type: 'file.deleted', fileId: file.id, reason: reason === 'exhausted' ? 'used-up' : reason });
    }
    if (reason !== 'expired') this.goneEarly(file.id);
    // Best effort: a count left behind expires with the file, and refuses nothing that still exists.
    await this.counter.forget(file.id).catch(() => {});
  }

  private async deleteBlobs(): Promise<void> {
    const reachable = this.registry.all().filter((node) => node.status !== 'down');
    const pending = await this.metadata.pendingBlobDeletes(
      Date.now(),
      BATCH,
      reachable.map((node) => node.id),
    );
    await Promise.all(
      pending.map(async (location) => {
        const node = this.registry.get(location.nodeId);
        if (!node) return;
        try {
          // A blob of a file the index holds a tombstone for leaves one on the node too, so an
          // index rebuilt from the nodes does not bring the file back; copies moved by a repair or
          // a drain, and abandoned uploads, leave none.
          const [fileId = location.key] = location.key.split('.', 1);
          const tombstone = (await this.metadata.getTombstone(fileId)) !== undefined;
          await node.transport.delete(location.key, { tombstone });
          await this.metadata.clearPendingBlobDelete(location);
        } catch {
          // Kept, and tried again later behind the others, so it cannot hold up the rest.
          await this.metadata.deferPendingBlobDelete(location, Date.now() + DELETE_RETRY_MS);
        }
      }),
    );
  }
}

/** How long a removal a node refused waits before it is sent again. */
const DELETE_RETRY_MS = 10_000;

function isDue(file: FileRecord, now: number): boolean {
  return file.expiresAt <= now || (file.deleteAt !== null && file.deleteAt <= now);
}
