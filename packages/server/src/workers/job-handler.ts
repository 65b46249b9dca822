import type { ConsumeOptions, JobHandler } from '../jobs/index.js';
import type { ImageWorker } from './image-worker.js';
import type { FileReaping } from './worker-store.js';

/** Sends each job to the code that does it; every handler is idempotent. */
export function createJobHandler(images: ImageWorker, reaper: FileReaping): JobHandler {
  return async (job) => {
    switch (job.type) {
      case 'process':
        return images.handle(job);
      case 'expire':
      case 'delete':
        return reaper.reap(job.fileId);
    }
  };
}

/** Reacts to a job the queue gave up on. Expiry and deletion need nothing: the sweep reaps what is due. */
export function createDeadLetterHandler(images: ImageWorker): NonNullable<ConsumeOptions['onDeadLetter']> {
  return async ({ job, error }) => {
    if (job.type === 'process') await images.giveUp(job, error);
  };
}
