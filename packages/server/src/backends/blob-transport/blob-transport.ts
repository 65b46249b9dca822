import type { Readable, Writable } from 'node:stream';
import type { NodeStats } from '../../metadata/types.js';

export interface StoredBlob {
  size: number;
  sha256: string;
}

/** An upload to one node in progress: write the bytes, then commit with their digest. */
export interface BlobUpload {
  readonly stream: Writable;
  /** Ends the body with the digest; resolves once the node has the blob durably. */
  commit(sha256: string): Promise<StoredBlob>;
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
  openUpload(key: string, meta: Record<string, unknown>): BlobUpload;
  read(key: string, range?: { start: number; end?: number }): Promise<BlobRead>;
  /** The blob's size and digest, or undefined when the node does not have it. */
  stat(key: string): Promise<StoredBlob | undefined>;
  delete(key: string): Promise<void>;
  /** Round trip to the node; throws when it does not answer. */
  probe(): Promise<NodeStats>;
  close(): Promise<void>;
}
