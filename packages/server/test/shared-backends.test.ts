import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSharedBackends, type SharedBackends } from '../src/backends/open-backends.js';
import { SqliteDownloadCounter } from '../src/backends/download-counter/sqlite.js';
import { RedlockLeaseStore } from '../src/backends/locks/redlock.js';
import { SqliteLeaseStore } from '../src/backends/locks/sqlite.js';
import { openDatabase } from '../src/metadata/open-database.js';
import { SqliteMetadataStore } from '../src/metadata/sqlite-metadata-store.js';
import type { FileRecord } from '../src/metadata/types.js';
import { waitFor } from './support.js';

const SHARED_REDIS = 'redis://127.0.0.1:6379';
const HOUR = 3600_000;

/**
 * Two "gateways": each its own connection to one SQLite file and, for the
 * Redis flavour, its own Redis connection, as separate processes would have.
 */
interface Pair {
  a: SharedBackends;
  b: SharedBackends;
  dbA: Database.Database;
  /** Takes a lease for `ms` the way a process that then crashed would. */
  crashedHolder(resource: string, ms: number): Promise<boolean>;
  addFile(overrides?: Partial<FileRecord>): Promise<FileRecord>;
  close(): Promise<void>;
}

async function openPair(redisUrl: string | undefined): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'legim-backends-'));
  const config = { redisUrl, redisPrefix: `test-${randomUUID().slice(0, 8)}:` };
  const dbA = openDatabase(join(dir, 'metadata.db'));
  const dbB = openDatabase(join(dir, 'metadata.db'));
  const a = await openSharedBackends(config, dbA, 'test-a');
  const b = await openSharedBackends(config, dbB, 'test-b');
  const metadata = new SqliteMetadataStore(dbA);
  const redis = redisUrl ? new Redis(redisUrl) : undefined;
  const leases = redis ? new RedlockLeaseStore([redis], config.redisPrefix) : new SqliteLeaseStore(dbA);
  return {
    a,
    b,
    dbA,
    crashedHolder: async (resource, ms) => (await leases.tryAcquire(resource, ms)) !== undefined,
    async addFile(overrides = {}) {
      const file = fileRecord(overrides);
      await metadata.insertFile(file, { durable: [], pending: [] }, Date.now());
      return file;
    },
    async close() {
      await Promise.all([a.close(), b.close()]);
      redis?.disconnect();
      dbA.close();
      dbB.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function fileRecord(overrides: Partial<FileRecord>): FileRecord {
  const now = Date.now();
  return {
    id: randomUUID(),
    title: 'test',
    size: 1,
    contentType: 'image/png',
    extension: 'png',
    width: 1,
    height: 1,
    sha256: '0'.repeat(64),
    maxDownloads: 5,
    downloadsLeft: 5,
    createdAt: now,
    expiresAt: now + HOUR,
    deleteAt: null,
    deleteReason: null,
    deleteTokenHash: 'x',
    status: 'ready',
    statusReason: null,
    replicasWanted: 1,
    ...overrides,
  };
}

function downloadsLeftInIndex(db: Database.Database, id: string): number | undefined {
  return (db.prepare('SELECT downloads_left FROM files WHERE id = ?').get(id) as { downloads_left: number } | undefined)
    ?.downloads_left;
}

describe.each([
  { backend: 'sqlite', redisUrl: undefined },
  { backend: 'redis', redisUrl: SHARED_REDIS },
])('shared backends ($backend)', ({ redisUrl }) => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await openPair(redisUrl);
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
      expect(downloadsLeftInIndex(pair.dbA, file.id)).toBe(0);
      const row = pair.dbA.prepare('SELECT delete_at, delete_reason FROM files WHERE id = ?').get(file.id);
      expect(row).toEqual({ delete_at: now + 60_000, delete_reason: 'exhausted' });
    });

    it('gives a refunded download back, also after the last one was taken', async () => {
      const file = await pair.addFile({ maxDownloads: 1, downloadsLeft: 1 });
      expect(await pair.a.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 0 });
      await pair.a.counter.refund(file.id);
      expect(downloadsLeftInIndex(pair.dbA, file.id)).toBe(1);
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
      await new SqliteMetadataStore(pair.dbA).scheduleDeletion(file.id, Date.now() + 1000, 'deleted');
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

describe('SqliteDownloadCounter as the ledger', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records takes relatively, so out-of-order write-throughs add up', async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-ledger-'));
    const db = openDatabase(join(dir, 'metadata.db'));
    const ledger = new SqliteDownloadCounter(db);
    const file = fileRecord({ maxDownloads: 3, downloadsLeft: 3 });
    await new SqliteMetadataStore(db).insertFile(file, { durable: [], pending: [] }, Date.now());
    // Redis said 1 left, then 2 left (two takes whose write-throughs crossed), then a refund.
    ledger.recordTake(file.id, 1, 0);
    ledger.recordTake(file.id, 2, 0);
    ledger.recordRefund(file.id);
    expect(ledger.state(file.id, Date.now())).toEqual({ open: true, downloadsLeft: 2, expiresAt: file.expiresAt });
    db.close();
  });
});
