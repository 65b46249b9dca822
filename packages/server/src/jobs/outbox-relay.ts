import type { Logger } from '@legim/node';
import { PeriodicTask } from '../background/periodic-task.js';
import type { Job } from './job-queue.js';
import type { Outbox, OutboxEntry } from './outbox.js';

/** How long a claimed row is ours; a process that dies holding it delays that row by this much. */
export const OUTBOX_CLAIM_MS = 60_000;
const BATCH = 100;

/**
 * The scheduler of the RabbitMQ queue: publishes outbox rows once they are
 * due and the broker is reachable, and deletes each one only after its
 * publish was confirmed. Delayed jobs (`runAt`) and publishes made while the
 * broker was down both leave through here.
 */
export class OutboxRelay {
  private readonly task: PeriodicTask;
  private readonly sending = new Set<Promise<boolean>>();

  constructor(
    private readonly outbox: Outbox,
    private readonly publish: (job: Job) => Promise<void>,
    private readonly connected: () => boolean,
    pollMs: number,
    private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask('publishing due jobs', () => this.pass(), pollMs, logger);
  }

  start(): void {
    this.task.start();
    this.task.wake();
  }

  wake(): void {
    this.task.wake();
  }

  /** Stops the schedule and waits for publishes in flight. */
  async stop(): Promise<void> {
    await this.task.stop();
    await Promise.all(this.sending);
  }

  /** Publishes a row the caller has leased; resolves true once confirmed and removed, false if left for later. */
  send(entry: OutboxEntry): Promise<boolean> {
    const sent = this.publishAndRemove(entry).finally(() => this.sending.delete(sent));
    this.sending.add(sent);
    return sent;
  }

  private async publishAndRemove(entry: OutboxEntry): Promise<boolean> {
    try {
      await this.publish(entry.job);
    } catch {
      try {
        await this.outbox.release(entry.id);
      } catch (error) {
        this.logger.error({ err: error }, 'releasing an outbox row failed (it is retried after its claim expires)');
      }
      return false;
    }
    try {
      await this.outbox.remove(entry.id);
    } catch (error) {
      // The row is published again when its claim expires: a duplicate, never a loss.
      this.logger.error({ err: error }, 'removing a published outbox row failed');
    }
    return true;
  }

  private async pass(): Promise<void> {
    while (this.connected()) {
      const entries = await this.outbox.claim(Date.now(), OUTBOX_CLAIM_MS, BATCH);
      const results = await Promise.all(entries.map((entry) => this.send(entry)));
      if (entries.length < BATCH || results.includes(false)) return;
    }
  }
}
