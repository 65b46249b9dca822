import type { ErrorBody } from './protocol/errors.js';
/**
 * The one error family of Legim. Every failure that crosses a process
 * boundary carries a stable `code`; the HTTP status is derived from the code
 * in exactly one place (this table), so the server, the storage nodes and the
 * SDK always agree.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  INVALID_OPTION: 400,
  EMPTY_BODY: 400,
  INVALID_IMAGE: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IMAGE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_KEY: 400,
  DIGEST_MISMATCH: 422,
  UNAUTHORIZED: 401,
  /** An API key that was revoked: it never works again; ask the operator for a new one. */
  KEY_REVOKED: 401,
  FORBIDDEN: 403,
  /** The API key lacks the scope the request needs (`upload`, `read` or `admin`). */
  MISSING_SCOPE: 403,
  /** The file is larger than the key's largest-file quota. */
  QUOTA_FILE_TOO_LARGE: 413,
  /** The key's files would hold more bytes than its quota. */
  QUOTA_BYTES_EXCEEDED: 403,
  /** The key holds as many files as its quota allows. */
  QUOTA_FILES_EXCEEDED: 403,
  /** The upload asks for a longer time to live than the key may give. */
  QUOTA_TTL_EXCEEDED: 403,
  /** The upload asks for more downloads than the key may give a file. */
  QUOTA_DOWNLOADS_EXCEEDED: 403,
  /** Too many requests from this key or address: retry after `details.retryAfter` seconds. */
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  BLOB_NOT_FOUND: 404,
  VARIANT_NOT_READY: 404,
  VARIANT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /**
   * Plain HTTP sent to a port that serves HTTPS; or, never over HTTP, a process
   * that uses TLS refusing to send the cluster secret to an http:// peer.
   */
  TLS_REQUIRED: 400,
  /** A drain that would leave too few nodes for the copies every file needs, or of the gateway's own store. */
  CANNOT_DRAIN: 409,
  RANGE_NOT_SATISFIABLE: 416,
  DOWNLOADS_EXHAUSTED: 410,
  EXPIRED: 410,
  DELETED: 410,
  INSUFFICIENT_STORAGE: 507,
  /** A stored copy of an encrypted blob failed authentication (changed on disk, or opened with the wrong key). */
  BLOB_CORRUPT: 500,
  /**
   * The master key that wrapped a file's key is not among the gateway's
   * (`--master-key-file`, `LEGIM_MASTER_KEY`): the file cannot be read until it is given back.
   */
  MASTER_KEY_MISSING: 503,
  NO_STORAGE_NODES: 503,
  REPLICATION_FAILED: 503,
  UNAVAILABLE: 503,
  /** The shared download counter (Redis) cannot be reached: downloads fail closed rather than over-serve. */
  COUNTER_UNAVAILABLE: 503,
  /**
   * Too few copies of a file acknowledged its download checkpoint (what keeps
   * an index rebuilt from the nodes within the limit): the download was not served.
   */
  CHECKPOINT_FAILED: 503,
  /** An index rebuild is already running. */
  REBUILD_RUNNING: 409,
  /** The index database (PostgreSQL) cannot be reached: requests that need it fail closed until it is back. */
  INDEX_UNAVAILABLE: 503,
  /** `legim index copy` into a database that already holds an index. */
  INDEX_NOT_EMPTY: 409,
  /** Another gateway or worker holds the lock on this resource. */
  LOCK_BUSY: 503,
  /** Client side only: the SDK could not reach the server, or the connection broke. */
  NETWORK_ERROR: 502,
  /** Client side only: a local file could not be read (upload) or written (download). */
  IO_ERROR: 500,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

const BRAND = Symbol.for('legim.error');

export interface LegimErrorOptions {
  cause?: unknown;
  /** Overrides the status derived from the code (used when rebuilding a server reply). */
  statusCode?: number;
  /** Extra, machine-readable facts (e.g. `retryAfter` seconds). */
  details?: Record<string, unknown>;
}

export class LegimError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: LegimErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LegimError';
    this.code = code;
    this.statusCode = options.statusCode ?? ERROR_CODES[code];
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Works across duplicate installs of the package, unlike `instanceof`. */
  static is(value: unknown): value is LegimError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Rebuilds a typed error from a server reply (status plus parsed JSON body, if
 * any). `details` carries facts from the reply's headers, e.g. `retryAfter`.
 */
export function errorFromResponse(statusCode: number, body: unknown, details?: Record<string, unknown>): LegimError {
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  if (error && isErrorCode(error.code)) {
    const gone = error.gone === undefined ? {} : { gone: error.gone };
    return new LegimError(error.code, String(error.message ?? error.code), {
      statusCode,
      details: details || error.gone ? { ...details, ...gone } : undefined,
    });
  }
  // An unknown code (a newer server) or no JSON at all: keep the status and any message.
  const code: ErrorCode = statusCode === 404 ? 'NOT_FOUND' : statusCode >= 500 ? 'UNAVAILABLE' : 'BAD_REQUEST';
  const message =
    typeof error?.message === 'string' && error.message !== ''
      ? error.message
      : `the server answered HTTP ${statusCode}`;
  return new LegimError(code, message, { statusCode, details });
}
