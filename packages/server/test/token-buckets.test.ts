import { ENGINES } from '../../../test-support/test-database.js';
import { RedisTokenBuckets } from '../src/backends/token-buckets/redis.js';
import { tokenBucketStoreContract } from './token-bucket-store.contract.js';
import { indexStores, redisStores } from './store-harnesses.js';

// One contract, every store the rate limits can use: Redis, and each index engine.
tokenBucketStoreContract(
  'redis',
  redisStores((redis, prefix) => new RedisTokenBuckets(redis, prefix)),
);
for (const kind of ENGINES)
  tokenBucketStoreContract(
    kind,
    indexStores(kind, (engine) => engine.buckets),
  );
