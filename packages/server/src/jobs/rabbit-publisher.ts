import { inspect } from 'node:util';
import type { GetMessage, Message, Options } from 'amqplib';
import type { DeadLetter, Job, JobType } from './job-queue.js';
import type { RabbitSession } from './rabbit-session.js';
import { WORK_ROUTING_KEY, type RabbitNames } from './rabbit-topology.js';

/** On a dead letter: why. On a retry: the error of the run that failed. */
const ERROR_HEADER = 'x-legim-error';
const FAILED_AT_HEADER = 'x-legim-failed-at';
/** On a retry: runs of the job, before this message, whose worker died. */
const LOST_RUNS_HEADER = 'x-legim-lost-runs';
/** On a retry: runs in a row, just before this message, that a dependency's outage cut short (not counted). */
const WAITS_HEADER = 'x-legim-waits';
/** On a retry: the job was given up on; its next delivery only calls the dead-letter hook (the reason is the error). */
const GIVING_UP_HEADER = 'x-legim-giving-up';
/** Set by a quorum queue on a message it delivers again: how often it came back unacknowledged. */
const DELIVERY_COUNT_HEADER = 'x-delivery-count';
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

  /**
   * Parks the job in the retry queue for `delayMs`, from where it returns to
   * the work queue. `job.attempts` is the run number its next delivery gets.
   */
  retry(job: Job, delayMs: number, history: RetryHistory): Promise<void> {
    return this.publish(this.names.retryExchange, String(delayMs), job, {
      [LOST_RUNS_HEADER]: history.lostRuns,
      [ERROR_HEADER]: history.lastError.slice(0, MAX_ERROR_CHARS),
      [WAITS_HEADER]: history.waits,
      ...(history.givingUp ? { [GIVING_UP_HEADER]: 1 } : {}),
    });
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
          ? reject(error instanceof Error ? error : new Error(`publish not confirmed: ${inspect(error)}`))
          : resolve(),
      );
    });
  }
}

/** What a retried job's message carries about its earlier runs. */
export interface RetryHistory {
  lostRuns: number;
  lastError: string;
  waits: number;
  givingUp?: boolean;
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

/** A job as delivered from the work queue, with what its message carries about earlier runs. */
export interface Delivery {
  /** `attempts` counts the runs this message came back from unacknowledged. */
  job: Job;
  /** Runs of the job whose worker died (or lost its connection) before acknowledging. */
  lostRuns: number;
  /** The error of the last run that failed, if one did. */
  lastError: string | undefined;
  /** Runs in a row, just before this delivery, that a dependency's outage cut short. */
  waits: number;
  /** Given up on: this delivery only calls the dead-letter hook again, `lastError` being why. */
  givingUp: boolean;
}

/**
 * Reads a delivery; throws on anything that is not a job. The body holds the
 * run number of the message's first delivery; each time the message came
 * back to the queue unacknowledged (its worker died) was a run as well.
 */
export function decodeDelivery(message: Message): Delivery {
  const job = decodeJob(message.content);
  const headers = message.properties.headers ?? {};
  const returned = count(headers[DELIVERY_COUNT_HEADER]);
  return {
    job: { ...job, attempts: job.attempts + returned },
    lostRuns: count(headers[LOST_RUNS_HEADER]) + returned,
    lastError: headers[ERROR_HEADER] === undefined ? undefined : String(headers[ERROR_HEADER]),
    waits: count(headers[WAITS_HEADER]),
    givingUp: count(headers[GIVING_UP_HEADER]) > 0,
  };
}

export function decodeDeadLetter(message: GetMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  // Without our header the broker dead-lettered it itself (a delivery limit set by a policy, say).
  const byBroker = headers['x-first-death-reason'];
  return {
    job: decodeJob(message.content),
    error: String(headers[ERROR_HEADER] ?? (byBroker === undefined ? '' : `dead-lettered by RabbitMQ (${byBroker})`)),
    failedAt: Number(headers[FAILED_AT_HEADER] ?? 0),
  };
}

function count(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}
