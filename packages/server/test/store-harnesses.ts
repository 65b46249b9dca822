import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deleteRedisKeys } from '../../../test-support/redis-keys.js';
import { freshDatabase, type EngineKind } from '../../../test-support/test-database.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openIndexEngine } from '../src/backends/open-backends.js';

/** What a store's contract suite needs: stores on one shared backing (as gateways share it), and a cleanup. */
export interface StoreHarness<Store> {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** Stores on the shared test Redis, under a key prefix of their own; each `open` is another connection. */
export function redisStores<Store>(make: (redis: Redis, prefix: string) => Store): () => Promise<StoreHarness<Store>> {
  return async () => {
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const clients: Redis[] = [];
    return {
      async open() {
        const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
        clients.push(redis);
        return make(redis, prefix);
      },
      async cleanup() {
        await deleteRedisKeys(prefix);
        for (const redis of clients) redis.disconnect();
      },
    };
  };
}

/** Stores in a fresh index of `kind`; each `open` is another engine on the same database. */
export function indexStores<Store>(
  kind: EngineKind,
  pick: (engine: IndexEngine) => Store,
): () => Promise<StoreHarness<Store>> {
  return async () => {
    const database = freshDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'legim-stores-'));
    const config = parseDatabase(database.value, dataDir);
    const engines: IndexEngine[] = [];
    return {
      async open() {
        const engine = await openIndexEngine(config);
        engines.push(engine);
        return pick(engine);
      },
      async cleanup() {
        for (const engine of engines) await engine.close();
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  };
}
