import type Database from 'better-sqlite3';
import type { DownloadCounter } from './download-counter/download-counter.js';
import { RedisDownloadCounter } from './download-counter/redis.js';
import { SqliteDownloadCounter } from './download-counter/sqlite.js';
import { LockService } from './locks/lock-service.js';
import { RedlockLeaseStore } from './locks/redlock.js';
import { SqliteLeaseStore } from './locks/sqlite.js';
import { InProcessMetadataCache } from './metadata-cache/in-process.js';
import type { MetadataCache } from './metadata-cache/metadata-cache.js';
import { RedisInvalidatedCache } from './metadata-cache/redis-invalidated.js';
import { openRedis } from './redis/open-redis.js';

/** The concerns that must agree across gateways: embedded (SQLite, in-process) or Redis. */
export interface SharedBackends {
  counter: DownloadCounter;
  locks: LockService;
  cache: MetadataCache;
  /** For the health view: where downloads are counted and whether it answers now. */
  counterState(): { backend: 'sqlite' | 'redis'; reachable: boolean };
  close(): Promise<void>;
}

/** Redis when a URL is configured, otherwise the metadata database and this process's memory. */
export async function openSharedBackends(
  config: { redisUrl: string | undefined; redisPrefix: string },
  db: Database.Database,
  name: string,
): Promise<SharedBackends> {
  const ledger = new SqliteDownloadCounter(db);
  if (!config.redisUrl) {
    return {
      counter: ledger,
      locks: new LockService(new SqliteLeaseStore(db)),
      cache: new InProcessMetadataCache(),
      counterState: () => ({ backend: 'sqlite', reachable: true }),
      close: async () => {},
    };
  }
  const redis = await openRedis(config.redisUrl, name);
  const cache = RedisInvalidatedCache.open(redis, config.redisPrefix);
  return {
    counter: new RedisDownloadCounter(redis, config.redisPrefix, ledger),
    locks: new LockService(new RedlockLeaseStore([redis], config.redisPrefix)),
    cache,
    counterState: () => ({ backend: 'redis', reachable: redis.status === 'ready' }),
    close: async () => {
      await cache.close();
      redis.disconnect();
    },
  };
}
