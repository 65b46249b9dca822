import { LegimError, type ErrorCode } from '@legim/sdk';

/**
 * The errors that mean "something this job needs is unreachable right now",
 * not "this job is wrong". A run that ends in one of them says nothing about
 * the job, so it spends no attempt: the job waits (exponential back-off,
 * capped) and runs again, for as long as the outage lasts. Everything else,
 * a bad image, a sharp error, a bug, any untyped error, is the job's own
 * failure and counts toward `maxAttempts`.
 *
 * - UNAVAILABLE: a gateway, storage node or peer did not answer (or said 503).
 * - NETWORK_ERROR: the SDK's own word for the same, client side.
 * - INDEX_UNAVAILABLE: the index database (PostgreSQL) is down.
 * - COUNTER_UNAVAILABLE: the download counter (Redis) is down.
 * - NO_STORAGE_NODES, REPLICATION_FAILED: too few storage nodes answer to store the copies a file needs.
 * - LOCK_BUSY: another gateway or worker holds the file's lock; it will let go.
 * - CHECKPOINT_FAILED: too few copies answered a checkpoint write, i.e. nodes unreachable.
 *
 * Not listed, on purpose: INSUFFICIENT_STORAGE (full disks need an operator,
 * waiting forever would hide it) and INTERNAL (a bug, or a malformed answer).
 */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'UNAVAILABLE',
  'NETWORK_ERROR',
  'INDEX_UNAVAILABLE',
  'COUNTER_UNAVAILABLE',
  'NO_STORAGE_NODES',
  'REPLICATION_FAILED',
  'LOCK_BUSY',
  'CHECKPOINT_FAILED',
]);

/** True when the error means a dependency is unreachable (see above), so the run must not count as an attempt. */
export function isTransient(error: unknown): boolean {
  return LegimError.is(error) && TRANSIENT_CODES.has(error.code);
}
