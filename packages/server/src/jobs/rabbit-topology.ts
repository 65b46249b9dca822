import type { Channel } from 'amqplib';
import { retryDelays, type ResolvedOptions } from './queue-options.js';

export const WORK_ROUTING_KEY = 'job';

/** The broker objects one queue prefix owns. */
export interface RabbitNames {
  /** Where new jobs and expired retries are published. */
  workExchange: string;
  /** The work queue: a quorum queue, so that it counts the deliveries a worker died with (`x-delivery-count`). */
  jobs: string;
  /** The classic work queue of earlier versions, emptied into `jobs` and deleted where found. */
  legacyJobs: string;
  /** Routes a failed job, by its delay as routing key, to the queue that holds it that long. */
  retryExchange: string;
  retryQueues: { delayMs: number; queue: string }[];
  dead: string;
}

export function rabbitNames(options: ResolvedOptions): RabbitNames {
  const p = options.prefix;
  return {
    workExchange: `${p}.work`,
    // A new name: a classic queue cannot be redeclared as a quorum queue (PRECONDITION_FAILED).
    jobs: `${p}.jobs.quorum`,
    legacyJobs: `${p}.jobs`,
    retryExchange: `${p}.retry`,
    retryQueues: retryDelays(options).map((delayMs) => ({ delayMs, queue: `${p}.retry.${delayMs}` })),
    dead: `${p}.dead`,
  };
}

/**
 * Declares everything, idempotently, on every (re)connect. Retries wait in
 * one queue per delay rather than with per-message TTLs in a shared queue:
 * RabbitMQ only expires messages at a queue's head, so a long delay would
 * hold back every shorter one behind it. The delays are derived from the
 * options and named after themselves, so changing the back-off adds queues
 * instead of clashing with the arguments of existing ones. The work queue is
 * a quorum queue, as only those count redeliveries; it has no delivery limit
 * of its own (a queue argument could never change with `maxAttempts`): the
 * consumer reads the count and dead-letters, so it can give the reason.
 */
export async function assertTopology(channel: Channel, names: RabbitNames): Promise<void> {
  await channel.assertExchange(names.workExchange, 'direct', { durable: true });
  await channel.assertExchange(names.retryExchange, 'direct', { durable: true });
  // A message the consumer cannot read is rejected, which parks it in the dead queue.
  await channel
    .assertQueue(names.jobs, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
      deadLetterExchange: '',
      deadLetterRoutingKey: names.dead,
    })
    .catch((error: Error) => {
      throw new Error(
        `declaring the quorum queue ${names.jobs} failed (${error.message}): ` +
          'it needs RabbitMQ 3.8 or later with the quorum_queue feature flag enabled',
        { cause: error },
      );
    });
  await channel.bindQueue(names.jobs, names.workExchange, WORK_ROUTING_KEY);
  for (const { delayMs, queue } of names.retryQueues) {
    await channel.assertQueue(queue, {
      durable: true,
      messageTtl: delayMs,
      deadLetterExchange: names.workExchange,
      deadLetterRoutingKey: WORK_ROUTING_KEY,
    });
    await channel.bindQueue(queue, names.retryExchange, String(delayMs));
  }
  await channel.assertQueue(names.dead, { durable: true });
}

/** Removes everything `assertTopology` declared (tests, and tearing an installation down). */
export async function deleteTopology(channel: Channel, names: RabbitNames): Promise<void> {
  for (const queue of [names.jobs, names.legacyJobs, names.dead, ...names.retryQueues.map((r) => r.queue)]) {
    await channel.deleteQueue(queue);
  }
  await channel.deleteExchange(names.workExchange);
  await channel.deleteExchange(names.retryExchange);
}
