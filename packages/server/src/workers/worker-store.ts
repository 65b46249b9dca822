import type { BlobLocation, FileRecord, NodeRecord, VariantRecord } from '../metadata/types.js';

/** A file as a worker sees it: everything but the hash of its delete token, which no worker needs. */
export type WorkerFile = Omit<FileRecord, 'deleteTokenHash'>;

/**
 * The part of the metadata a worker reads and writes: the subset of
 * `MetadataStore` used by `ImageWorker` and `VariantWriter`, plus the node
 * list the worker's `NodeRegistry` follows. On the gateway's host the SQLite
 * store is one (`legim worker --data`); on any other host
 * `GatewayWorkerClient` is one, over the gateway's internal API
 * (`legim worker --gateway`).
 *
 * Times are epoch milliseconds of the caller's clock; the remote
 * implementation re-bases them on the gateway's clock, so a worker whose
 * clock is off cannot make an intent fall due early.
 */
export interface WorkerStore {
  getFile(id: string): Promise<WorkerFile | undefined>;
  /** Nodes that hold or may hold a blob (an original's key is its file id): durable copies first. */
  replicaNodes(blobKey: string): Promise<string[]>;
  /** Before a variant is written: its copies on these nodes are removed after `until` unless recorded by then. */
  recordUploadIntent(key: string, nodeIds: string[], until: number): Promise<void>;
  /**
   * Records a file's variants with the nodes holding each, clears their
   * intents and marks the file ready, in one transaction; false if the file is gone.
   */
  recordVariants(
    fileId: string,
    variants: { variant: VariantRecord; nodeIds: string[] }[],
    now: number,
  ): Promise<boolean>;
  /** Blobs to remove from nodes now (variants of a file deleted while they were made); retried until confirmed. */
  queueBlobDeletes(locations: BlobLocation[], now: number): Promise<void>;
  markFailed(fileId: string, reason: string): Promise<void>;
  /** The storage nodes the gateway knows. */
  listNodes(): Promise<NodeRecord[]>;
}

/**
 * What `expire` and `delete` jobs run: the `FileReaper` in the process that
 * holds the metadata, or the gateway's, asked over its internal API. There
 * is one reaping implementation; this is only the way to reach it.
 */
export interface FileReaping {
  /** Reaps the file if it is due; running it twice does no harm. */
  reap(fileId: string): Promise<void>;
}
