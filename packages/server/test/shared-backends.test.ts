import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, freshDatabase, type EngineKind } from '../../../test-support/test-database.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { RedlockLeaseStore } from '../src/backends/locks/redlock.js';
import { openBackends, openIndexEngine, type Backends } from '../src/backends/open-backends.js';
import type { FileRecord } from '../src/metadata/types.js';
import { waitFor } from './support.js';
import { fileRecord } from './index-contract/fixtures.js';
import { quietLogger } from '../../../test-support/logger.js';

const SHARED_REDIS = 'redis://127.0.0.1:6379';

/**
 * Two "gateways" on one index (a SQLite file or a PostgreSQL schema), each
 * with its own engine and, for the Redis flavour, its own Redis connection,
 * as separate processes would have. A third engine plays the operator.
 */
interface Pair {
  a: Backends;
  b: Backends;
  /** Reads and writes the index the way a third process would. */
  index: IndexEngine;
  /** Takes a lease for `ms` the way a process that then crashed would. */
  crashedHolder(resource: string, ms: number): Promise<boolean>;
  addFile(overrides?: Partial<FileRecord>): Promise<FileRecord>;
  close(): Promise<void>;
}

async function openPair(engine: EngineKind, redisUrl: string | undefined): Promise<Pair> {
  const database = freshDatabase(engine);
  const dir = mkdtempSync(join(tmpdir(), 'legim-backends-'));
  const config = {
    database: parseDatabase(database.value, dir),
    redisUrl,
    redisPrefix: `test-${randomUUID().slice(0, 8)}:`,
    amqpUrl: undefined,
    queuePrefix: `t_${randomUUID().slice(0, 8)}`,
    jobAttempts: 3,
  };
  const a = await openBackends(config, 'test-a', quietLogger);
  const b = await openBackends(config, 'test-b', quietLogger);
  const index = await openIndexEngine(config.database);
  const redis = redisUrl ? new Redis(redisUrl) : undefined;
  const leases = redis ? new RedlockLeaseStore([redis], config.redisPrefix) : index.leases;
  return {
    a,
    b,
    index,
    crashedHolder: async (resource, ms) => (await leases.tryAcquire(resource, ms)) !== undefined,
    async addFile(overrides = {}) {
      const file = fileRecord(overrides);
      await index.metadata.insertFile(file, { durable: [], pending: [] }, Date.now());
      return file;
    },
    async close() {
      await Promise.all([a.close(), b.close()]);
      redis?.disconnect();
      await index.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const MATRIX = ENGINES.flatMap((engine) => [
  { engine, counter: engine, redisUrl: undefined },
  { engine, counter: 'redis', redisUrl: SHARED_REDIS },
]);

describe.each(MATRIX)('shared backends (index $engine, counter and locks $counter)', ({ engine, redisUrl }) => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await openPair(engine, redisUrl);
  });
  afterAll(() => pair?.close());

  describe('DownloadCounter', () => {
    it('hands out exactly maxDownloads across two gateways, and keeps the index in step', async () => {
      const file = await pair.addFile({ maxDownloads: 7, downloadsLeft: 7 });
      const now = Date.now();
      const takes = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? pair.a : pair.b).counter.take(file.id, now, 60_000)),
      );
      const granted = takes.filter((t) => t.ok);
      expect(granted).toHaveLength(7);
      expect(new Set(granted.map((t) => (t.ok ? t.downloadsLeft : -1)))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
      expect(takes.filter((t) => !t.ok && t.reason === 'exhausted')).toHaveLength(93);
      // Each take is in the index before it resolves (the Redis counter writes through to its ledger).
      expect(await pair.index.metadata.getFile(file.id)).toMatchObject({
        downloadsLeft: 0,
        deleteAt: now + 60_000,
        deleteReason: 'exhausted',
      });
    });

    it('gives a refunded download back, also after the last one was taken', async () => {
      const file = await pair.addFile({ maxDownloads: 1, downloadsLeft: 1 });
      expect(await pair.a.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 0 });
      await pair.a.counter.refund(file.id);
      expect((await pair.index.metadata.getFile(file.id))?.downloadsLeft).toBe(1);
      expect(await pair.b.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 0 });
      expect(await pair.b.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: false, reason: 'exhausted' });
    });

    it('refuses a deleted file on every gateway once one closed it', async () => {
      const file = await pair.addFile();
      expect((await pair.b.counter.take(file.id, Date.now(), 1000)).ok).toBe(true);
      await pair.a.counter.close(file.id, file.expiresAt);
      // The caller marks the index too; the Redis counter must refuse even before that.
      if (redisUrl)
        expect(await pair.b.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: false, reason: 'deleted' });
      await pair.index.metadata.scheduleDeletion(file.id, Date.now() + 1000, 'deleted');
      expect(await pair.b.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: false, reason: 'deleted' });
    });

    it('says why: expired, unknown', async () => {
      const file = await pair.addFile({ expiresAt: Date.now() - 1 });
      expect(await pair.a.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: false, reason: 'expired' });
      expect(await pair.a.counter.take(randomUUID(), Date.now(), 1000)).toEqual({ ok: false, reason: 'missing' });
    });
  });

  describe('LockService', () => {
    it('lets one holder at a time do its steps, across two gateways', async () => {
      const resource = `file:${randomUUID()}`;
      let inside = 0;
      let most = 0;
      const order: string[] = [];
      const work = (who: string) => async () => {
        inside++;
        most = Math.max(most, inside);
        order.push(`${who}+`);
        await sleep(20);
        order.push(`${who}-`);
        inside--;
      };
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? pair.a : pair.b).locks.withLock(resource, { waitMs: 10_000 }, work(String(i))),
        ),
      );
      expect(most).toBe(1);
      expect(order).toHaveLength(12);
    });

    it('gives up at once when asked not to wait, and frees the lock after the work', async () => {
      const resource = `file:${randomUUID()}`;
      let release!: () => void;
      const held = pair.a.locks.withLock(resource, { waitMs: 0 }, () => new Promise<void>((r) => (release = r)));
      await waitFor(() => release !== undefined, 'the first holder');
      await expect(pair.b.locks.withLock(resource, { waitMs: 0 }, async () => 'no')).rejects.toMatchObject({
        code: 'LOCK_BUSY',
      });
      release();
      await held;
      await expect(pair.b.locks.withLock(resource, { waitMs: 0 }, async () => 'yes')).resolves.toBe('yes');
    });

    it('a holder that died blocks others for one lease at most', async () => {
      const resource = `file:${randomUUID()}`;
      // Taken straight from the store and never renewed nor released: a process that crashed.
      expect(await pair.crashedHolder(resource, 300)).toBe(true);
      await expect(pair.b.locks.withLock(resource, { waitMs: 0 }, async () => 'no')).rejects.toMatchObject({
        code: 'LOCK_BUSY',
      });
      await expect(pair.b.locks.withLock(resource, { waitMs: 3000 }, async () => 'taken over')).resolves.toBe(
        'taken over',
      );
    });

    it('releases the lock when the work fails', async () => {
      const resource = `file:${randomUUID()}`;
      await expect(
        pair.a.locks.withLock(resource, { waitMs: 0 }, async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await expect(pair.b.locks.withLock(resource, { waitMs: 0 }, async () => 'free')).resolves.toBe('free');
    });
  });

  describe('MetadataCache', () => {
    it('an invalidation on one gateway empties the entry on the other at once', async () => {
      const file = fileRecord({});
      const entry = { file, replicaNodeIds: ['n1'] };
      // The Redis flavour only caches once its invalidation channel is subscribed.
      await waitFor(() => {
        pair.b.cache.set(file.id, entry);
        return pair.b.cache.get(file.id) !== undefined;
      }, 'the cache to accept entries');
      await pair.a.cache.invalidate(file.id);
      if (redisUrl) await waitFor(() => pair.b.cache.get(file.id) === undefined, 'the invalidation to arrive', 1000);
      else expect(pair.b.cache.get(file.id)).toEqual(entry); // in-process: each gateway has its own
    });
  });
});

// The index counter as a ledger (relative write-throughs) is in index-contract/download-counter.contract.ts.
