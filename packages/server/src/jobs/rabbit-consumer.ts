import type { Channel, ConsumeMessage } from 'amqplib';
import type { ConsumeOptions, Consumer, Job, JobHandler } from './job-queue.js';
import { outcomeOf, reactToDeadLetter } from './job-outcome.js';
import { errorMessage, waitDelay, workerDiedReason, type ResolvedOptions } from './queue-options.js';
import { decodeDelivery, type Delivery, type RabbitPublisher } from './rabbit-publisher.js';
import type { RabbitLink, RabbitSession } from './rabbit-session.js';
import type { RabbitNames } from './rabbit-topology.js';

/** A consumer channel on one link; `open` turns false with it, after which its deliveries can no longer be acked. */
interface Attachment {
  channel: Channel;
  open: boolean;
  tag?: string;
}

/**
 * One RabbitMQ worker pool: a channel with `prefetch(concurrency)` on every
 * link the session brings up, manual acks after the handler resolved, and
 * failures re-routed (retry queue or dead queue) with a confirm before the
 * ack. Handlers of a lost link may still be running when the next link
 * delivers, so a local limit holds the concurrency across reconnects too.
 * A job whose attempts were used up by workers that died with it (the
 * quorum queue counts those deliveries) is dead-lettered without running.
 */
export class RabbitConsumer implements Consumer {
  private attachment: Attachment | undefined;
  private attaching: Promise<void> = Promise.resolve();
  private unlisten: (() => void) | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private state: 'running' | 'stopping' | 'abandoned' = 'running';
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly session: RabbitSession,
    private readonly names: RabbitNames,
    private readonly publisher: RabbitPublisher,
    private readonly handler: JobHandler,
    private readonly concurrency: number,
    private readonly onDeadLetter: ConsumeOptions['onDeadLetter'],
    private readonly options: ResolvedOptions,
    private readonly onStopped: (consumer: RabbitConsumer) => void,
  ) {}

  /** Deliveries this consumer holds: running, or waiting for a free slot. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Subscribes; resolves once consuming, if the broker is reachable now. */
  async start(): Promise<void> {
    this.unlisten = this.session.listen({
      up: (link) => {
        this.attaching = this.attach(link);
      },
      down: () => {
        this.attachment = undefined;
      },
    });
    await this.attaching;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'running') this.state = 'stopping';
      this.unlisten?.();
      await this.attaching;
      const attachment = this.attachment;
      if (attachment?.open && attachment.tag) await attachment.channel.cancel(attachment.tag).catch(() => {});
      await Promise.all(this.running);
      if (attachment?.open) await attachment.channel.close().catch(() => {});
      this.onStopped(this);
    })();
    return this.stopped;
  }

  /** Stops at once; the queue then closes the connection, which hands unacked jobs back to the broker. */
  abandon(): void {
    this.state = 'abandoned';
    this.unlisten?.();
  }

  private async attach(link: RabbitLink): Promise<void> {
    if (this.state !== 'running') return;
    let channel: Channel;
    try {
      channel = await link.connection.createChannel();
    } catch {
      return; // The link died meanwhile; the next one attaches again.
    }
    const attachment: Attachment = { channel, open: true };
    channel.on('error', (error: Error) =>
      this.options.logger.warn(`RabbitMQ consumer channel error: ${error.message}`),
    );
    channel.once('close', () => {
      attachment.open = false;
      if (this.attachment === attachment) this.attachment = undefined;
      // Closed on its own (a protocol error, a deleted queue): rebuild the whole link.
      if (this.state === 'running') void link.connection.close().catch(() => {});
    });
    try {
      await channel.prefetch(this.concurrency);
      const reply = await channel.consume(this.names.jobs, (message) => this.deliver(attachment, message));
      attachment.tag = reply.consumerTag;
      this.attachment = attachment;
    } catch (error) {
      this.options.logger.warn(`starting a RabbitMQ consumer failed: ${(error as Error).message}`);
      await channel.close().catch(() => {});
    }
  }

  private deliver(attachment: Attachment, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): closing resets the link and redeclares it.
      if (this.state === 'running') void attachment.channel.close().catch(() => {});
      return;
    }
    const run = this.acquire()
      .then(() => this.execute(attachment, message))
      .finally(() => {
        this.running.delete(run);
        this.release();
      });
    this.running.add(run);
  }

  private async execute(attachment: Attachment, message: ConsumeMessage): Promise<void> {
    if (this.cannotSettle(attachment)) return;
    // Back unstarted. The quorum queue counts the requeue as a run (RabbitMQ 3.x): rare, as only deliveries
    // that wait for a slot, after a reconnect, get here.
    if (this.state === 'stopping') return this.settle(attachment, (ch) => ch.nack(message, false, true));
    let delivery: Delivery;
    try {
      delivery = decodeDelivery(message);
    } catch (error) {
      this.options.logger.error(`unreadable job message (${errorMessage(error)}); moved to ${this.names.dead}`);
      return this.settle(attachment, (ch) => ch.nack(message, false, false));
    }
    const { job, lostRuns, lastError } = delivery;
    // Given up on earlier; only the reaction to that was left to do.
    if (delivery.givingUp) {
      return this.reroute(attachment, message, () => this.deadLetter(job, lastError ?? '', delivery));
    }
    if (job.attempts > this.options.maxAttempts) {
      // Its last attempt never reported back: the worker died with it. Not run again.
      const reason = workerDiedReason(lostRuns, lastError);
      const ran = { ...job, attempts: job.attempts - 1 };
      return this.reroute(attachment, message, () => this.deadLetter(ran, reason, delivery));
    }
    let failure: { error: unknown } | undefined;
    try {
      await this.handler(job);
    } catch (error) {
      failure = { error };
    }
    if (this.cannotSettle(attachment)) return;
    const outcome = outcomeOf(failure, job.attempts, delivery.waits, this.options);
    if (outcome.kind === 'done') return this.settle(attachment, (ch) => ch.ack(message));
    return this.reroute(attachment, message, () => {
      switch (outcome.kind) {
        case 'dead':
          return this.deadLetter(job, outcome.error, delivery);
        case 'retry':
          // A new message: its body carries the next run's number, and its delivery count starts again.
          return this.publisher.retry({ ...job, attempts: job.attempts + 1 }, outcome.delayMs, {
            lostRuns,
            lastError: outcome.error,
            waits: 0,
          });
        case 'wait':
          // The same run number again: a dependency's outage is not the job's failure.
          return this.publisher.retry(job, outcome.delayMs, {
            lostRuns,
            lastError: outcome.error,
            waits: delivery.waits + 1,
          });
      }
    });
  }

  /** Acks once the job's next step is confirmed; if it cannot be, hands the message back to run again. */
  private async reroute(attachment: Attachment, message: ConsumeMessage, publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch {
      // Not re-routed: hand it back rather than leave it unacknowledged.
      return this.settle(attachment, (ch) => ch.nack(message, false, true));
    }
    this.settle(attachment, (ch) => ch.ack(message));
  }

  /**
   * Publishes the dead letter once the hook has reacted. A hook that must
   * wait for a dependency keeps the job: parked in a retry queue, uncounted,
   * to come back and call the hook again; `job.attempts` is what the letter reports.
   */
  private async deadLetter(job: Job, error: string, delivery: Delivery): Promise<void> {
    const failedAt = Date.now();
    if (await reactToDeadLetter(this.onDeadLetter, { job, error, failedAt }, this.options.logger)) {
      return this.publisher.deadLetter(job, error, failedAt);
    }
    await this.publisher.retry(job, waitDelay(delivery.waits + 1, this.options), {
      lostRuns: delivery.lostRuns,
      lastError: error,
      waits: delivery.waits + 1,
      givingUp: true,
    });
  }

  /** A lost channel's deliveries are back in the queue already; an abandoned consumer's soon will be. */
  private cannotSettle(attachment: Attachment): boolean {
    return !attachment.open || this.state === 'abandoned';
  }

  private settle(attachment: Attachment, action: (channel: Channel) => void): void {
    if (!attachment.open) return;
    try {
      action(attachment.channel);
    } catch {
      // The channel closed under us: the broker redelivers the message.
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    // The slot is handed over directly by release(), so `active` stays exact.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
