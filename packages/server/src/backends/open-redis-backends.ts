import type { Logger } from '@legim/node';
import { FallbackDownloadCounter } from './download-counter/fallback.js';
import { RedisDownloadCounter } from './download-counter/redis.js';
import { LockService } from './locks/lock-service.js';
import { RedlockLeaseStore } from './locks/redlock.js';
import { RedisInvalidatedCache } from './metadata-cache/redis-invalidated.js';
import type { IndexEngine } from './index-engine.js';
import { openRedis } from './redis/open-redis.js';
import { FallbackResumeCredits } from './resume-credits/fallback.js';
import { RedisResumeCredits } from './resume-credits/redis.js';
import { FallbackTokenBuckets } from './token-buckets/fallback.js';
import { RedisTokenBuckets } from './token-buckets/redis.js';

/**
 * Counters, rate-limit buckets, resume credits, locks and cache invalidation on one Redis,
 * with the index as the counters' ledger, and its counter and buckets while
 * Redis cannot be reached.
 */
export async function openRedisBackends(
  url: string,
  prefix: string,
  index: Pick<IndexEngine, 'counter' | 'buckets' | 'credits'>,
  name: string,
  logger: Logger,
) {
  const redis = await openRedis(url, name, logger);
  const cache = RedisInvalidatedCache.open(redis, prefix);
  const counter = new FallbackDownloadCounter(
    new RedisDownloadCounter(redis, prefix, index.counter),
    index.counter,
    () => redis.status === 'ready',
  );
  redis.on('ready', () => counter.resume());
  return {
    counter,
    buckets: new FallbackTokenBuckets(
      new RedisTokenBuckets(redis, prefix),
      index.buckets,
      () => redis.status === 'ready',
    ),
    credits: new FallbackResumeCredits(
      new RedisResumeCredits(redis, prefix),
      index.credits,
      () => redis.status === 'ready',
    ),
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
