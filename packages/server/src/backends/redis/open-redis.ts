import type { Logger } from '@legim/node';
import { Redis } from 'ioredis';

const CONNECT_WAIT_MS = 3000;

/**
 * A Redis connection for the hot path. Commands fail at once while Redis is
 * unreachable instead of queueing: a download must get a quick 503, not hang
 * until Redis returns. The client keeps reconnecting by itself.
 */
export async function openRedis(url: string, name: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  // ioredis reports each failed reconnect; one line per outage is enough.
  let reported = false;
  redis.on('error', (error: Error) => {
    if (!reported) logger.warn(`redis (${name}): ${error.message}; retrying in the background`);
    reported = true;
  });
  redis.on('ready', () => (reported = false));
  await waitUntilReady(redis);
  return redis;
}

/** A gateway starts even while Redis is down (it answers 503 where Redis is needed, and recovers). */
function waitUntilReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => {
    if (redis.status === 'ready') return resolve();
    const timer = setTimeout(resolve, CONNECT_WAIT_MS);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
