import type Database from 'better-sqlite3';
import type { GatewayConfig } from '../config.js';
import { createJobQueue } from './create-job-queue.js';
import type { JobQueue } from './job-queue.js';

/** The job queue the configuration asks for: RabbitMQ when a URL is given, else the embedded one. */
export function openJobQueue(
  config: Pick<GatewayConfig, 'amqpUrl' | 'jobAttempts' | 'queuePrefix'>,
  db: Database.Database,
): Promise<JobQueue> {
  const options = { maxAttempts: config.jobAttempts, prefix: config.queuePrefix };
  return config.amqpUrl === undefined
    ? createJobQueue({ kind: 'embedded' }, db, options)
    : createJobQueue({ kind: 'rabbitmq', url: config.amqpUrl }, db, options);
}
