import { LegimError } from '@legim/sdk';

/** A held lease on one resource. */
export interface Lease {
  /** Extends the lease; false if it was lost (expired and taken by someone else). */
  renew(ms: number): Promise<boolean>;
  release(): Promise<void>;
}

/** Where leases live: the index (SQLite on one host, PostgreSQL across hosts), or Redis (Redlock). */
export interface LeaseStore {
  /** Takes the lease if it is free, at once; undefined if someone else holds it. */
  tryAcquire(resource: string, ms: number): Promise<Lease | undefined>;
}

export interface LockOptions {
  /** How long to wait for a lock someone else holds; 0 gives up at once. */
  waitMs: number;
}

const LEASE_MS = 15_000;
const RETRY_MS = 50;

/**
 * Mutual exclusion across every gateway and worker for work of several
 * steps on one file (purging it, repairing its copies). The lease is renewed
 * while the work runs. A holder paused past its lease can lose it without
 * knowing in time, which no lock service can prevent: the `signal` aborts
 * when a renewal fails, and each step of the guarded work is idempotent and
 * checks the index (one transaction) before it acts.
 */
export class LockService {
  constructor(
    private readonly store: LeaseStore,
    private readonly leaseMs = LEASE_MS,
  ) {}

  /** Runs `work` holding `resource`; throws LOCK_BUSY if it stays taken for `waitMs`. */
  async withLock<T>(resource: string, options: LockOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const lease = await this.acquire(resource, options.waitMs);
    const lost = new AbortController();
    const renewal = setInterval(() => {
      lease.renew(this.leaseMs).then(
        (held) => held || lost.abort(lockLost(resource)),
        (error: unknown) => lost.abort(lockLost(resource, error)),
      );
    }, this.leaseMs / 3);
    try {
      return await work(lost.signal);
    } finally {
      clearInterval(renewal);
      await lease.release().catch(() => {
        // It expires by itself.
      });
    }
  }

  private async acquire(resource: string, waitMs: number): Promise<Lease> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lease = await this.store.tryAcquire(resource, this.leaseMs);
      if (lease) return lease;
      if (Date.now() + RETRY_MS > deadline) {
        throw new LegimError('LOCK_BUSY', `${resource} is locked by another gateway or worker`);
      }
      // Jitter keeps contenders from retrying in lockstep.
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * (0.5 + Math.random())));
    }
  }
}

function lockLost(resource: string, cause?: unknown): LegimError {
  return new LegimError('LOCK_BUSY', `the lock on ${resource} was lost`, { cause });
}
