import type { Job, JobType } from '../jobs/job-queue.js';

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
