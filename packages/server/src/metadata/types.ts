export type FileStatus = 'stored';
export type DeleteReason = 'expired' | 'exhausted' | 'deleted';

/** One stored image as the gateway's index knows it. Times are epoch milliseconds. */
export interface FileRecord {
  id: string;
  title: string;
  size: number;
  contentType: string;
  extension: string;
  width: number;
  height: number;
  sha256: string;
  maxDownloads: number;
  downloadsLeft: number;
  createdAt: number;
  expiresAt: number;
  /** When the blobs are to be removed (after the last download, or on DELETE). */
  deleteAt: number | null;
  deleteReason: DeleteReason | null;
  deleteTokenHash: string;
  status: FileStatus;
  replicasWanted: number;
}

export interface Tombstone {
  id: string;
  reason: DeleteReason;
  deletedAt: number;
}

export interface BlobLocation {
  key: string;
  nodeId: string;
}

export interface NodeRecord {
  id: string;
  url: string;
  parentId: string | null;
  lastSeen: number;
  stats: NodeStats;
}

export interface NodeStats {
  blobCount: number;
  usedBytes: number;
  freeBytes: number;
  totalBytes: number;
}

export interface UnderReplicatedFile {
  file: FileRecord;
  nodeIds: string[];
}

/**
 * The gateway's index of files, replicas, nodes and pending work. SQLite in
 * every deployment (several gateways on one host share the WAL database); the
 * nodes' sidecars allow rebuilding it.
 */
export interface MetadataStore {
  insertFile(file: FileRecord, replicaNodeIds: string[]): Promise<void>;
  getFile(id: string): Promise<FileRecord | undefined>;
  getTombstone(id: string): Promise<Tombstone | undefined>;
  replicaNodes(fileId: string): Promise<string[]>;
  addReplica(fileId: string, nodeId: string): Promise<boolean>;
  /** Marks a file for deletion at `at` unless an earlier deletion is already due. */
  scheduleDeletion(id: string, at: number, reason: DeleteReason): Promise<boolean>;
  /** Files whose deletion time or expiry has passed. */
  dueForDeletion(now: number, limit: number): Promise<FileRecord[]>;
  /**
   * Atomically replaces a file by a tombstone and turns each replica into a
   * pending blob delete, so no blob is forgotten even if the gateway stops now.
   */
  purgeFile(id: string, reason: DeleteReason, now: number): Promise<void>;
  /** Remembers blobs to remove from nodes (retried until each node confirms). */
  queueBlobDeletes(locations: BlobLocation[], now: number): Promise<void>;
  pendingBlobDeletes(limit: number): Promise<BlobLocation[]>;
  clearPendingBlobDelete(location: BlobLocation): Promise<void>;
  underReplicated(limit: number): Promise<UnderReplicatedFile[]>;
  upsertNode(node: NodeRecord): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  countFiles(): Promise<number>;
  fileCountsByNode(): Promise<Map<string, number>>;
  close(): Promise<void>;
}
