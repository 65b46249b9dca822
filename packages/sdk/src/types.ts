/**
 * The shapes the gateway sends, as documented in `docs/api.md`. Timestamps
 * stay ISO 8601 strings, as on the wire.
 */

/**
 * Where a file's processing is: `processing` right after the upload (the
 * variants are made by workers, never on the request path), then `ready`, or
 * `failed` (with `statusReason`) when the image cannot be processed; the
 * original stays downloadable in every case.
 */
export type FileStatus = 'processing' | 'ready' | 'failed';

/** The variants a gateway makes (see `docs/api.md`); a newer one may add others. */
export type VariantName = 'thumb' | 'small' | 'webp';

/**
 * A processed variant of an image (`thumb`, `small`, `webp`), served by
 * `GET /v1/files/:id/variants/:name` without taking a download.
 */
export interface VariantInfo {
  url: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
}

/** The file object of `GET /v1/files/:id`. Reading it does not take a download. */
export interface FileInfo {
  /** A random UUID. */
  id: string;
  title: string;
  /** Bytes of the original. */
  size: number;
  /** Detected from the bytes, never from the name: `image/jpeg`, `image/png`... */
  contentType: string;
  width: number;
  height: number;
  /** Hex SHA-256 of the original; also its `ETag`. */
  sha256: string;
  maxDownloads: number;
  downloadsLeft: number;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; from this instant every request answers `410 EXPIRED`. */
  expiresAt: string;
  /** The download link, `<gateway>/d/<id>`. */
  url: string;
  /** Durable copies known to the gateway. */
  replicas: number;
  /** Variants ready so far, by name (`thumb`, `small`, `webp`); empty while processing or after a failure. */
  variants: Record<string, VariantInfo>;
  /** `processing` until the variants exist, then `ready`; `failed` (with `statusReason`) if they never will. */
  status: FileStatus;
  /** Why processing failed, when `status` is `failed`. */
  statusReason?: string;
}

/** The answer to an upload: the file object plus the token that deletes it. */
export type UploadedFile = FileInfo & {
  /** Sent only once, in the upload response: keep it to delete the file later. */
  deleteToken: string;
};

/**
 * `GET /v1/health` (admin key). `degraded` when fewer nodes are live than
 * the replica count, or the index or the shared download counter cannot be reached.
 */
export interface Health {
  status: 'ok' | 'degraded';
  nodes: { up: number; suspect: number; down: number };
  /** Where downloads are counted; with Redis unreachable downloads answer 503 until it returns. */
  counter: { backend: 'sqlite' | 'postgres' | 'redis'; reachable: boolean };
  /** Where the index lives; with PostgreSQL unreachable, requests that need it answer 503 until it returns. */
  index: { backend: 'sqlite' | 'postgres'; reachable: boolean };
  /** Live files in the index; null while the index cannot be reached. */
  files: number | null;
  writeQuorum: number;
  replicas: number;
}

/** How the gateway's prober sees a storage node. */
export type NodeStatus = 'up' | 'suspect' | 'down';

/** A storage node's disk, as it reports it in its heartbeats. */
export interface NodeStats {
  blobCount: number;
  usedBytes: number;
  freeBytes: number;
  totalBytes: number;
}

/** One storage node in the tree of `GET /v1/cluster`. */
export interface ClusterNode {
  id: string;
  /** The URL the node advertised; the gateway streams to and from it. */
  url: string;
  /** The node it joined under; `null` for the gateway's own storage. */
  parentId: string | null;
  status: NodeStatus;
  /** `draining`: takes no new copies while its blobs are copied elsewhere; it is removed once empty. */
  membership: 'active' | 'draining';
  /** Latency EWMA of the health probes; `null` before the first probe. */
  latencyMs: number | null;
  /** ISO 8601 time of the last heartbeat. */
  lastSeen: string;
  stats: NodeStats;
  /** Files with a replica on this node. */
  files: number;
}

/** `POST /v1/cluster/nodes/:id/drain` (admin key): the drain has started. */
export interface DrainStarted {
  nodeId: string;
  /** Every node being drained for this request: the node and its subtree, deepest first. */
  draining: string[];
}

/** `GET /v1/cluster` (admin key): the tree, flattened; rebuild it with `parentId`. */
export interface ClusterView {
  gateway: { id: string; url: string };
  nodes: ClusterNode[];
}

/**
 * `GET /v1/stats` (admin key): the numbers of one gateway, read cheaply at
 * `at`. Files, variants, replication and nodes are shared by the gateways of
 * one index; `traffic` is counted by this gateway alone since it started.
 */
export interface Stats {
  /** ISO 8601 time the numbers were read. */
  at: string;
  /** Seconds since this gateway started. */
  uptimeSeconds: number;
  /**
   * Files in the index that can still be served (`live`: not deleted, not
   * expired, downloads left) and the bytes of their originals; `processing`
   * and `failed` count those live files by processing status.
   */
  files: { live: number; bytes: number; processing: number; failed: number };
  /** Variants (previews) of the files in the index, and their bytes. */
  variants: { count: number; bytes: number };
  /**
   * Counted by this gateway since it started: uploads accepted and their
   * bytes, downloads served (one per download taken) and the bytes sent,
   * and downloads `refused` (410 exhausted/expired/deleted, 404 unknown).
   */
  traffic: { uploads: number; uploadBytes: number; downloads: number; downloadBytes: number; refused: number };
  /**
   * Copies kept of each file (`target`), and live files with fewer durable
   * copies on nodes that are not down than they want; recounted in the
   * background at most every 5 s, so it may lag by that much.
   */
  replication: { target: number; underReplicated: number };
  /**
   * The job queue: jobs due and `waiting` for a worker (delayed ones and
   * retries not counted), `running` (with RabbitMQ: those this gateway's own
   * consumer holds) and `deadLettered` (given up on after their retries).
   * All three are -1 while the queue cannot be read (RabbitMQ unreachable).
   */
  jobs: { backend: 'sqlite' | 'postgres' | 'rabbitmq'; waiting: number; running: number; deadLettered: number };
  /** Storage nodes by status, and the disks of those not down, summed from their latest heartbeats. */
  nodes: { up: number; suspect: number; down: number; usedBytes: number; freeBytes: number; totalBytes: number };
}

/**
 * One event of `GET /v1/events`, as this gateway saw it happen (each gateway
 * has its own stream: with several gateways, subscribe to each).
 * `at` is an ISO 8601 time.
 */
export type LegimEvent =
  | { type: 'file.uploaded'; at: string; fileId: string; size: number; contentType: string }
  | { type: 'file.downloaded'; at: string; fileId: string; downloadsLeft: number; bytes: number }
  | { type: 'file.processed'; at: string; fileId: string; status: 'ready' | 'failed' }
  | { type: 'file.deleted'; at: string; fileId: string; reason: 'deleted' | 'expired' | 'used-up' }
  | { type: 'node.status'; at: string; nodeId: string; status: NodeStatus; previous: NodeStatus | null }
  | { type: 'node.joined'; at: string; nodeId: string; url: string; parentId: string | null }
  | { type: 'replica.repaired'; at: string; fileId: string; blobKey: string; nodeId: string }
  | { type: 'node.draining'; at: string; nodeId: string; draining: string[] }
  | { type: 'node.removed'; at: string; nodeId: string };

/** The `type` of a {@link LegimEvent}. */
export type LegimEventType = LegimEvent['type'];

/** Where an index rebuild stands (`GET /v1/index/rebuild`); times are ISO 8601. */
export interface IndexRebuildProgress {
  state: 'idle' | 'running' | 'done' | 'failed';
  startedAt: string | null;
  finishedAt: string | null;
  nodes: {
    /** Storage nodes the gateway knew when the rebuild started. */
    total: number;
    /** Nodes whose whole listing has been read. */
    scanned: number;
    /** Nodes down when the rebuild started, not read: run the rebuild again once they are back. */
    unreachable: string[];
  };
  /** Copies listed (one per blob per node). */
  blobsSeen: number;
  filesRestored: number;
  variantsRestored: number;
  skipped: {
    /** The index still has the file: never overwritten. */
    alreadyIndexed: number;
    /** An upload or copy of it was under way: left to it. */
    inFlight: number;
    /** A node keeps a tombstone of it (or the index does): stays deleted, copies queued for deletion. */
    deleted: number;
    /** Past its expiry: stays gone, copies queued for deletion. */
    expired: number;
    /** Its checkpoint reached its limit: stays gone, copies queued for deletion. */
    exhausted: number;
  };
  /** Blobs without valid sidecar meta, and variants whose original is nowhere: never recorded or served. */
  orphans: { count: number; keys: string[] };
  /** Copies whose size or digest differs from the other copies of their blob (`key@node`): not recorded. */
  mismatches: { count: number; keys: string[] };
  /** Files looked at (restored or skipped) per second of the rebuild so far. */
  filesPerSecond: number;
  lastError: string | null;
}

/** What an API key may do: `upload` files, `read` (list) its own files, `admin` everything the admin key may. */
export type KeyScope = 'upload' | 'read' | 'admin';

/** The limits of one API key; an absent limit is none (the gateway's own limits still apply). */
export interface KeyQuotas {
  /** Bytes its live files may hold together (originals). */
  maxBytes?: number;
  /** Live files it may hold at once. */
  maxFiles?: number;
  /** Largest file it may upload, in bytes. */
  maxFileBytes?: number;
  /** Longest time to live it may give a file, in seconds. */
  maxTtlSeconds?: number;
  /** Most downloads it may give a file. */
  maxDownloads?: number;
}

/** An API key as `GET /v1/keys` lists it (admin); the secret is never shown again after creation. */
export interface ApiKey {
  /** The key's id, also the start of its secret (`lgm_<id>_…`). */
  id: string;
  name: string;
  scopes: KeyScope[];
  quotas: KeyQuotas;
  /** ISO 8601 times. */
  createdAt: string;
  revokedAt: string | null;
  /** What its live files hold now. */
  usage: { files: number; bytes: number };
}

/** `POST /v1/keys` (admin): the new key, with its secret, shown this once. */
export interface CreatedKey extends ApiKey {
  /** The bearer token to send as `Authorization: Bearer <secret>`. Only its hash is stored. */
  secret: string;
}
