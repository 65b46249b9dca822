import type { DeadLetter, Job, JobCounts } from './job-queue.js';

/** A claimed job and the token that proves the claim is still ours. */
export interface JobLease {
  job: Job;
  token: string;
  lastError: string | null;
  /** Runs of this job whose worker died before recording an outcome (their leases expired). */
  lostRuns: number;
  /** Runs in a row, just before this one, that a dependency's outage cut short (given back, not counted). */
  waits: number;
  /**
   * The job was given up on, but its dead-letter hook could not reach what it
   * needed: this run only calls the hook again (`lastError` is the reason).
   */
  givingUp: boolean;
}

/** How a run that is to be tried again is recorded. */
export interface RetryKind {
  /**
   * True: the run was the job's own failure and spends its attempt. False: a
   * dependency was unreachable; the attempt the claim took is given back
   * (attempts becomes `lease.job.attempts - 1`) and the wait is counted instead.
   */
  counted: boolean;
  /** The next run only calls the dead-letter hook again (see `JobLease.givingUp`). */
  givingUp?: boolean;
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
  /** Makes the job due again at `runAt`; see `RetryKind` for what the run costs. */
  retry(lease: JobLease, runAt: number, error: string, kind: RetryKind): Promise<void>;
  /** Dead-letters the job, recording `lease.job.attempts` as the runs it had. */
  kill(lease: JobLease, error: string, now: number): Promise<void>;
  counts(now: number): Promise<JobCounts>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
}
