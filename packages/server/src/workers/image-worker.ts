import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LegimError } from '@legim/sdk';
import type { NodeRegistry } from '../cluster/node-registry.js';
import { isTransient, type Job } from '../jobs/index.js';
import {
  isPermanentProcessingError,
  processImage,
  type ProcessImageOptions,
  type ProcessedVariant,
  type VariantName,
} from '../processing/index.js';
import { openSealed } from '../encryption/blob-cipher.js';
import type { FileKeySource } from '../encryption/file-keyring.js';
import type { VariantWriter } from './variant-writer.js';
import type { WorkerFile, WorkerStore } from './worker-store.js';

export interface ImageWorkerOptions {
  variants: readonly VariantName[];
  maxPixels: number;
  /**
   * Makes the variants of the spooled original: `processImage` in this
   * process by default; the gateway passes its `ImageProcess`'s, which runs
   * it in a child process.
   */
  processImage?: (path: string, options: ProcessImageOptions) => Promise<ProcessedVariant[]>;
  /** The data keys of encrypted files (the index with the master keys, or the gateway's internal API). */
  keys?: FileKeySource;
}

/**
 * Does `process` jobs: reads the original from a replica, makes the
 * variants with sharp (in libvips' threads, off the event loop; in the
 * gateway, in its image process), stores them like originals and marks the
 * file ready. Idempotent: a job that runs twice rewrites the same keys and
 * records the same rows.
 */
export class ImageWorker {
  constructor(
    private readonly metadata: WorkerStore,
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
      if (isPermanentProcessingError(error)) await this.metadata.markFailed(file.id, (error as Error).message);
      throw error;
    }
  }

  /** The queue gave up on the job (its attempts failed, or killed their workers): the file gets no variants. */
  async giveUp(job: Job, reason: string): Promise<void> {
    const file = await this.metadata.getFile(job.fileId);
    if (file?.status === 'processing') await this.metadata.markFailed(file.id, reason);
  }

  private async process(file: WorkerFile): Promise<void> {
    const make = this.options.processImage ?? processImage;
    const dataKey = file.sealed && (await this.dataKey(file));
    // Encrypted, and its key destroyed since the file was read: it is being deleted, nothing to make.
    if (file.sealed && !dataKey) return;
    const variants = await this.withLocalCopy(file, dataKey, (path) =>
      make(path, { variants: this.options.variants, maxPixels: this.options.maxPixels }),
    );
    // Stored side by side: the nodes' fsyncs overlap instead of adding up.
    const stored = await Promise.all(
      variants.map(async (variant) => {
        const { name, contentType, width, height, size, sha256 } = variant;
        const { nodeIds, sealed } = await this.writer.write(file.id, variant, file.replicasWanted, dataKey);
        return { variant: { name, contentType, width, height, size, sha256, ...(sealed && { sealed }) }, nodeIds };
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
   * whatever its size. An encrypted original is opened on the way (the
   * worker's temporary folder, removed after, is the one place it is in clear).
   */
  private async withLocalCopy<T>(
    file: WorkerFile,
    dataKey: Buffer | undefined,
    work: (path: string) => Promise<T>,
  ): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'legim-work-'));
    try {
      const path = join(dir, 'original');
      const stored = await this.openOriginal(file);
      const plain = dataKey
        ? Readable.from(
            openSealed(stored, { dataKey, fileId: file.id, blob: 'original' }, { plainSize: file.size, start: 0 }),
          )
        : stored;
      await pipeline(plain, createWriteStream(path, { mode: 0o600 }));
      return await work(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async dataKey(file: WorkerFile): Promise<Buffer | undefined> {
    if (!this.options.keys) {
      throw new LegimError(
        'MASTER_KEY_MISSING',
        `${file.id} is stored encrypted and this worker has no master key: give it --master-key-file or LEGIM_MASTER_KEY`,
      );
    }
    return this.options.keys.dataKey(file.id);
  }

  private async openOriginal(file: WorkerFile) {
    let lastError: unknown;
    for (const node of this.registry.readOrder(await this.metadata.replicaNodes(file.id))) {
      try {
        return (await node.transport.read(file.id)).stream;
      } catch (error) {
        lastError = error;
      }
    }
    const message = `no replica of ${file.id} could be read`;
    // Every holder unreachable is an outage the job waits out, not a failure of its own.
    if (isTransient(lastError)) throw new LegimError('UNAVAILABLE', message, { cause: lastError });
    throw new Error(message, { cause: lastError });
  }
}
