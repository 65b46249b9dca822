import type { ClusterNode } from '../cluster/node-registry.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';
import { sealedMeta, variantMeta } from '../replication/blob-meta.js';
import type { ProcessedVariant } from '../processing/index.js';
import { sealBuffer } from '../encryption/blob-cipher.js';
import type { SealedCopy } from '../metadata/types.js';
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

  /**
   * Returns the nodes that hold the variant durably (throws if none does),
   * and, given its file's data key, how it is stored sealed with it.
   */
  async write(
    fileId: string,
    variant: ProcessedVariant,
    copies: number,
    dataKey?: Buffer,
  ): Promise<{ nodeIds: string[]; sealed?: SealedCopy }> {
    const key = `${fileId}.${variant.name}`;
    const stored = dataKey ? await sealed(fileId, variant, dataKey) : clear(fileId, variant);
    const targets = this.placer.place(key, stored.data.length, copies);
    if (targets.length === 0) throw new Error(`no storage node can take the ${variant.name} variant of ${fileId}`);
    await this.metadata.recordUploadIntent(
      key,
      targets.map((node) => node.id),
      Date.now() + INTENT_MS,
    );
    const results = await Promise.allSettled(targets.map((node) => writeTo(node, key, stored)));
    const nodeIds = targets.filter((_, i) => results[i]!.status === 'fulfilled').map((node) => node.id);
    if (nodeIds.length === 0) {
      const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
      throw new Error(`storing the ${variant.name} variant of ${fileId} failed on every node: ${reason.message}`);
    }
    return { nodeIds, ...(dataKey && { sealed: { size: stored.data.length, sha256: stored.sha256 } }) };
  }
}

/** The bytes a node stores for a variant, their digest and the sidecar meta. */
interface VariantBlob {
  data: Buffer;
  sha256: string;
  meta: Record<string, unknown>;
}

/** The variant record but for size and digest (the sidecar's own), so an index rebuild can restore it. */
function clear(fileId: string, variant: ProcessedVariant): VariantBlob {
  return { data: variant.data, sha256: variant.sha256, meta: { ...variantMeta(fileId, variant) } };
}

/** Sealed with a key derived from the file's: destroying that one destroys the variants' too. */
async function sealed(fileId: string, variant: ProcessedVariant, dataKey: Buffer): Promise<VariantBlob> {
  const { sealed: data, sha256 } = await sealBuffer(variant.data, { dataKey, fileId, blob: variant.name });
  return { data, sha256, meta: { ...sealedMeta(fileId, variant.name) } };
}

async function writeTo(node: ClusterNode, key: string, blob: VariantBlob): Promise<void> {
  const upload = node.transport.openUpload(key, blob.meta);
  upload.stream.write(blob.data);
  await upload.commit(blob.sha256);
}
