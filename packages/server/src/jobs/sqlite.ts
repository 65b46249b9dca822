import type Database from 'better-sqlite3';
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
import { SqliteConsumer } from './sqlite-consumer.js';
import { SqliteJobTable } from './sqlite-job-table.js';

/**
 * The embedded queue: a durable job table in the caller's SQLite database,
 * worked by in-process pools. Several processes may share the database
 * file; claims are single UPDATE statements, so each job has one holder at
 * a time, and a holder that dies loses the job when its lease expires.
 */
export class SqliteJobQueue implements JobQueue {
  private readonly options: ResolvedOptions;
  private readonly table: SqliteJobTable;
  private readonly consumers = new Set<SqliteConsumer>();
  private closed = false;

  constructor(db: Database.Database, options: JobQueueOptions = {}) {
    this.options = resolveOptions(options);
    this.table = new SqliteJobTable(db, this.options.prefix);
  }

  async enqueue(job: NewJob): Promise<string> {
    this.assertOpen();
    const id = this.table.insert(newJob(job), job.dedupeKey, Date.now());
    for (const consumer of this.consumers) consumer.wake();
    return id;
  }

  async consume(handler: JobHandler, options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    assertConcurrency(options.concurrency);
    const consumer = new SqliteConsumer(
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

  /** Drops the consumers; the database stays open, it belongs to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    for (const consumer of this.consumers) consumer.abandon();
    this.consumers.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the job queue is closed');
  }
}
