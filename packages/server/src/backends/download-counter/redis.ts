import type { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import { LuaScript } from '../redis/lua-script.js';
import type { DownloadCounter, DownloadLedger, RefusalReason, TakeResult } from './download-counter.js';

/** Stored instead of a count once the owner deleted the file. */
const CLOSED = -1;
const NOT_HERE = -3;

/**
 * A file's count is a hash `{ epoch, left }`. It is current only while its
 * epoch is the one in the epoch key: a gateway that counted on the index
 * while Redis was out of its reach bumps the epoch before it uses Redis
 * again, which makes every count from before stale at once (O(1), no SCAN),
 * so each is re-seeded from the ledger at its next take. A key of another
 * type (the plain integer of older versions) is stale too.
 */
const CURRENT = `
local epoch = redis.call('GET', KEYS[1]) or '0'
local got = redis.pcall('HMGET', KEYS[2], 'epoch', 'left')
local left = false
if got.err == nil and got[1] == epoch then left = got[2] end
`;

/**
 * Takes one download if any is left. A count Redis does not have (never
 * used, Redis restarted empty, or stale) is created from the seed the
 * caller read from the ledger, and expires with the file. Returns what is
 * left after the take; -1: none was left; -2: the file was deleted; -3: no
 * count here and no seed given.
 */
const TAKE = new LuaScript(`${CURRENT}
if not left then
  if ARGV[1] == nil then return ${NOT_HERE} end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'left', ARGV[1])
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
  left = ARGV[1]
end
left = tonumber(left)
if left == ${CLOSED} then return -2 end
if left <= 0 then return -1 end
return redis.call('HINCRBY', KEYS[2], 'left', -1)
`);

/** Gives one back to a current count; -3: none here (the ledger alone has it, and seeds it). */
const REFUND = new LuaScript(`${CURRENT}
if not left then return ${NOT_HERE} end
if tonumber(left) < 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'left', 1)
return 1
`);

const CLOSE = new LuaScript(`
local epoch = redis.call('GET', KEYS[1]) or '0'
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'epoch', epoch, 'left', ${CLOSED})
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
return 1
`);

/**
 * The counter shared by every gateway: one Lua script per download, so the
 * check and the decrement are atomic across gateways. The index's ledger is
 * written after each take, before any byte is served, and has the last
 * word: the write-through is conditional (a download left there, the file
 * not deleted), so whatever Redis says, no gateway serves more than the
 * index allows. A Redis that restarts empty, or whose counts went stale, is
 * re-seeded from the ledger. A command that fails throws
 * COUNTER_UNAVAILABLE; `FallbackDownloadCounter` then counts on the index.
 */
export class RedisDownloadCounter implements DownloadCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ledger: DownloadLedger,
  ) {}

  async take(fileId: string, now: number, graceMs: number): Promise<TakeResult> {
    let result = await this.run(TAKE, fileId, []);
    if (result === NOT_HERE) {
      const state = await this.ledger.state(fileId, now);
      if (!state.open) return { ok: false, reason: state.reason };
      result = await this.run(TAKE, fileId, [state.downloadsLeft, state.expiresAt]);
    }
    if (result < 0) return { ok: false, reason: await this.refusal(result, fileId, now) };
    let recorded: boolean;
    try {
      recorded = await this.ledger.recordTake(fileId, result, now + graceMs);
    } catch (error) {
      // The index could not record it (unreachable), so nothing is served: Redis gets the download back.
      // Kept, it would leave Redis one below the index for good, a download nobody can take. (Had the
      // UPDATE run after all, Redis is one above the index, which refuses the extra take: never served.)
      await this.run(REFUND, fileId, []).catch(() => {});
      throw error;
    }
    if (recorded) return { ok: true, downloadsLeft: result };
    // Redis granted what the index no longer has (downloads counted on the index while this
    // count was out of reach, or the owner deleted the file): the index decides.
    const state = await this.ledger.state(fileId, now);
    return { ok: false, reason: state.open ? 'exhausted' : state.reason };
  }

  /** The ledger first, so it never holds fewer downloads than Redis and a write-through is never refused wrongly. */
  async refund(fileId: string): Promise<void> {
    await this.ledger.recordRefund(fileId);
    await this.run(REFUND, fileId, []);
  }

  async close(fileId: string, expiresAt: number): Promise<void> {
    await this.run(CLOSE, fileId, [Math.max(expiresAt, Date.now() + 1000)]);
  }

  async forget(fileId: string): Promise<void> {
    await this.guard(() => this.redis.del(this.key(fileId)));
  }

  /** Makes every count in Redis stale: they are re-seeded from the ledger at their next take. */
  async newEpoch(): Promise<void> {
    await this.guard(() => this.redis.incr(this.epochKey()));
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

  private epochKey(): string {
    return `${this.prefix}downloads-epoch`;
  }

  private async run(script: LuaScript, fileId: string, args: number[]): Promise<number> {
    return Number(await this.guard(() => script.run(this.redis, [this.epochKey(), this.key(fileId)], args)));
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
