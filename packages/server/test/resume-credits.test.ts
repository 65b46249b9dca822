import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deleteRedisKeys } from '../../../test-support/redis-keys.js';
import { ENGINES, freshDatabase } from '../../../test-support/test-database.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openIndexEngine } from '../src/backends/open-backends.js';
import { RedisResumeCredits } from '../src/backends/resume-credits/redis.js';
import { resumeCreditStoreContract } from './resume-credit-store.contract.js';

// One contract, every store resume credits can live in: Redis, and each index engine.
resumeCreditStoreContract('redis', async () => {
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  return {
    async open() {
      const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
      clients.push(redis);
      return new RedisResumeCredits(redis, prefix);
    },
    async cleanup() {
      await deleteRedisKeys(prefix);
      for (const redis of clients) redis.disconnect();
    },
  };
});

for (const kind of ENGINES) {
  resumeCreditStoreContract(kind, async () => {
    const database = freshDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'legim-credits-'));
    const config = parseDatabase(database.value, dataDir);
    const engines: IndexEngine[] = [];
    return {
      async open() {
        const engine = await openIndexEngine(config);
        engines.push(engine);
        return engine.credits;
      },
      async cleanup() {
        for (const engine of engines) await engine.close();
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
}
