import { PassThrough } from 'node:stream';
import { LegimError } from '@legim/sdk';
import type { BlobStore, SidecarPage, TombstonePage } from '@legim/node';
import type { NodeStats } from '../../metadata/types.js';
import type { BlobRead, BlobStat, BlobTransport, BlobUpload, StoredBlob, UploadOptions } from './blob-transport.js';

/** The gateway's own disk: the same BlobStore a node uses, without the HTTP hop. */
export class LocalBlobTransport implements BlobTransport {
  constructor(
    readonly nodeId: string,
    private readonly store: BlobStore,
  ) {}

  openUpload(key: string, meta: Record<string, unknown>, options: UploadOptions = {}): BlobUpload {
    const stream = new PassThrough({ highWaterMark: 256 * 1024 });
    let digest: string | undefined;
    let finalMeta: Record<string, unknown> | undefined;
    const stored = this.store.put(key, stream, {
      expectedSha256: () => digest,
      meta,
      finalMeta: () => finalMeta,
      downloadsTaken: options.downloadsTaken,
    });
    stored.catch((error: unknown) => stream.destroy(error as Error));
    return {
      stream,
      commit: async (sha256: string, committedMeta?: Record<string, unknown>): Promise<StoredBlob> => {
        digest = sha256;
        finalMeta = committedMeta;
        stream.end();
        const info = await stored;
        return { size: info.size, sha256: info.sha256 };
      },
      abort: (reason: Error) => stream.destroy(reason),
    };
  }

  async read(key: string, range?: { start: number; end?: number }): Promise<BlobRead> {
    return this.store.open(key, range);
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    try {
      const sidecar = await this.store.stat(key);
      return {
        size: sidecar.size,
        sha256: sidecar.sha256,
        meta: sidecar.meta ?? null,
        downloadsTaken: sidecar.downloadsTaken,
      };
    } catch (error) {
      if (LegimError.is(error) && error.code === 'BLOB_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async delete(key: string, options: { tombstone?: boolean } = {}): Promise<void> {
    await this.store.delete(key, options);
  }

  checkpoint(key: string, downloadsTaken: number): Promise<number> {
    return this.store.checkpoint(key, downloadsTaken);
  }

  listSidecars(after: string | undefined, limit: number): Promise<SidecarPage> {
    return this.store.listSidecars(after, limit);
  }

  async listTombstones(after: string | undefined, limit: number): Promise<TombstonePage> {
    return this.store.tombstones(after, limit);
  }

  probe(): Promise<NodeStats> {
    return this.store.stats();
  }

  async close(): Promise<void> {}
}
