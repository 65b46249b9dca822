import type { ClusterNode } from '../cluster/node-registry.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';
import { variantMeta } from '../replication/blob-meta.js';
import type { ProcessedVariant } from '../processing/index.js';
import type { WorkerStore } from './worker-store.js';

/** How long a variant write may take before copies it left behind are presumed orphaned. */
const INTENT_MS = 3600_000;

/**
 * Stores one variant on `copies` nodes, like an original: placed by the
 * same rendezvous hashing, written with its digest known up front, guarded
 * by an intent so a worker that dies mid-write leaves nothing behind.
 */
export class VariantWriter {
  constructor(
    private readonly metadata: Pick<WorkerStore, 'recordUploadIntent'>,
    private readonly placer: ReplicaPlacer,
  ) {}

  /** Returns the nodes that hold the variant durably; throws if none does. */
  async write(fileId: string, variant: ProcessedVariant, copies: number): Promise<string[]> {
    const key = `${fileId}.${variant.name}`;
    const targets = this.placer.place(key, variant.size, copies);
    if (targets.length === 0) throw new Error(`no storage node can take the ${variant.name} variant of ${fileId}`);
    await this.metadata.recordUploadIntent(
      key,
      targets.map((node) => node.id),
      Date.now() + INTENT_MS,
    );
    const results = await Promise.allSettled(targets.map((node) => writeTo(node, key, fileId, variant)));
    const stored = targets.filter((_, i) => results[i]!.status === 'fulfilled').map((node) => node.id);
    if (stored.length === 0) {
      const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
      throw new Error(`storing the ${variant.name} variant of ${fileId} failed on every node: ${reason.message}`);
    }
    return stored;
  }
}

async function writeTo(node: ClusterNode, key: string, fileId: string, variant: ProcessedVariant): Promise<void> {
  // The variant record but for size and digest (the sidecar's own), so an index rebuild can restore it.
  const upload = node.transport.openUpload(key, { ...variantMeta(fileId, variant) });
  upload.stream.write(variant.data);
  await upload.commit(variant.sha256);
}
