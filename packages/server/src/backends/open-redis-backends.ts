import type { Logger } from '@legim/node';
import type { IndexDownloadCounter } from './download-counter/download-counter.js';
import { FallbackDownloadCounter } from './download-counter/fallback.js';
import { RedisDownloadCounter } from './download-counter/redis.js';
import { LockService } from './locks/lock-service.js';
import { RedlockLeaseStore } from './locks/redlock.js';
import { RedisInvalidatedCache } from './metadata-cache/redis-invalidated.js';
import { openRedis } from './redis/open-redis.js';

/**
 * Counters, locks and cache invalidation on one Redis, with the index as the
 * counters' ledger, and its counter while Redis cannot be reached.
 */
export async function openRedisBackends(
  url: string,
  prefix: string,
  index: IndexDownloadCounter,
  name: string,
  logger: Logger,
) {
  const redis = await openRedis(url, name, logger);
  const cache = RedisInvalidatedCache.open(redis, prefix);
  const counter = new FallbackDownloadCounter(
    new RedisDownloadCounter(redis, prefix, index),
    index,
    () => redis.status === 'ready',
  );
  redis.on('ready', () => counter.resume());
  return {
    counter,
    locks: new LockService(new RedlockLeaseStore([redis], prefix)),
    cache,
    /** Downloads are counted in Redis (false: on the index, until Redis answers again). */
    reachable: () => counter.onRedis(),
    close: async () => {
      await cache.close();
      redis.disconnect();
    },
  };
}
