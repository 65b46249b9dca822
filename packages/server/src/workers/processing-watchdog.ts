import type { Logger } from '@legim/node';
import { PeriodicTask } from '../background/periodic-task.js';
import type { JobQueue } from '../jobs/index.js';
import type { MetadataStore } from '../metadata/types.js';

/** A file still processing after this long has probably lost its job (the gateway died before queueing it). */
const STALE_AFTER_MS = 15 * 60_000;
const CHECK_EVERY_MS = 60_000;
const BATCH = 100;

/**
 * Queues the `process` job again for files stuck in `processing`. Jobs are
 * idempotent, so the rare duplicate (a job merely slow in a long backlog)
 * costs time, never correctness.
 */
export class ProcessingWatchdog {
  private readonly task: PeriodicTask;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly jobs: JobQueue,
    logger: Logger,
  ) {
    this.task = new PeriodicTask(
      're-queueing stale processing jobs',
      () => this.requeueStale(),
      CHECK_EVERY_MS,
      logger,
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  private async requeueStale(): Promise<void> {
    for (const fileId of await this.metadata.staleProcessing(Date.now() - STALE_AFTER_MS, BATCH)) {
      await this.jobs.enqueue({ type: 'process', fileId, dedupeKey: `process:${fileId}` });
    }
  }
}
