import { Redis } from 'ioredis';

const SHARED_REDIS = 'redis://127.0.0.1:6379';

/** Keys under a test's own prefix on the shared Redis (never anything else). */
export function redisKeys(prefix: string, url = SHARED_REDIS): Promise<string[]> {
  return withRedis(url, async (redis) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  });
}

/** Removes what a test left under its prefix. */
export async function deleteRedisKeys(prefix: string, url = SHARED_REDIS): Promise<void> {
  const keys = await redisKeys(prefix, url);
  if (keys.length > 0) await withRedis(url, (redis) => redis.del(...keys));
}

async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}
