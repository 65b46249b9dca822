import { randomUUID } from 'node:crypto';
import type { Job, JobQueueOptions, NewJob } from './job-queue.js';

export type ResolvedOptions = Required<JobQueueOptions>;

const DEFAULTS: Omit<ResolvedOptions, 'logger'> = {
  maxAttempts: 5,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  transientBackoffMaxMs: 30_000,
  leaseMs: 30_000,
  pollMs: 100,
  prefix: 'legim',
};

export function resolveOptions(options: JobQueueOptions): ResolvedOptions {
  const resolved = { ...DEFAULTS, ...withoutUndefined(options), logger: options.logger };
  if (!/^[A-Za-z0-9_]+$/.test(resolved.prefix)) {
    throw new TypeError(`job queue prefix "${resolved.prefix}" may hold only letters, digits and "_"`);
  }
  for (const key of [
    'maxAttempts',
    'backoffBaseMs',
    'backoffMaxMs',
    'transientBackoffMaxMs',
    'leaseMs',
    'pollMs',
  ] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) {
      throw new TypeError(`job queue option ${key} must be a positive integer, got ${resolved[key]}`);
    }
  }
  return resolved;
}

export function assertConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`consumer concurrency must be a positive integer, got ${concurrency}`);
  }
}

/** Delay after the `attempts`-th failed run: base, 2×base, 4×base... capped. */
export function retryDelay(attempts: number, options: ResolvedOptions): number {
  return Math.min(options.backoffBaseMs * 2 ** Math.max(0, attempts - 1), options.backoffMaxMs);
}

/**
 * Delay after the `waits`-th run in a row that a dependency's outage cut
 * short: the same doubling from base, capped at `transientBackoffMaxMs`,
 * so a job notices soon enough that the outage is over, however long it was.
 */
export function waitDelay(waits: number, options: ResolvedOptions): number {
  return Math.min(options.backoffBaseMs * 2 ** Math.max(0, waits - 1), options.transientBackoffMaxMs);
}

/** Every distinct delay a job can meet: retries before it is dead-lettered, and waits, however many. */
export function retryDelays(options: ResolvedOptions): number[] {
  const delays = new Set<number>();
  for (let attempts = 1; attempts < options.maxAttempts; attempts++) delays.add(retryDelay(attempts, options));
  for (let waits = 1; ; waits++) {
    const delay = waitDelay(waits, options);
    delays.add(delay);
    if (delay >= options.transientBackoffMaxMs) break;
  }
  return [...delays].sort((a, b) => a - b);
}

/** The job a new enqueue describes, before its first run. */
export function newJob(job: NewJob): Job {
  return {
    id: randomUUID(),
    type: job.type,
    fileId: job.fileId,
    ...(job.runAt === undefined ? {} : { runAt: job.runAt }),
    attempts: 0,
    ...(job.payload === undefined ? {} : { payload: job.payload }),
  };
}

/** Why a job was given up on when its worker died during its last attempt. */
export function workerDiedReason(deaths: number, lastError: string | null | undefined): string {
  const times = deaths === 1 ? 'once' : `${deaths} times`;
  return `the worker died ${times} while running this job${lastError ? `; before that a run failed with: ${lastError}` : ''}`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
