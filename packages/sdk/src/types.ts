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
 * the replica count, or the shared download counter cannot be reached.
 */
export interface Health {
  status: 'ok' | 'degraded';
  nodes: { up: number; suspect: number; down: number };
  /** Where downloads are counted; with Redis unreachable downloads answer 503 until it returns. */
  counter: { backend: 'sqlite' | 'redis'; reachable: boolean };
  files: number;
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
  /** Latency EWMA of the health probes; `null` before the first probe. */
  latencyMs: number | null;
  /** ISO 8601 time of the last heartbeat. */
  lastSeen: string;
  stats: NodeStats;
  /** Files with a replica on this node. */
  files: number;
}

/** `GET /v1/cluster` (admin key): the tree, flattened; rebuild it with `parentId`. */
export interface ClusterView {
  gateway: { id: string; url: string };
  nodes: ClusterNode[];
}
