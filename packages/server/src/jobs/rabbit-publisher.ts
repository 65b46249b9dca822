import type { GetMessage, Options } from 'amqplib';
import type { DeadLetter, Job, JobType } from './job-queue.js';
import type { RabbitSession } from './rabbit-session.js';
import { WORK_ROUTING_KEY, type RabbitNames } from './rabbit-topology.js';

const ERROR_HEADER = 'x-legim-error';
const FAILED_AT_HEADER = 'x-legim-failed-at';
// amqplib refuses header tables over 64 KiB; an error message has no business being that long.
const MAX_ERROR_CHARS = 4000;
const JOB_TYPES: readonly JobType[] = ['process', 'expire', 'delete'];

/**
 * Every publish the RabbitMQ queue makes, each resolving only once the
 * broker confirmed it: persistent messages on the current link's confirm
 * channel. Rejects at once when there is no link.
 */
export class RabbitPublisher {
  constructor(
    private readonly session: RabbitSession,
    private readonly names: RabbitNames,
  ) {}

  /** A job's first delivery, or one that was waiting in the outbox. */
  work(job: Job): Promise<void> {
    return this.publish(this.names.workExchange, WORK_ROUTING_KEY, job);
  }

  /** Parks the job in the retry queue for `delayMs`, from where it returns to the work queue. */
  retry(job: Job, delayMs: number): Promise<void> {
    return this.publish(this.names.retryExchange, String(delayMs), job);
  }

  deadLetter(job: Job, error: string, failedAt: number): Promise<void> {
    return this.publish('', this.names.dead, job, {
      [ERROR_HEADER]: error.slice(0, MAX_ERROR_CHARS),
      [FAILED_AT_HEADER]: failedAt,
    });
  }

  private publish(exchange: string, routingKey: string, job: Job, headers?: Record<string, unknown>): Promise<void> {
    const link = this.session.current;
    if (!link) return Promise.reject(new Error('not connected to RabbitMQ'));
    const options: Options.Publish = {
      persistent: true,
      contentType: 'application/json',
      messageId: job.id,
      type: job.type,
      ...(headers ? { headers } : {}),
    };
    return new Promise((resolve, reject) => {
      link.publisher.publish(exchange, routingKey, Buffer.from(JSON.stringify(job)), options, (error: unknown) =>
        error
          ? reject(error instanceof Error ? error : new Error(`publish not confirmed: ${String(error)}`))
          : resolve(),
      );
    });
  }
}

/** Reads a message body back into a job; throws on anything that is not one. */
export function decodeJob(content: Buffer): Job {
  const job = JSON.parse(content.toString('utf8')) as Partial<Job> | null;
  if (
    typeof job !== 'object' ||
    job === null ||
    typeof job.id !== 'string' ||
    typeof job.fileId !== 'string' ||
    typeof job.attempts !== 'number' ||
    !JOB_TYPES.includes(job.type as JobType)
  ) {
    throw new Error('not a Legim job');
  }
  return job as Job;
}

export function decodeDeadLetter(message: GetMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  return {
    job: decodeJob(message.content),
    error: String(headers[ERROR_HEADER] ?? ''),
    failedAt: Number(headers[FAILED_AT_HEADER] ?? 0),
  };
}
