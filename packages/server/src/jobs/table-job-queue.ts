import type {
  ConsumeOptions,
  Consumer,
  DeadLetter,
  JobCounts,
  JobHandler,
  JobQueue,
  JobQueueOptions,
  NewJob,
} from './job-queue.js';
import { assertConcurrency, newJob, resolveOptions, type ResolvedOptions } from './queue-options.js';
import type { JobTable } from './job-table.js';
import { TableConsumer } from './table-consumer.js';

/**
 * The embedded queue: a durable job table in the index database (SQLite or
 * PostgreSQL), worked by in-process pools. Every process sharing the
 * database works the same table; each claim has one holder at a time, and
 * a holder that dies loses the job when its lease expires.
 */
export class TableJobQueue implements JobQueue {
  private readonly options: ResolvedOptions;
  private readonly consumers = new Set<TableConsumer>();
  private closed = false;

  /** `table` must have been opened with the same `prefix` as `options`. */
  constructor(
    private readonly table: JobTable,
    options: JobQueueOptions,
  ) {
    this.options = resolveOptions(options);
  }

  async enqueue(job: NewJob): Promise<string> {
    this.assertOpen();
    const id = await this.table.insert(newJob(job), job.dedupeKey, Date.now());
    for (const consumer of this.consumers) consumer.wake();
    return id;
  }

  async consume(handler: JobHandler, options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    assertConcurrency(options.concurrency);
    const consumer = new TableConsumer(
      this.table,
      handler,
      options.concurrency,
      options.onDeadLetter,
      this.options,
      (stopped) => this.consumers.delete(stopped),
    );
    this.consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    this.assertOpen();
    return this.table.deadLetters(limit);
  }

  async counts(): Promise<JobCounts> {
    this.assertOpen();
    return this.table.counts(Date.now());
  }

  /** Drops the consumers; the table stays open, it belongs to the index engine. */
  async close(): Promise<void> {
    this.closed = true;
    for (const consumer of this.consumers) consumer.abandon();
    this.consumers.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the job queue is closed');
  }
}
