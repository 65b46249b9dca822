import type Database from 'better-sqlite3';
import type { JobQueue, JobQueueOptions } from './job-queue.js';
import type { RabbitJobQueueOptions } from './rabbitmq.js';
import { SqliteJobQueue } from './sqlite.js';

export type JobQueueConfig = { kind: 'embedded' } | { kind: 'rabbitmq'; url: string };

export type CreateJobQueueOptions = JobQueueOptions & Omit<RabbitJobQueueOptions, 'db' | keyof JobQueueOptions>;

const KINDS = ['embedded', 'rabbitmq'];

/**
 * The one place a job queue is chosen. `db` holds the job table (embedded)
 * or the outbox of delayed and waiting publishes (RabbitMQ); it stays the
 * caller's to close. The RabbitMQ code, and amqplib with it, is loaded only
 * when chosen.
 */
export async function createJobQueue(
  config: JobQueueConfig,
  db: Database.Database,
  options: CreateJobQueueOptions = {},
): Promise<JobQueue> {
  switch (config.kind) {
    case 'embedded':
      return new SqliteJobQueue(db, options);
    case 'rabbitmq': {
      const { RabbitJobQueue } = await import('./rabbitmq.js');
      return RabbitJobQueue.connect(config.url, { ...options, db });
    }
    default:
      throw new TypeError(
        `unknown job queue kind "${(config as { kind: unknown }).kind}": use one of ${KINDS.join(', ')}`,
      );
  }
}
