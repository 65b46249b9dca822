import type { DeadLetter, Job, JobCounts } from './job-queue.js';

/** A claimed job and the token that proves the claim is still ours. */
export interface JobLease {
  job: Job;
  token: string;
  lastError: string | null;
  /** Runs of this job whose worker died before recording an outcome (their leases expired). */
  lostRuns: number;
}

/**
 * Where the embedded queue keeps its jobs: a table in the index database
 * (SQLite or PostgreSQL). Every write to a leased job checks the lease token,
 * so a worker whose lease expired and was taken over cannot finish, retry or
 * dead-letter a job now run by someone else.
 */
export interface JobTable {
  /** Inserts the job unless its dedupe key is taken; either way resolves with the id that holds the key. */
  insert(job: Job, dedupeKey: string | undefined, now: number): Promise<string>;
  /**
   * Leases up to `limit` due jobs (ready ones, and leased ones whose worker
   * stopped renewing), oldest first, each claimed by exactly one caller.
   */
  claim(now: number, leaseMs: number, token: string, limit: number): Promise<JobLease[]>;
  /** False when the lease was lost (it expired and another worker took the job). */
  renew(lease: JobLease, leaseUntil: number): Promise<boolean>;
  complete(lease: JobLease): Promise<void>;
  retry(lease: JobLease, runAt: number, error: string): Promise<void>;
  /** Dead-letters the job, recording `lease.job.attempts` as the runs it had. */
  kill(lease: JobLease, error: string, now: number): Promise<void>;
  counts(now: number): Promise<JobCounts>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
}
