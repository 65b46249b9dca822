import type { Job, JobType } from '../jobs/job-queue.js';
import type { JobLease } from '../jobs/job-table.js';

/** A row of the embedded queue's table as both engines store it. */
export interface JobRow {
  id: string;
  type: JobType;
  file_id: string;
  payload: string | null;
  run_at: number;
  requested_run_at: number | null;
  attempts: number;
  lost_runs: number;
  waits: number;
  /** 0 or 1: SQLite has no boolean. */
  giving_up: number | boolean;
  last_error: string | null;
  failed_at: number | null;
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    fileId: row.file_id,
    ...(row.requested_run_at === null ? {} : { runAt: row.requested_run_at }),
    attempts: row.attempts,
    ...(row.payload === null ? {} : { payload: JSON.parse(row.payload) as Record<string, unknown> }),
  };
}

/** A claimed row as the consumer holds it. */
export function toLease(row: JobRow, token: string): JobLease {
  return {
    job: toJob(row),
    token,
    lastError: row.last_error,
    lostRuns: row.lost_runs,
    waits: row.waits,
    givingUp: Boolean(row.giving_up),
  };
}
