import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { Job } from '../jobs/index.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import { isPermanentProcessingError, processImage, type VariantName } from '../processing/index.js';
import type { VariantWriter } from './variant-writer.js';

export interface ImageWorkerOptions {
  variants: readonly VariantName[];
  maxPixels: number;
  /** Runs of a job before it is dead-lettered: the last failed run marks the file failed. */
  maxAttempts: number;
}

/**
 * Does `process` jobs: reads the original from a replica, makes the
 * variants with sharp (in libvips' threads, off the event loop), stores them
 * like originals and marks the file ready. Idempotent: a job that runs
 * twice rewrites the same keys and records the same rows.
 */
export class ImageWorker {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly registry: NodeRegistry,
    private readonly writer: VariantWriter,
    private readonly options: ImageWorkerOptions,
  ) {}

  async handle(job: Job): Promise<void> {
    const file = await this.metadata.getFile(job.fileId);
    // Gone, or already done by an earlier delivery: nothing left to do.
    if (!file || file.status === 'ready') return;
    // Known to be unprocessable: fail again, so the job ends dead-lettered with its reason.
    if (file.status === 'failed') throw new Error(file.statusReason ?? 'processing failed');
    try {
      await this.process(file);
    } catch (error) {
      if (isPermanentProcessingError(error) || job.attempts >= this.options.maxAttempts) {
        await this.metadata.markFailed(file.id, (error as Error).message);
      }
      throw error;
    }
  }

  private async process(file: FileRecord): Promise<void> {
    const variants = await this.withLocalCopy(file, (path) =>
      processImage(path, { variants: this.options.variants, maxPixels: this.options.maxPixels }),
    );
    // Stored side by side: the nodes' fsyncs overlap instead of adding up.
    const stored = await Promise.all(
      variants.map(async (variant) => {
        const { name, contentType, width, height, size, sha256 } = variant;
        const nodeIds = await this.writer.write(file.id, variant, file.replicasWanted);
        return { variant: { name, contentType, width, height, size, sha256 }, nodeIds };
      }),
    );
    const now = Date.now();
    if (!(await this.metadata.recordVariants(file.id, stored, now))) {
      // The file was deleted meanwhile: its variants must not linger.
      const locations = stored.flatMap(({ variant, nodeIds }) =>
        nodeIds.map((nodeId) => ({ nodeId, key: `${file.id}.${variant.name}` })),
      );
      await this.metadata.queueBlobDeletes(locations, now);
    }
  }

  /**
   * sharp buffers a streamed input whole, so the original is first spooled
   * to a temporary file: libvips then reads it from disk with flat memory,
   * whatever its size.
   */
  private async withLocalCopy<T>(file: FileRecord, work: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'legim-work-'));
    try {
      const path = join(dir, 'original');
      await pipeline(await this.openOriginal(file), createWriteStream(path));
      return await work(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async openOriginal(file: FileRecord) {
    let lastError: unknown;
    for (const node of this.registry.readOrder(await this.metadata.replicaNodes(file.id))) {
      try {
        return (await node.transport.read(file.id)).stream;
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no replica of ${file.id} could be read`, { cause: lastError });
  }
}
