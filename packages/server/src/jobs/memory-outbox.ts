import type { Job } from './job-queue.js';
import type { Outbox, OutboxEntry } from './outbox.js';

interface Row {
  job: Job;
  dueAt: number;
  dedupeKey: string | undefined;
  leaseUntil: number;
}

/**
 * An outbox that lives as long as its process: for a `legim worker` on
 * another host, which has no index database and enqueues nothing itself
 * (retries go through the broker's retry queues), so nothing here must
 * outlive it.
 */
export class MemoryOutbox implements Outbox {
  private readonly rows = new Map<string, Row>();

  async insert(job: Job, dedupeKey: string | undefined, dueAt: number, leaseUntil: number): Promise<string> {
    for (const [id, row] of this.rows) if (dedupeKey !== undefined && row.dedupeKey === dedupeKey) return id;
    this.rows.set(job.id, { job, dueAt, dedupeKey, leaseUntil });
    return job.id;
  }

  async claim(now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
    const due = [...this.rows]
      .filter(([, row]) => row.dueAt <= now && row.leaseUntil <= now)
      .sort(([, a], [, b]) => a.dueAt - b.dueAt)
      .slice(0, limit);
    for (const [, row] of due) row.leaseUntil = now + leaseMs;
    return due.map(([id, row]) => ({ id, job: row.job }));
  }

  async remove(id: string): Promise<void> {
    this.rows.delete(id);
  }

  async release(id: string): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.leaseUntil = 0;
  }
}
