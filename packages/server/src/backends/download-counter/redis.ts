import type { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import { LuaScript } from '../redis/lua-script.js';
import type { DownloadCounter, DownloadLedger, RefusalReason, TakeResult } from './download-counter.js';

/** Stored instead of a count once the owner deleted the file. */
const CLOSED = -1;
const NOT_HERE = -3;

/**
 * Takes one download if any is left. A key Redis does not have (never used,
 * or Redis restarted empty) is created from the seed the caller read from
 * the ledger, and expires with the file. Returns what is left after the
 * take; -1: none was left; -2: the file was deleted; -3: no count here and
 * no seed given.
 */
const TAKE = new LuaScript(`
local left = redis.call('GET', KEYS[1])
if not left then
  if ARGV[1] == nil then return ${NOT_HERE} end
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2], 'NX')
  left = redis.call('GET', KEYS[1])
end
left = tonumber(left)
if left == ${CLOSED} then return -2 end
if left <= 0 then return -1 end
return redis.call('DECR', KEYS[1])
`);

/** Gives one back unless the key is gone or closed. */
const REFUND = new LuaScript(`
local left = tonumber(redis.call('GET', KEYS[1]))
if left == nil or left < 0 then return 0 end
redis.call('INCR', KEYS[1])
return 1
`);

/**
 * The counter shared by every gateway: one Lua script per download, so the
 * check and the decrement are atomic across gateways. The index's ledger is
 * written after each take and refund, before any byte is served, so a Redis
 * that restarts empty is re-seeded with counts that include every download
 * served. While Redis is unreachable downloads fail closed with 503
 * COUNTER_UNAVAILABLE; the client reconnects by itself.
 */
export class RedisDownloadCounter implements DownloadCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ledger: DownloadLedger,
  ) {}

  async take(fileId: string, now: number, graceMs: number): Promise<TakeResult> {
    const key = this.key(fileId);
    let result = await this.run(TAKE, key, []);
    if (result === NOT_HERE) {
      const state = await this.ledger.state(fileId, now);
      if (!state.open) return { ok: false, reason: state.reason };
      result = await this.run(TAKE, key, [state.downloadsLeft, state.expiresAt]);
    }
    if (result < 0) return { ok: false, reason: await this.refusal(result, fileId, now) };
    await this.ledger.recordTake(fileId, result, now + graceMs);
    return { ok: true, downloadsLeft: result };
  }

  async refund(fileId: string): Promise<void> {
    if ((await this.run(REFUND, this.key(fileId), [])) === 1) await this.ledger.recordRefund(fileId);
  }

  async close(fileId: string, expiresAt: number): Promise<void> {
    await this.guard(() => this.redis.set(this.key(fileId), CLOSED, 'PXAT', Math.max(expiresAt, Date.now() + 1000)));
  }

  async forget(fileId: string): Promise<void> {
    await this.guard(() => this.redis.del(this.key(fileId)));
  }

  private async refusal(result: number, fileId: string, now: number): Promise<RefusalReason> {
    if (result === -2) return 'deleted';
    // None left: the ledger knows whether the file expired or was used up.
    const state = await this.ledger.state(fileId, now);
    return state.open ? 'exhausted' : state.reason;
  }

  private key(fileId: string): string {
    return `${this.prefix}downloads:${fileId}`;
  }

  private async run(script: LuaScript, key: string, args: number[]): Promise<number> {
    return Number(await this.guard(() => script.run(this.redis, [key], args)));
  }

  private async guard<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new LegimError('COUNTER_UNAVAILABLE', 'the download counter cannot be reached; try again shortly', {
        cause: error,
      });
    }
  }
}
