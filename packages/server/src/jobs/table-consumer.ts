import { LegimError } from '@legim/sdk';
import { randomUUID } from 'node:crypto';
import { PeriodicTask } from '../background/periodic-task.js';
import type { ConsumeOptions, Consumer, JobHandler } from './job-queue.js';
import { outcomeOf, reactToDeadLetter } from './job-outcome.js';
import { waitDelay, workerDiedReason, type ResolvedOptions } from './queue-options.js';
import type { JobLease, JobTable } from './job-table.js';

/**
 * One embedded worker pool: claims due jobs up to its concurrency, keeps
 * their leases alive while the handlers run, and records each outcome.
 * Polls, and is also woken when a job is enqueued in this process or a
 * handler frees a slot.
 */
export class TableConsumer implements Consumer {
  /** Leases of the handlers running now; a lost lease stays until its handler ends, as it still takes a slot. */
  private readonly leases = new Set<JobLease>();
  private readonly lost = new WeakSet<JobLease>();
  private readonly running = new Set<Promise<void>>();
  private readonly poller: PeriodicTask;
  private renewer: NodeJS.Timeout | undefined;
  private state: 'running' | 'stopping' | 'abandoned' = 'running';
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly table: JobTable,
    private readonly handler: JobHandler,
    private readonly concurrency: number,
    private readonly onDeadLetter: ConsumeOptions['onDeadLetter'],
    private readonly options: ResolvedOptions,
    private readonly onStopped: (consumer: TableConsumer) => void,
  ) {
    this.poller = new PeriodicTask('claiming jobs', () => this.fill(), options.pollMs, options.logger);
  }

  start(): void {
    this.poller.start();
    this.renewer = setInterval(() => this.renewLeases(), Math.max(1, Math.floor(this.options.leaseMs / 3)));
    this.renewer.unref();
    this.poller.wake();
  }

  wake(): void {
    if (this.state === 'running') this.poller.wake();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'running') this.state = 'stopping';
      await this.poller.stop();
      // Leases are renewed until the last handler is done, or they would expire under it.
      await Promise.all(this.running);
      clearInterval(this.renewer);
      this.onStopped(this);
    })();
    return this.stopped;
  }

  /** Stops at once, as if the process had died: running jobs are left to their leases. */
  abandon(): void {
    this.state = 'abandoned';
    clearInterval(this.renewer);
    void this.poller.stop();
  }

  private async fill(): Promise<void> {
    const free = this.concurrency - this.leases.size;
    if (this.state !== 'running' || free <= 0) return;
    const leases = await this.table.claim(Date.now(), this.options.leaseMs, randomUUID(), free);
    for (const lease of leases) this.begin(lease);
  }

  private begin(lease: JobLease): void {
    this.leases.add(lease);
    const run = this.execute(lease).finally(() => {
      this.leases.delete(lease);
      this.running.delete(run);
      this.wake();
    });
    this.running.add(run);
  }

  private async execute(lease: JobLease): Promise<void> {
    // Given up on earlier; only the reaction to that was left to do.
    if (lease.givingUp) return this.deadLetter(lease, lease.lastError ?? '');
    if (lease.job.attempts > this.options.maxAttempts) {
      // Its last attempt never reported back: the worker died with it. Not run again.
      const ran = { ...lease, job: { ...lease.job, attempts: lease.job.attempts - 1 } };
      return this.deadLetter(ran, workerDiedReason(lease.lostRuns, lease.lastError));
    }
    let failure: { error: unknown } | undefined;
    try {
      await this.handler(lease.job);
    } catch (error) {
      failure = { error };
    }
    if (this.state === 'abandoned') return;
    const outcome = outcomeOf(failure, lease.job.attempts, lease.waits, this.options);
    switch (outcome.kind) {
      case 'done':
        return this.record(() => this.table.complete(lease));
      case 'dead':
        return this.deadLetter(lease, outcome.error);
      case 'retry':
      case 'wait': {
        const runAt = Date.now() + outcome.delayMs;
        const kind = { counted: outcome.kind === 'retry' };
        return this.record(() => this.table.retry(lease, runAt, outcome.error, kind));
      }
    }
  }

  /**
   * Records the dead letter once the hook has reacted. A hook that must wait
   * for a dependency keeps the job: it comes back, after a back-off that
   * costs no attempt, to call the hook again (`lease.job.attempts` is the
   * attempts the letter reports, given back so the next claim restores it).
   */
  private async deadLetter(lease: JobLease, error: string): Promise<void> {
    const failedAt = Date.now();
    const reacted = await reactToDeadLetter(
      this.onDeadLetter,
      { job: lease.job, error, failedAt },
      this.options.logger,
    );
    if (this.state === 'abandoned') return;
    if (reacted) return this.record(() => this.table.kill(lease, error, failedAt));
    const runAt = Date.now() + waitDelay(lease.waits + 1, this.options);
    await this.record(() => this.table.retry(lease, runAt, error, { counted: false, givingUp: true }));
  }

  private async record(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // The lease then expires and the job runs again: at-least-once, never lost.
      this.logFailure('recording a job outcome failed', error);
    }
  }

  private renewLeases(): void {
    const leaseUntil = Date.now() + this.options.leaseMs;
    for (const lease of this.leases) {
      if (this.lost.has(lease)) continue;
      this.table.renew(lease, leaseUntil).then(
        (held) => {
          if (held) return;
          this.options.logger.warn(
            { jobId: lease.job.id },
            `job ${lease.job.id} outlived its lease and was taken over; its outcome here is ignored`,
          );
          this.lost.add(lease);
        },
        (error: unknown) => this.logFailure('renewing a job lease failed', error),
      );
    }
  }

  /** A typed error (the index unreachable) is its message; anything else keeps its stack for whoever reads the log. */
  private logFailure(what: string, error: unknown): void {
    if (LegimError.is(error)) this.options.logger.warn(`${what}: ${error.message}`);
    else this.options.logger.error({ err: error }, what);
  }
}
