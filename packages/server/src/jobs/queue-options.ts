import { randomUUID } from 'node:crypto';
import type { ConsumeOptions, DeadLetter, Job, JobQueueOptions, NewJob } from './job-queue.js';

export type ResolvedOptions = Required<JobQueueOptions>;

const DEFAULTS: ResolvedOptions = {
  maxAttempts: 5,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  leaseMs: 30_000,
  pollMs: 100,
  prefix: 'legim',
};

export function resolveOptions(options: JobQueueOptions = {}): ResolvedOptions {
  const resolved = { ...DEFAULTS, ...withoutUndefined(options) };
  if (!/^[A-Za-z0-9_]+$/.test(resolved.prefix)) {
    throw new TypeError(`job queue prefix "${resolved.prefix}" may hold only letters, digits and "_"`);
  }
  for (const key of ['maxAttempts', 'backoffBaseMs', 'backoffMaxMs', 'leaseMs', 'pollMs'] as const) {
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

/** Every distinct retry delay a job can meet before it is dead-lettered. */
export function retryDelays(options: ResolvedOptions): number[] {
  const delays = new Set<number>();
  for (let attempts = 1; attempts < options.maxAttempts; attempts++) delays.add(retryDelay(attempts, options));
  return [...delays];
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

/** Runs a consumer's dead-letter hook. A failing hook is logged: the dead letter is recorded all the same. */
export async function notifyDeadLetter(hook: ConsumeOptions['onDeadLetter'], letter: DeadLetter): Promise<void> {
  try {
    await hook?.(letter);
  } catch (error) {
    console.error(`legim: reacting to the dead-lettered job ${letter.job.id} failed:`, error);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
