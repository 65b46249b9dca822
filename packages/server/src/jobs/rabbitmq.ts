import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { OUTBOX_CLAIM_MS, OutboxRelay } from './outbox-relay.js';
import type { Outbox } from './outbox.js';
import { assertConcurrency, newJob, resolveOptions, type ResolvedOptions } from './queue-options.js';
import { RabbitConsumer } from './rabbit-consumer.js';
import { moveLegacyJobs } from './rabbit-legacy-queue.js';
import { decodeDeadLetter, RabbitPublisher } from './rabbit-publisher.js';
import { RabbitSession } from './rabbit-session.js';
import { assertTopology, rabbitNames, type RabbitNames } from './rabbit-topology.js';

export interface RabbitJobQueueOptions extends JobQueueOptions {
  /** Delayed jobs, and jobs waiting for the broker: durable in the index database, or in memory for a process that enqueues nothing. */
  outbox: Outbox;
  /** Shown by the broker (`rabbitmqctl list_connections client_properties`). Default `legim-<prefix>-<random>`. */
  connectionName?: string;
  /** First reconnect delay after the connection is lost; doubles up to `reconnectMaxMs`. Default 250. */
  reconnectBaseMs?: number;
  /** Default 10000. */
  reconnectMaxMs?: number;
}

// How long enqueue waits for a confirm before settling for the outbox row; the publish goes on regardless.
const CONFIRM_WAIT_MS = 5000;

/**
 * The distributed queue on RabbitMQ. Durable queues, persistent messages,
 * publisher confirms, prefetch and acks after the handler; retries wait in
 * TTL queues that dead-letter back to the work exchange. The work queue is a
 * quorum queue, whose delivery count tells how many runs of a job ended with
 * its worker dead, so a job that crashes every worker is dead-lettered too. Delays do not use
 * the delayed-message plugin: every job enters an outbox in the index database first and a
 * relay publishes it when due and the broker is reachable, deleting the row
 * only after the confirm, so neither a delay nor an outage loses a job.
 */
export class RabbitJobQueue implements JobQueue {
  private readonly consumers = new Set<RabbitConsumer>();
  private readonly publisher: RabbitPublisher;
  private readonly relay: OutboxRelay;
  private closed = false;

  private constructor(
    private readonly session: RabbitSession,
    private readonly names: RabbitNames,
    private readonly outbox: Outbox,
    private readonly options: ResolvedOptions,
  ) {
    this.publisher = new RabbitPublisher(session, names);
    this.relay = new OutboxRelay(
      outbox,
      (job) => this.publisher.work(job),
      () => !!session.current,
      options.pollMs,
      options.logger,
    );
  }

  /** Connects (throwing if the broker cannot be reached now) and declares the queues; later outages are ridden out. */
  static async connect(url: string, options: RabbitJobQueueOptions): Promise<RabbitJobQueue> {
    const resolved = resolveOptions(options);
    const names = rabbitNames(resolved);
    // Loaded here so the embedded queue never needs amqplib.
    const { default: amqp } = await import('amqplib');
    const session = await RabbitSession.open(amqp, {
      url,
      connectionName: options.connectionName ?? `legim-${resolved.prefix}-${randomUUID().slice(0, 8)}`,
      reconnectBaseMs: options.reconnectBaseMs ?? 250,
      reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
      setup: (link) => assertTopology(link.publisher, names),
      logger: resolved.logger,
    });
    const queue = new RabbitJobQueue(session, names, options.outbox, resolved);
    let legacyGone = false;
    session.listen({
      up: (link) => {
        // Whatever waited for the broker goes out as soon as it is back.
        queue.relay.wake();
        // Looked for until known gone: each look is a passive declare, which the broker logs when it fails.
        if (!legacyGone)
          void moveLegacyJobs(link.connection, names, resolved.logger).then((gone) => (legacyGone ||= gone));
      },
      down: () => {},
    });
    queue.relay.start();
    return queue;
  }

  async enqueue(job: NewJob): Promise<string> {
    this.assertOpen();
    const record = { ...newJob(job), attempts: 1 };
    const now = Date.now();
    const dueAt = job.runAt ?? now;
    const sendNow = dueAt <= now && this.session.current !== undefined;
    const id = await this.outbox.insert(record, job.dedupeKey, dueAt, sendNow ? now + OUTBOX_CLAIM_MS : 0);
    if (id !== record.id || !sendNow) return id;
    const sent = this.relay.send({ id, job: record });
    const waited = new AbortController();
    await Promise.race([sent, sleep(CONFIRM_WAIT_MS, undefined, { signal: waited.signal }).catch(() => {})]);
    waited.abort();
    return id;
  }

  async consume(handler: JobHandler, options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    assertConcurrency(options.concurrency);
    const consumer = new RabbitConsumer(
      this.session,
      this.names,
      this.publisher,
      handler,
      options.concurrency,
      options.onDeadLetter,
      this.options,
      (stopped) => this.consumers.delete(stopped),
    );
    this.consumers.add(consumer);
    await consumer.start();
    return consumer;
  }

  /**
   * Reads without removing: the messages are fetched unacknowledged and go
   * back to the queue, in order, when the channel closes. A snapshot for
   * operators; concurrent readers may each see part of the queue.
   */
  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    this.assertOpen();
    const link = this.session.current;
    if (!link) throw new Error('not connected to RabbitMQ: the dead-letter queue cannot be read until it is back');
    const channel = await link.connection.createChannel();
    try {
      const letters: DeadLetter[] = [];
      while (letters.length < limit) {
        const message = await channel.get(this.names.dead, { noAck: false });
        if (!message) break;
        try {
          letters.push(decodeDeadLetter(message));
        } catch {
          // Not a job (a foreign message rejected by a consumer): skipped here, left in the queue.
        }
      }
      return letters;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /**
   * The broker's message counts of the work and dead-letter queues (on a
   * channel of its own: a failed check closes its channel), and the jobs
   * this process's consumers hold. Throws while the broker is unreachable.
   */
  async counts(): Promise<JobCounts> {
    this.assertOpen();
    const link = this.session.current;
    if (!link) throw new Error('not connected to RabbitMQ: the queues cannot be counted until it is back');
    const channel = await link.connection.createChannel();
    try {
      const [work, dead] = await Promise.all([
        channel.checkQueue(this.names.jobs),
        channel.checkQueue(this.names.dead),
      ]);
      let running = 0;
      for (const consumer of this.consumers) running += consumer.inFlight;
      return { waiting: work.messageCount, running, deadLettered: dead.messageCount };
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Drops consumers without waiting (their jobs return to the broker), and disconnects. The database stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const consumer of this.consumers) consumer.abandon();
    this.consumers.clear();
    await this.session.close();
    await this.relay.stop();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the job queue is closed');
  }
}
