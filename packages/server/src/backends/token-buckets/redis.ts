import type { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import { LuaScript } from '../redis/lua-script.js';
import { decide, type BucketDecision, type BucketLimit, type TokenBucketStore } from '../../rate-limit/token-bucket.js';

/**
 * One take, atomic in Redis: the arithmetic of `takeTokens`. A bucket is a
 * hash `{ tokens, at }` that expires once it would be full again (a missing
 * bucket is a full one). Returns whether it was allowed and the tokens left,
 * as text (Redis would cut a Lua number to an integer).
 */
const TAKE = new LuaScript(`
local cost, limit, period, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local rate = limit / period
local got = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = limit
if got[1] then tokens = math.min(limit, tonumber(got[1]) + math.max(0, now - tonumber(got[2])) * rate) end
local allowed = tokens >= math.max(cost, 1)
if allowed and cost > 0 then
  tokens = tokens - cost
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((limit - tokens) / rate) + 1)
end
return { allowed and 1 or 0, tostring(tokens) }
`);

/** Token buckets in Redis, shared by every gateway that uses it; each take is one script. */
export class RedisTokenBuckets implements TokenBucketStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async take(bucket: string, cost: number, limit: BucketLimit, now: number): Promise<BucketDecision> {
    let reply: [number, string];
    try {
      reply = (await TAKE.run(
        this.redis,
        [`${this.prefix}rate:${bucket}`],
        [cost, limit.limit, limit.periodMs, now],
      )) as [number, string];
    } catch (error) {
      throw new LegimError('UNAVAILABLE', 'the rate limiter (Redis) cannot be reached; try again shortly', {
        cause: error,
        details: { retryAfter: 1 },
      });
    }
    return decide(Number(reply[1]), reply[0] === 1, cost, limit);
  }

  /** Buckets expire by themselves. */
  async prune(): Promise<void> {}
}
