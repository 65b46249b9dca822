import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LegimError } from '@legim/sdk';
import { PeriodicTask } from '../background/periodic-task.js';
import { openClusterView } from '../cluster/open-cluster-view.js';
import type { GatewayConfig } from '../config.js';
import { loadIdentity } from '../identity.js';
import type { Job } from '../jobs/index.js';
import { openJobQueue } from '../jobs/open-job-queue.js';
import { DEFAULT_VARIANTS } from '../processing/index.js';
import { ImageWorker } from './image-worker.js';
import { VariantWriter } from './variant-writer.js';
import { createJobHandler } from './job-handler.js';
import { FileReaper } from '../expiry/file-reaper.js';

export interface WorkerConfig extends Pick<
  GatewayConfig,
  'dataDir' | 'amqpUrl' | 'queuePrefix' | 'jobAttempts' | 'maxPixels' | 'healthIntervalMs'
> {
  /** Jobs run at once. */
  concurrency: number;
}

export interface RunningWorker {
  /** Finishes the jobs in hand, then stops. */
  close(): Promise<void>;
}

const NODE_SYNC_MS = 2000;

/**
 * A `legim worker` process: takes jobs (images, expiry, deletion) from the queue (RabbitMQ, or
 * the embedded queue in the gateway's database) and makes variants. It runs
 * beside a gateway, sharing its metadata database (SQLite in WAL mode allows
 * that) and reaching the storage nodes the gateway recorded.
 */
export async function startWorker(
  config: WorkerConfig,
  events: { onJobDone?: (job: Job) => void } = {},
): Promise<RunningWorker> {
  if (!existsSync(join(config.dataDir, 'identity.json'))) {
    throw new LegimError(
      'INVALID_OPTION',
      `${config.dataDir} is not a gateway's data directory: point --data at the one the gateway uses`,
    );
  }
  const identity = loadIdentity(config.dataDir, { adminKey: undefined, clusterSecret: undefined });
  const { db, metadata, registry, health, placer } = await openClusterView({
    dataDir: config.dataDir,
    clusterSecret: identity.clusterSecret,
    healthIntervalMs: config.healthIntervalMs,
  });
  await health.probeAll();
  health.start();
  const nodeSync = new PeriodicTask('reading the node list', () => registry.sync(), NODE_SYNC_MS);
  nodeSync.start();

  const jobs = await openJobQueue(config, db);
  const worker = new ImageWorker(metadata, registry, new VariantWriter(metadata, placer), {
    variants: DEFAULT_VARIANTS,
    maxPixels: config.maxPixels,
    maxAttempts: config.jobAttempts,
  });
  const handle = createJobHandler(worker, new FileReaper(metadata, registry));
  const consumer = await jobs.consume(
    async (job) => {
      await handle(job);
      events.onJobDone?.(job);
    },
    { concurrency: config.concurrency },
  );
  return {
    close: async () => {
      await consumer.stop();
      await Promise.all([nodeSync.stop(), health.stop()]);
      await jobs.close();
      await registry.close();
      db.close();
    },
  };
}
