import type { Job } from './job-queue.js';

export interface OutboxEntry {
  id: string;
  job: Job;
}

/**
 * Jobs on their way to RabbitMQ: every enqueue lands here first, so a job is
 * durable before the broker has it, and stays here while it is delayed or
 * the broker is unreachable. An entry is removed only after the broker
 * confirmed its publish. Claims lease entries, so several processes sharing
 * the store do not publish one entry twice (unless one dies mid-publish:
 * at-least-once).
 */
export interface Outbox {
  /**
   * Adds the job due at `dueAt`, leased until `leaseUntil` (0: free for any
   * relay), unless an entry holds its dedupe key; resolves with the id holding the key.
   */
  insert(job: Job, dedupeKey: string | undefined, dueAt: number, leaseUntil: number): Promise<string>;
  claim(now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]>;
  /** The broker confirmed it. */
  remove(id: string): Promise<void>;
  /** The publish failed: the next relay pass tries again. */
  release(id: string): Promise<void>;
}
