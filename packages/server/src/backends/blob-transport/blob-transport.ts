import type { Readable, Writable } from 'node:stream';
import type { SidecarPage, TombstonePage } from '@legim/node';
import type { NodeStats } from '../../metadata/types.js';

export interface StoredBlob {
  size: number;
  sha256: string;
}

/** A stored blob with what its sidecar says beyond size and digest, what a copy of it must keep. */
export interface BlobStat extends StoredBlob {
  /** The writer's `Legim-Meta`, or null. */
  meta: unknown;
  /** The download checkpoint, if one was ever written. */
  downloadsTaken: number | undefined;
}

export interface UploadOptions {
  /** The download checkpoint the copy starts with (a repair copying a blob that has one). */
  downloadsTaken?: number;
}

/** An upload to one node in progress: write the bytes, then commit with their digest. */
export interface BlobUpload {
  readonly stream: Writable;
  /**
   * Ends the body with the digest; resolves once the node has the blob durably.
   * `meta` replaces the one given to `openUpload`, for what was learnt while the bytes streamed.
   */
  commit(sha256: string, meta?: Record<string, unknown>): Promise<StoredBlob>;
  /** Gives up: the node keeps nothing. */
  abort(reason: Error): void;
}

export interface BlobRead {
  stream: Readable;
  /** Size of the whole blob. */
  size: number;
  sha256: string;
  /** First and last byte (inclusive) of what the stream carries. */
  start: number;
  end: number;
}

/**
 * How the gateway reaches one storage node's blobs: over HTTP for a node
 * process, directly for the gateway's own disk.
 */
export interface BlobTransport {
  readonly nodeId: string;
  openUpload(key: string, meta: Record<string, unknown>, options?: UploadOptions): BlobUpload;
  read(key: string, range?: { start: number; end?: number }): Promise<BlobRead>;
  /** The blob's size, digest, meta and checkpoint, or undefined when the node does not have it. */
  stat(key: string): Promise<BlobStat | undefined>;
  /** Removes the blob; with `tombstone` the node remembers the key was deleted (for 7 days). */
  delete(key: string, options?: { tombstone?: boolean }): Promise<void>;
  /**
   * Raises the blob's download checkpoint (never lowers it); resolves with the
   * one now stored, once durable. `BLOB_NOT_FOUND` if the node lacks the blob.
   */
  checkpoint(key: string, downloadsTaken: number): Promise<number>;
  /** One page of blobs with their whole sidecars, in key order. */
  listSidecars(after: string | undefined, limit: number): Promise<SidecarPage>;
  /** One page of the node's tombstones, in key order. */
  listTombstones(after: string | undefined, limit: number): Promise<TombstonePage>;
  /** Round trip to the node; throws when it does not answer. */
  probe(): Promise<NodeStats>;
  close(): Promise<void>;
}
