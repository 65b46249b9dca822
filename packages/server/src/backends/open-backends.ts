import type { Logger } from '@legim/node';
import type { Health, Stats } from '@legim/sdk';
import type { JobBackoff, JobQueue } from '../jobs/job-queue.js';
import { MemoryOutbox } from '../jobs/memory-outbox.js';
import { TableJobQueue } from '../jobs/table-job-queue.js';
import type { MetadataStore } from '../metadata/types.js';
import type { KeyStore } from '../keys/key-store.js';
import type { TokenBucketStore } from '../rate-limit/token-bucket.js';
import type { IndexTotals } from '../stats/index-totals.js';
import type { DatabaseConfig } from './database-config.js';
import type { DownloadCounter } from './download-counter/download-counter.js';
import type { IndexEngine, IndexWait } from './index-engine.js';
import { LockService } from './locks/lock-service.js';
import { InProcessMetadataCache } from './metadata-cache/in-process.js';
import type { MetadataCache } from './metadata-cache/metadata-cache.js';
import type { ResumeCreditStore } from './resume-credits/resume-credit-store.js';

/** What the configuration says about where state lives, validated at the edge. */
export interface BackendConfig {
  database: DatabaseConfig;
  /** Redis for counters, locks and cache invalidation; undefined: the index and this process. */
  redisUrl: string | undefined;
  redisPrefix: string;
  /** RabbitMQ for jobs; undefined: the embedded queue in the index. */
  amqpUrl: string | undefined;
  queuePrefix: string;
  jobAttempts: number;
  /** The queue's default back-off unless set. */
  jobBackoff?: JobBackoff;
  /** How long a starting process waits for an index server that cannot be reached yet (default 0: fails at once). */
  indexWaitMs?: number;
}

/** Every backend concern of a gateway (or a worker on the index), opened from one configuration. */
export interface Backends {
  metadata: MetadataStore;
  totals: IndexTotals;
  keys: KeyStore;
  /** The rate limits' buckets: in Redis when the gateways use it, else in the index. */
  buckets: TokenBucketStore;
  /** Resume credits of cut downloads: in Redis when the gateways use it, else in the index. */
  credits: ResumeCreditStore;
  counter: DownloadCounter;
  locks: LockService;
  cache: MetadataCache;
  jobs: JobQueue;
  /** Which engine does what, for the health and stats views. */
  engines: { index: IndexEngine['kind']; counter: Health['counter']['backend']; jobs: Stats['jobs']['backend'] };
  /** Where downloads are counted and whether it answers now. */
  counterState: () => Health['counter'];
  /** Whether the index answered its last use. */
  indexReachable(): boolean;
  close(): Promise<void>;
}

/**
 * The one place engines are chosen. Each engine's code, and the client
 * library it needs (better-sqlite3, pg, ioredis and redlock, amqplib), is
 * loaded only when the configuration names it.
 */
export async function openBackends(config: BackendConfig, name: string, logger: Logger): Promise<Backends> {
  const index = await openIndexEngine(config.database, {
    waitMs: config.indexWaitMs,
    onWait: (error, retryInMs) =>
      logger.warn(
        `${error.message} (waiting up to ${(config.indexWaitMs ?? 0) / 1000} s in all; next try in ${retryInMs} ms)`,
      ),
  });
  const closing: (() => Promise<void>)[] = [() => index.close()];
  try {
    const redis = config.redisUrl
      ? await (
          await import('./open-redis-backends.js')
        ).openRedisBackends(config.redisUrl, config.redisPrefix, index, name, logger)
      : undefined;
    if (redis) closing.unshift(redis.close);
    const jobs = await openJobQueue(config, index, logger);
    closing.unshift(() => jobs.close());
    return {
      metadata: index.metadata,
      totals: index.totals,
      keys: index.keys,
      buckets: redis?.buckets ?? index.buckets,
      credits: redis?.credits ?? index.credits,
      counter: redis?.counter ?? index.counter,
      locks: redis?.locks ?? new LockService(index.leases),
      cache: redis?.cache ?? new InProcessMetadataCache(),
      jobs,
      engines: {
        index: index.kind,
        counter: redis ? 'redis' : index.kind,
        jobs: config.amqpUrl === undefined ? index.kind : 'rabbitmq',
      },
      counterState: () =>
        redis
          ? { backend: 'redis', reachable: redis.reachable() }
          : { backend: index.kind, reachable: index.reachable() },
      indexReachable: () => index.reachable(),
      close: () => closeAll(closing),
    };
  } catch (error) {
    await closeAll(closing);
    throw error;
  }
}

/** The index engine alone: for tools that move or inspect an index (`legim index copy`). */
export async function openIndexEngine(database: DatabaseConfig, wait?: IndexWait): Promise<IndexEngine> {
  switch (database.kind) {
    case 'sqlite':
      return (await import('./sqlite/open-sqlite-index.js')).openSqliteIndex(database.path);
    case 'postgres':
      return (await import('./postgres/open-postgres-index.js')).openPostgresIndex(database, wait);
  }
}

/**
 * RabbitMQ with an outbox in memory, for a `legim worker` on another host:
 * it has no index, and enqueues nothing itself (retries go through the
 * broker's retry queues), so nothing it would keep must outlive it.
 */
export async function openBrokerJobQueue(
  amqpUrl: string,
  options: { prefix: string; maxAttempts: number; logger: Logger } & JobBackoff,
) {
  const { RabbitJobQueue } = await import('../jobs/rabbitmq.js');
  return RabbitJobQueue.connect(amqpUrl, { ...options, outbox: new MemoryOutbox() });
}

async function openJobQueue(config: BackendConfig, index: IndexEngine, logger: Logger): Promise<JobQueue> {
  const options = { ...config.jobBackoff, maxAttempts: config.jobAttempts, prefix: config.queuePrefix, logger };
  if (config.amqpUrl === undefined) return new TableJobQueue(await index.jobTable(config.queuePrefix), options);
  const { RabbitJobQueue } = await import('../jobs/rabbitmq.js');
  return RabbitJobQueue.connect(config.amqpUrl, { ...options, outbox: await index.outbox(config.queuePrefix) });
}

async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const close of closers) await close();
}
