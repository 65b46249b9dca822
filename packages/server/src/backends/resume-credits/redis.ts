import type { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import { LuaScript } from '../redis/lua-script.js';
import type { ResumeCreditStore } from './resume-credit-store.js';

/** A hash `{ credits, until }` that expires with its window; the window only ever grows. */
const GRANT = new LuaScript(`
local now, ends = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if old <= now then redis.call('DEL', KEYS[1]) end
redis.call('HINCRBY', KEYS[1], 'credits', 1)
local last = math.max(old, ends)
redis.call('HSET', KEYS[1], 'until', tostring(last))
redis.call('PEXPIRE', KEYS[1], math.max(1, last - now))
return 1
`);

const TAKE = new LuaScript(`
local got = redis.call('HMGET', KEYS[1], 'credits', 'until')
local credits, ends = tonumber(got[1] or '0'), tonumber(got[2] or '0')
if credits < 1 or ends <= tonumber(ARGV[1]) then return 0 end
if credits == 1 then redis.call('DEL', KEYS[1]) else redis.call('HINCRBY', KEYS[1], 'credits', -1) end
return 1
`);

/** Resume credits in Redis, shared by every gateway that uses it; each grant and take is one script. */
export class RedisResumeCredits implements ResumeCreditStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async grant(fileId: string, client: string, now: number, until: number): Promise<void> {
    await this.run(GRANT, fileId, client, [now, until]);
  }

  async take(fileId: string, client: string, now: number): Promise<boolean> {
    return (await this.run(TAKE, fileId, client, [now])) === 1;
  }

  /** Credits expire by themselves. */
  async prune(): Promise<void> {}

  private async run(script: LuaScript, fileId: string, client: string, args: number[]): Promise<unknown> {
    try {
      return await script.run(this.redis, [`${this.prefix}resume:${fileId}:${client}`], args);
    } catch (error) {
      throw new LegimError('UNAVAILABLE', 'the resume credits (Redis) cannot be reached; try again shortly', {
        cause: error,
        details: { retryAfter: 1 },
      });
    }
  }
}
