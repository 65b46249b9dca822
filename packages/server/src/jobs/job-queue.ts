import type { Logger } from '@legim/node';
export type JobType = 'process' | 'expire' | 'delete';

/** A job as a handler receives it. Times are epoch milliseconds. */
export interface Job {
  id: string;
  type: JobType;
  fileId: string;
  /** When the job was asked to run, for a delayed job. */
  runAt?: number;
  /**
   * Which run this is, counting from 1. A failed run counts, and so does a run
   * cut short by a dead worker (a crash, an OOM kill, a lost connection), so a
   * job that kills its workers still ends dead-lettered after `maxAttempts`.
   * A run that failed because a dependency was unreachable (see
   * `isTransient`) does not count: the next run has the same number.
   */
  attempts: number;
  payload?: Record<string, unknown>;
}

export interface NewJob {
  type: JobType;
  fileId: string;
  /** Run no earlier than this instant; omitted or past: as soon as possible. */
  runAt?: number;
  payload?: Record<string, unknown>;
  /**
   * At most one pending job per key: enqueueing a key that a pending job
   * already holds returns that job's id and adds nothing. Embedded: pending
   * means not yet finished. RabbitMQ: pending means not yet handed to the
   * broker (delayed, or waiting for a reconnect).
   */
  dedupeKey?: string;
}

/** Does the job's work. It may run more than once for one job, so it must be idempotent. */
export type JobHandler = (job: Job) => Promise<void>;

export interface ConsumeOptions {
  /** Handlers running at once in this consumer. */
  concurrency: number;
  /**
   * Called when this consumer dead-letters a job, before the dead letter is
   * recorded: after the last attempt failed, or when the worker died during
   * it. The one place to react to a job given up on. If it throws a
   * transient error (a dependency unreachable, see `isTransient`) the job is
   * not dead-lettered yet: it is kept, and the hook is called again after a
   * back-off, until it succeeds. Other errors are logged and do not stop the
   * dead-lettering. It may run more than once for one job.
   */
  onDeadLetter?: (letter: DeadLetter) => Promise<void>;
}

export interface Consumer {
  /** Takes no more jobs, then resolves once the running handlers have finished and been acknowledged. */
  stop(): Promise<void>;
}

export interface DeadLetter {
  job: Job;
  /** The last failure's message, or why the job was given up on (`the worker died 3 times while running this job`). */
  error: string;
  failedAt: number;
}

/** A snapshot of a queue for operators (`GET /v1/stats`, `/metrics`). */
export interface JobCounts {
  /** Jobs due and not yet taken by a worker (delayed jobs and retries wait apart and are not counted). */
  waiting: number;
  /** Jobs a worker holds now: every worker's (embedded), or this process's consumers' (RabbitMQ). */
  running: number;
  deadLettered: number;
}

export interface JobQueueOptions {
  /**
   * Runs of a failing job (failed, or cut short by a dead worker) before it
   * is dead-lettered. Default 5. Runs that failed because a dependency was
   * unreachable are not counted: the job waits and runs again, forever.
   */
  maxAttempts?: number;
  /** Delay before the first retry; each further retry doubles it. Default 1000. */
  backoffBaseMs?: number;
  /** Cap on the retry delay. Default 60000. */
  backoffMaxMs?: number;
  /**
   * Cap on the delay of a job waiting out an outage (its runs fail
   * transiently; the delay doubles from `backoffBaseMs`): how long after a
   * dependency is back, at worst, the job runs again. Default 30000.
   */
  transientBackoffMaxMs?: number;
  /** Embedded: how long a claimed job stays with a worker that stopped renewing its lease. Default 30000. */
  leaseMs?: number;
  /** How often to look for due jobs (embedded) or due delayed publishes (RabbitMQ). Default 100. */
  pollMs?: number;
  /** Names everything the queue creates (letters, digits, `_`): RabbitMQ queues and exchanges, SQLite tables. Default `legim`. */
  prefix?: string;
  /** For what goes wrong in the background: lost connections, outcomes that could not be recorded. */
  logger: Logger;
}

/** The back-off settings a process may tune apart from `maxAttempts` (tests, chaos drills). */
export type JobBackoff = Pick<JobQueueOptions, 'backoffBaseMs' | 'backoffMaxMs' | 'transientBackoffMaxMs'>;

/**
 * Durable background jobs with at-least-once delivery: a job is acknowledged
 * only after its handler resolved, so a crash at any point means it runs
 * again, never that it is lost. A handler that throws is retried with
 * exponential back-off. A transient error (a dependency unreachable, see
 * `isTransient`) spends no attempt: the job waits out the outage. Otherwise,
 * after `maxAttempts` runs the job is dead-lettered
 * with the last error; runs cut short by a dead worker count too, so a job
 * that crashes every worker taking it is dead-lettered as well, not run
 * forever. Implementations own their connections; nothing about them shows
 * here.
 *
 * @example
 * ```ts
 * const queue = await createJobQueue({ kind: 'embedded' }, db, { maxAttempts: 3 });
 * const consumer = await queue.consume(async (job) => makeVariants(job.fileId), {
 *   concurrency: 2,
 *   onDeadLetter: async ({ job, error }) => markFailed(job.fileId, error),
 * });
 * await queue.enqueue({ type: 'expire', fileId, runAt: expiresAt, dedupeKey: `expire:${fileId}` });
 * // shutting down
 * await consumer.stop();
 * await queue.close();
 * ```
 */
export interface JobQueue {
  /** Adds a job and resolves with its id once the job is durable. */
  enqueue(job: NewJob): Promise<string>;
  /** Starts handing jobs to `handler`, at most `concurrency` at a time. */
  consume(handler: JobHandler, options: ConsumeOptions): Promise<Consumer>;
  /** Dead-lettered jobs, oldest first. */
  deadLetters(limit?: number): Promise<DeadLetter[]>;
  /** How many jobs wait, run and were dead-lettered; cheap enough to ask on every stats request. */
  counts(): Promise<JobCounts>;
  /**
   * Releases the queue's connections. Consumers still running are dropped
   * without waiting: their unfinished jobs are not acknowledged and run again
   * elsewhere. Call `Consumer.stop()` first for a graceful shutdown.
   */
  close(): Promise<void>;
}
