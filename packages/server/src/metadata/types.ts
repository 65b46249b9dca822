export type FileStatus = 'processing' | 'ready' | 'failed';
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
  /** Why processing failed, when it did. */
  statusReason: string | null;
  replicasWanted: number;
  /** The API key that uploaded it; null for an anonymous upload or the admin key. */
  keyId: string | null;
  /** How the original is stored when it is encrypted (`size` and `sha256` above are the plaintext's); absent in clear. */
  sealed?: SealedCopy;
}

/** What the storage nodes hold of an encrypted blob: the size and SHA-256 they verify, scrub and copy. */
export interface SealedCopy {
  size: number;
  sha256: string;
}

/** A file's data key as the index keeps it: wrapped by the master key `kid`. */
export interface WrappedKey {
  kid: string;
  /** base64 of the AES-256-GCM nonce, wrapped key and tag. */
  wrapped: string;
}

/**
 * A key's quotas that the index enforces in the transaction that records a
 * file, against what the key's live files hold, so concurrent uploads
 * (on any gateway of the index) never overrun them together.
 */
export interface StoredQuota {
  maxFiles?: number;
  maxBytes?: number;
}

/** A derived image (thumbnail, compressed copy), stored and replicated like an original. */
export interface VariantRecord {
  name: string;
  contentType: string;
  width: number;
  height: number;
  size: number;
  sha256: string;
  /** How it is stored when its file is encrypted. */
  sealed?: SealedCopy;
}

export interface Tombstone {
  id: string;
  reason: DeleteReason;
  deletedAt: number;
  /** When the file's data key was destroyed (an encrypted file); absent for a file stored in clear. */
  keyDestroyedAt?: number;
}

export interface BlobLocation {
  key: string;
  nodeId: string;
}

/**
 * Whether a node belongs to the cluster: `draining` takes no new copies while
 * its blobs are copied elsewhere; `removed` was drained and is not used.
 */
export type NodeMembership = 'active' | 'draining' | 'removed';

export interface NodeRecord {
  id: string;
  url: string;
  parentId: string | null;
  lastSeen: number;
  stats: NodeStats;
  /** Read from the store; a heartbeat never changes it (absent means `active`). */
  membership?: NodeMembership;
  /** The node process's boot id from its last join. */
  bootId?: string;
}

export interface NodeStats {
  blobCount: number;
  usedBytes: number;
  freeBytes: number;
  totalBytes: number;
  /** The filesystem it stores on (absent from older nodes): nodes sharing one are counted once. */
  filesystem?: { id: string; totalBytes: number; freeBytes: number };
}

/** A blob (an original or a variant) of a live file, with what repairing it takes. */
export interface StoredBlob {
  file: FileRecord;
  /** An original's key is its file id; a variant's is `<file id>.<name>`. */
  key: string;
  /** As the nodes hold it: the sealed form's when the file is encrypted. */
  size: number;
  sha256: string;
  copies: ReplicaState[];
}

/** What `restoreFiles` did with a file rebuilt from the nodes. */
export type RestoreOutcome =
  /** Recorded, with its copies and variants. */
  | 'restored'
  /** The index has the file already: left as it is. */
  | 'present'
  /** The index has a tombstone of it. */
  | 'deleted'
  /** An upload or copy of it is under way (an intent or a pending delete of its original): left to that. */
  | 'in-flight';

/** A file rebuilt from the nodes' sidecars: the nodes holding its original, and its variants with theirs. */
export interface RestoredFile {
  file: FileRecord;
  nodeIds: string[];
  variants: { variant: VariantRecord; nodeIds: string[] }[];
}

export interface ReplicaState {
  nodeId: string;
  durable: boolean;
}

/** What the owner of a live file may change after the upload (`PATCH /v1/files/:id`); absent: unchanged. */
export interface LimitsChange {
  /** The new total limit; the downloads already taken stay taken. */
  maxDownloads?: number;
  expiresAt?: number;
}

/** Which live files a listing wants; every filter given must match. */
export interface FileFilter {
  keyId?: string;
  status?: FileStatus;
  /** Files that expire before this instant. */
  expiringBefore?: number;
}

/** The files of the index: their records, limits, lifecycle and variants. */
export interface FileIndex {
  /**
   * Records a file and its replicas, and clears its upload intent, in one
   * transaction. With a quota, the file's key must stay within it with this
   * file too: otherwise nothing is recorded and it throws
   * `QUOTA_FILES_EXCEEDED` or `QUOTA_BYTES_EXCEEDED`. An encrypted file
   * comes with its wrapped data key, recorded in the same transaction.
   */
  insertFile(
    file: FileRecord,
    replicas: { durable: string[]; pending: string[] },
    now: number,
    quota?: StoredQuota,
    key?: WrappedKey,
  ): Promise<void>;
  getFile(id: string): Promise<FileRecord | undefined>;
  getTombstone(id: string): Promise<Tombstone | undefined>;
  /**
   * Records a file's variants with the nodes holding each, clears their
   * intents and marks the file ready, in one transaction; false if the file is gone.
   */
  recordVariants(
    fileId: string,
    variants: { variant: VariantRecord; nodeIds: string[] }[],
    now: number,
  ): Promise<boolean>;
  listVariants(fileId: string): Promise<VariantRecord[]>;
  markFailed(fileId: string, reason: string): Promise<void>;
  /** Live files still `processing` that were uploaded before `before`. */
  staleProcessing(before: number, limit: number): Promise<string[]>;
  /** Marks a file for deletion at `at` unless an earlier deletion is already due. */
  scheduleDeletion(id: string, at: number, reason: DeleteReason): Promise<boolean>;
  /** Files whose deletion time or expiry has passed. */
  dueForDeletion(now: number, limit: number): Promise<FileRecord[]>;
  /**
   * Atomically replaces a file by a tombstone and turns each replica into a
   * pending blob delete, so no blob is forgotten even if the gateway stops now.
   * An encrypted file's data key goes with the row, before any blob delete
   * is sent: the tombstone records when (`keyDestroyedAt`, kept from an
   * earlier `destroyFileKey`).
   */
  purgeFile(id: string, reason: DeleteReason, now: number): Promise<void>;
  countFiles(): Promise<number>;
  /**
   * Changes a live file's limits in one conditional statement: its
   * download limit (downloads left move with it) and its expiry. Undefined,
   * changing nothing, when the file is not live at `now` (unknown, expired,
   * deleted, used up) or the new limit is not above the downloads already
   * taken; the caller reads the file to tell which.
   */
  changeLimits(id: string, change: LimitsChange, now: number): Promise<FileRecord | undefined>;
  /** Live files (not expired at `now`, not marked for deletion) that match `filter`, in id order after `afterId`. */
  listLiveFiles(filter: FileFilter, afterId: string, limit: number, now: number): Promise<FileRecord[]>;
}

/** Which node holds which blob, and the copies an upload may have left before it was recorded. */
export interface ReplicaIndex {
  /**
   * Before an upload streams: remembers that `key` may land on these nodes,
   * so the copies are removed after `until` unless the file gets recorded.
   */
  recordUploadIntent(key: string, nodeIds: string[], until: number): Promise<void>;
  /** An upload that failed: its possible copies are to be removed now. */
  abandonUpload(key: string, now: number): Promise<void>;
  /** Nodes that hold or may hold a blob (an original's key is its file id): durable copies first. */
  replicaNodes(blobKey: string): Promise<string[]>;
  /** Records a durable copy of a file's blob (new, or a pending one confirmed) and clears its intent; false if the file is gone. */
  addReplica(fileId: string, blobKey: string, nodeId: string, now: number): Promise<boolean>;
  /** Forgets a copy that failed, vanished or sits on a lost node, and queues its removal from the node. */
  dropReplica(blobKey: string, nodeId: string, now: number): Promise<void>;
  /** Every node that holds or may hold a blob, and whether its copy is confirmed. */
  replicaStates(blobKey: string): Promise<ReplicaState[]>;
  /** Pending copies older than `before`, to be checked against their node. */
  stalePendingReplicas(before: number, limit: number): Promise<{ file: FileRecord; nodeId: string }[]>;
  /**
   * One page of a walk over every blob in key order: the `limit` keys after
   * `afterKey`, of which `short` are those with fewer copies than their file
   * wants; `lastKey` is undefined once the walk reached the end.
   */
  walkBlobs(afterKey: string, limit: number): Promise<{ lastKey: string | undefined; short: string[] }>;
  /** Keys of blobs with a copy on `nodeId`, in key order after `afterKey`. */
  blobKeysOnNode(nodeId: string, afterKey: string, limit: number): Promise<string[]>;
  /** Blob keys of a file: its original and its variants. */
  blobKeysOfFile(fileId: string): Promise<string[]>;
  /** Those of `keys` that belong to live files, with their copies. */
  storedBlobs(keys: string[], now: number): Promise<StoredBlob[]>;
  /** Originals recorded on each node. */
  fileCountsByNode(): Promise<Map<string, number>>;
}

/**
 * The wrapped data keys of encrypted files. A key lives only here, never on
 * a node and never in a cache: destroying it here makes every copy of the
 * file, anywhere, unreadable at once (crypto-shred).
 */
export interface FileKeyIndex {
  /** The file's wrapped data key; undefined when the file is gone, stored in clear, or its key destroyed. */
  wrappedKey(fileId: string): Promise<WrappedKey | undefined>;
  /** Destroys the file's data key now (a DELETE, before the grace period ends); false if it had none left. */
  destroyFileKey(fileId: string, now: number): Promise<boolean>;
  /** Live keys wrapped by another master key than `kid`, in file id order after `afterId`. */
  keysNotWrappedBy(kid: string, afterId: string, limit: number): Promise<{ fileId: string; key: WrappedKey }[]>;
  /** Replaces a wrapped key if it is still `from` (a key destroyed or rewrapped meanwhile stays so); false otherwise. */
  rewrapFileKey(fileId: string, from: WrappedKey, to: WrappedKey): Promise<boolean>;
  /** Live data keys per master key id. */
  fileKeyCounts(): Promise<Record<string, number>>;
}

/** The storage nodes that joined, with their last heartbeat and membership. */
export interface NodeDirectory {
  /** Records a join or heartbeat; leaves the node's membership as it is. */
  upsertNode(node: NodeRecord): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  setNodeMembership(nodeId: string, membership: NodeMembership): Promise<void>;
  /** Copies recorded on a node, and blob removals still to be sent to it. */
  nodeBlobCounts(nodeId: string): Promise<{ copies: number; pendingDeletes: number }>;
}

/** Blob removals owed to nodes, retried until each node confirms. */
export interface BlobDeleteQueue {
  /** Remembers blobs to remove from nodes. */
  queueBlobDeletes(locations: BlobLocation[], now: number): Promise<void>;
  /**
   * Removals due on the given nodes, oldest first. Only reachable nodes are
   * asked for, so the backlog of a node that is down never holds up the others.
   */
  pendingBlobDeletes(now: number, limit: number, nodeIds: string[]): Promise<BlobLocation[]>;
  clearPendingBlobDelete(location: BlobLocation): Promise<void>;
  /** A removal the node refused is retried from `at`, behind the others. */
  deferPendingBlobDelete(location: BlobLocation, at: number): Promise<void>;
}

/** What an index rebuild writes: files found on the nodes, and files found there that must stay gone. */
export interface IndexRestore {
  /**
   * Records files restored from the nodes' sidecars, each with its durable
   * copies and its variants with theirs, in one transaction (a batch: one
   * commit for many files). A file is recorded only if the index has
   * neither it nor a tombstone of it and no pending delete or intent names
   * its original; nothing is ever overwritten. Answers one outcome per file,
   * in order.
   */
  restoreFiles(files: RestoredFile[], now: number): Promise<RestoreOutcome[]>;
  /**
   * A file found on the nodes that must stay gone (deleted, expired, used
   * up): records its tombstone unless the index has one, and queues the
   * removal of `locations` unless already queued, in one transaction; false,
   * changing nothing, when the index has the file.
   */
  restoreTombstone(tombstone: Tombstone, locations: BlobLocation[]): Promise<boolean>;
}

/**
 * The gateway's whole index, as one engine (SQLite or PostgreSQL) keeps it.
 * Services take the roles they use; the engine implements them all, so a
 * transaction can span roles (a purge turns replicas into blob deletes).
 */
export interface MetadataStore
  extends FileIndex, FileKeyIndex, ReplicaIndex, NodeDirectory, BlobDeleteQueue, IndexRestore {}

/** How long a deleted id keeps answering 410 instead of 404. */
export const TOMBSTONE_MS = 7 * 24 * 3600 * 1000;
