import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisDownloadCounter } from '../src/backends/download-counter/redis.js';
import type { DownloadLedger } from '../src/backends/download-counter/download-counter.js';
import { deleteRedisKeys } from '../../../test-support/redis-keys.js';

const prefix = `test-${randomBytes(6).toString('hex')}:`;

describe('the Redis download counter when the index cannot record a take', () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  afterAll(async () => {
    await deleteRedisKeys(prefix);
    redis.disconnect();
  });

  it('gives the download back to Redis, so Redis and the index stay in step', async () => {
    let indexLeft = 5;
    let indexDown = false;
    const ledger: DownloadLedger = {
      state: async () => ({ open: true, downloadsLeft: indexLeft, maxDownloads: 5, expiresAt: Date.now() + 60_000 }),
      recordTake: async () => {
        // Found in the chaos test: PostgreSQL going away between Redis's decrement and the write-through.
        if (indexDown) throw new LegimError('INDEX_UNAVAILABLE', 'the index database cannot be reached');
        indexLeft--;
        return true;
      },
      recordRefund: async () => void indexLeft++,
    };
    const counter = new RedisDownloadCounter(redis, prefix, ledger);
    const id = randomUUID();
    expect(await counter.take(id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 4 });
    indexDown = true;
    await expect(counter.take(id, Date.now(), 1000)).rejects.toMatchObject({ code: 'INDEX_UNAVAILABLE' });
    indexDown = false;
    // The refused take used nothing: 3 left after this one, on Redis as on the index.
    expect(await counter.take(id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 3 });
    expect(indexLeft).toBe(3);
    const served = [];
    for (let i = 0; i < 5; i++) served.push(await counter.take(id, Date.now(), 1000));
    expect(served.filter((r) => r.ok)).toHaveLength(3);
  });
});
