import type { FileReaper } from '../expiry/file-reaper.js';
import type { JobHandler } from '../jobs/index.js';
import type { ImageWorker } from './image-worker.js';

/** Sends each job to the code that does it; every handler is idempotent. */
export function createJobHandler(images: ImageWorker, reaper: FileReaper): JobHandler {
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
