import type { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import { LuaScript } from '../redis/lua-script.js';
import type { CountedTake, DownloadCounter, DownloadLedger, RefusalReason, TakeResult } from './download-counter.js';

/** Stored instead of a count once the owner deleted the file. */
const CLOSED = -1;
const NOT_HERE = -3;

/**
 * A file's count is a hash `{ epoch, left, max }` (`max`: the limit it was
 * seeded under). It is current only while its epoch is the one in the epoch
 * key: a gateway that counted on the index while Redis was out of its reach
 * bumps the epoch before it uses Redis again, which makes every count from
 * before stale at once (O(1), no SCAN), so each is re-seeded from the ledger
 * at its next take. A key of another type, or a hash without `max` (older
 * versions), is stale too.
 */
const CURRENT = `
local epoch = redis.call('GET', KEYS[1]) or '0'
local got = redis.pcall('HMGET', KEYS[2], 'epoch', 'left', 'max')
local left = false
local max = false
if got.err == nil and got[1] == epoch and got[3] then
  left = got[2]
  max = got[3]
end
`;

/**
 * Takes one download if any is left. A count Redis does not have (never
 * used, Redis restarted empty, or stale) is created from the seed the
 * caller read from the ledger (left, expiry, limit), and expires with the
 * file. Returns `{left after the take, limit}`; left -1: none was left; -2:
 * the file was deleted; -3: no count here and no seed given.
 */
const TAKE = new LuaScript(`${CURRENT}
if not left then
  if ARGV[1] == nil then return {${NOT_HERE}, 0} end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'left', ARGV[1], 'max', ARGV[3])
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
  left = ARGV[1]
  max = ARGV[3]
end
left = tonumber(left)
max = tonumber(max)
if left == ${CLOSED} then return {-2, max} end
if left <= 0 then return {-1, max} end
return {redis.call('HINCRBY', KEYS[2], 'left', -1), max}
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
redis.call('HSET', KEYS[2], 'epoch', epoch, 'left', ${CLOSED}, 'max', 0)
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
return 1
`);

/** Drops a count so the next take re-seeds it from the ledger; a closed one stays closed. */
const RESEED = new LuaScript(`${CURRENT}
if left and tonumber(left) == ${CLOSED} then return 0 end
return redis.call('DEL', KEYS[2])
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
    let counted = await this.runTake(fileId, []);
    if (counted.downloadsLeft === NOT_HERE) {
      const state = await this.ledger.state(fileId, now);
      if (!state.open) return { ok: false, reason: state.reason };
      counted = await this.runTake(fileId, [state.downloadsLeft, state.expiresAt, state.maxDownloads]);
    }
    const result = counted.downloadsLeft;
    if (result < 0) return { ok: false, reason: await this.refusal(result, fileId, now) };
    let recorded: boolean;
    try {
      recorded = await this.ledger.recordTake(fileId, counted, now + graceMs);
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

  async limitsChanged(fileId: string): Promise<void> {
    await this.run(RESEED, fileId, []);
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

  private async runTake(fileId: string, seed: number[]): Promise<CountedTake> {
    const [downloadsLeft, maxDownloads] = (await this.guard(() =>
      TAKE.run(this.redis, [this.epochKey(), this.key(fileId)], seed),
    )) as [number, number];
    return { downloadsLeft, maxDownloads };
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
