import type { DownloadLedger } from '../download-counter/download-counter.js';
import { RedisDownloadCounter } from '../download-counter/redis.js';
import { LockService } from '../locks/lock-service.js';
import { RedlockLeaseStore } from '../locks/redlock.js';
import { RedisInvalidatedCache } from '../metadata-cache/redis-invalidated.js';
import { openRedis } from './open-redis.js';

/** Counters, locks and cache invalidation on one Redis, with the index as the counters' ledger. */
export async function openRedisBackends(url: string, prefix: string, ledger: DownloadLedger, name: string) {
  const redis = await openRedis(url, name);
  const cache = RedisInvalidatedCache.open(redis, prefix);
  return {
    counter: new RedisDownloadCounter(redis, prefix, ledger),
    locks: new LockService(new RedlockLeaseStore([redis], prefix)),
    cache,
    reachable: () => redis.status === 'ready',
    close: async () => {
      await cache.close();
      redis.disconnect();
    },
  };
}
