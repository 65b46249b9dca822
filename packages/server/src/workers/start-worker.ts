import { createLogger, type Logger } from '@legim/node';
import { PeriodicTask } from '../background/periodic-task.js';
import type { Job } from '../jobs/index.js';
import { ImageWorker } from './image-worker.js';
import { lowerPriority } from './lower-priority.js';
import { createDeadLetterHandler, createJobHandler } from './job-handler.js';
import { VariantWriter } from './variant-writer.js';
import { openWorkerBackend } from './worker-backend.js';
import type { WorkerConfig } from './worker-config.js';

export interface RunningWorker {
  /** Finishes the jobs in hand, then stops. */
  close(): Promise<void>;
}

const NODE_SYNC_MS = 2000;

/**
 * A `legim worker` process: takes jobs (images, expiry, deletion) from the
 * queue (RabbitMQ, or the embedded queue in the gateway's database) and
 * makes variants. Its metadata comes from the gateway's database on the
 * gateway's host, or from the gateway's internal API anywhere else; blob
 * bytes go straight between the worker and the storage nodes.
 */
export async function startWorker(
  config: WorkerConfig,
  options: { onJobDone?: (job: Job) => void; logger?: Logger } = {},
): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger({ name: 'worker' });
  if (config.nice !== undefined) lowerPriority(config.nice, logger);
  const backend = await openWorkerBackend(config, logger);
  const { store, reaper, registry, health, placer, jobs, keys } = backend;
  const nodeSync = new PeriodicTask('reading the node list', () => registry.sync(), NODE_SYNC_MS, logger);
  try {
    await health.probeAll();
    health.start();
    nodeSync.start();
    const worker = new ImageWorker(store, registry, new VariantWriter(store, placer), {
      variants: config.variants,
      maxPixels: config.maxPixels,
      keys,
    });
    const handle = createJobHandler(worker, reaper);
    const consumer = await jobs.consume(
      async (job) => {
        await handle(job);
        options.onJobDone?.(job);
      },
      { concurrency: config.concurrency, onDeadLetter: createDeadLetterHandler(worker) },
    );
    // A worker runs until closed, like a server: its pollers' timers are unref'd and, with the embedded
    // queue and no connection open, nothing else would keep its process alive.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    return {
      close: async () => {
        clearInterval(keepAlive);
        await consumer.stop();
        await Promise.all([nodeSync.stop(), health.stop()]);
        await backend.close();
      },
    };
  } catch (error) {
    await Promise.all([nodeSync.stop(), health.stop()]);
    await backend.close();
    throw error;
  }
}
