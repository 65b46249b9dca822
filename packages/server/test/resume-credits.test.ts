import { ENGINES } from '../../../test-support/test-database.js';
import { RedisResumeCredits } from '../src/backends/resume-credits/redis.js';
import { resumeCreditStoreContract } from './resume-credit-store.contract.js';
import { indexStores, redisStores } from './store-harnesses.js';

// One contract, every store resume credits can live in: Redis, and each index engine.
resumeCreditStoreContract(
  'redis',
  redisStores((redis, prefix) => new RedisResumeCredits(redis, prefix)),
);
for (const kind of ENGINES)
  resumeCreditStoreContract(
    kind,
    indexStores(kind, (engine) => engine.credits),
  );
