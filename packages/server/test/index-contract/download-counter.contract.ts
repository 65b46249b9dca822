import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IndexDownloadCounter } from '../../src/backends/download-counter/download-counter.js';
import { fileRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

/** The index's own `DownloadCounter`, and the `DownloadLedger` a Redis counter keeps in step. */
export function downloadCounterContract(harness: EngineHarness): void {
  describe('DownloadCounter and ledger', () => {
    const counter = (): IndexDownloadCounter => harness.engine().counter;
    const addFile = async (overrides: Parameters<typeof fileRecord>[0] = {}) => {
      const file = fileRecord(overrides);
      await harness.engine().metadata.insertFile(file, { durable: [], pending: [] }, Date.now());
      return file;
    };

    it('hands out exactly maxDownloads among many concurrent takes on two engines, then schedules deletion', async () => {
      const other = await harness.another();
      const file = await addFile({ maxDownloads: 7, downloadsLeft: 7 });
      const now = Date.now();
      const takes = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? counter() : other.counter).take(file.id, now, 60_000)),
      );
      const granted = takes.filter((take) => take.ok);
      expect(new Set(granted.map((take) => (take.ok ? take.downloadsLeft : -1)))).toEqual(
        new Set([0, 1, 2, 3, 4, 5, 6]),
      );
      expect(granted).toHaveLength(7);
      expect(takes.filter((take) => !take.ok && take.reason === 'exhausted')).toHaveLength(53);
      expect(await other.metadata.getFile(file.id)).toMatchObject({
        downloadsLeft: 0,
        deleteAt: now + 60_000,
        deleteReason: 'exhausted',
      });
    });

    it('gives a refunded download back, also the last one, never beyond maxDownloads', async () => {
      const file = await addFile({ maxDownloads: 1, downloadsLeft: 1 });
      expect(await counter().take(file.id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 0 });
      await counter().refund(file.id);
      expect(await harness.engine().metadata.getFile(file.id)).toMatchObject({
        downloadsLeft: 1,
        deleteAt: null,
        deleteReason: null,
      });
      await counter().refund(file.id);
      expect(await counter().state(file.id, Date.now())).toMatchObject({ open: true, downloadsLeft: 1 });
      expect(await counter().take(file.id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 0 });
      expect(await counter().take(file.id, Date.now(), 1000)).toEqual({ ok: false, reason: 'exhausted' });
    });

    it('says why a file is closed: missing, expired, exhausted, deleted', async () => {
      const now = Date.now();
      const open = await addFile({ downloadsLeft: 3 });
      expect(await counter().state(open.id, now)).toEqual({
        open: true,
        downloadsLeft: 3,
        maxDownloads: open.maxDownloads,
        expiresAt: open.expiresAt,
      });
      expect(await counter().state(randomUUID(), now)).toEqual({ open: false, reason: 'missing' });
      expect(await counter().take(randomUUID(), now, 1000)).toEqual({ ok: false, reason: 'missing' });

      const expired = await addFile({ expiresAt: now - 1 });
      expect(await counter().state(expired.id, now)).toEqual({ open: false, reason: 'expired' });
      expect(await counter().take(expired.id, now, 1000)).toEqual({ ok: false, reason: 'expired' });

      const last = await addFile({ maxDownloads: 1, downloadsLeft: 1 });
      await counter().take(last.id, now, 1000);
      expect(await counter().state(last.id, now)).toEqual({ open: false, reason: 'exhausted' });

      const deleted = await addFile();
      await counter().close(deleted.id, deleted.expiresAt);
      await harness.engine().metadata.scheduleDeletion(deleted.id, now + 1000, 'deleted');
      expect(await counter().state(deleted.id, now)).toEqual({ open: false, reason: 'deleted' });
      expect(await counter().take(deleted.id, now, 1000)).toEqual({ ok: false, reason: 'deleted' });
      await counter().forget(deleted.id);
    });

    it('records takes and refunds relatively, so out-of-order write-throughs add up', async () => {
      const file = await addFile({ maxDownloads: 3, downloadsLeft: 3 });
      // The fast counter said 1 left, then 2 left (two takes whose write-throughs crossed), then a refund.
      await counter().recordTake(file.id, { downloadsLeft: 1, maxDownloads: 3 }, 0);
      await counter().recordTake(file.id, { downloadsLeft: 2, maxDownloads: 3 }, 0);
      await counter().recordRefund(file.id);
      expect(await counter().state(file.id, Date.now())).toEqual({
        open: true,
        downloadsLeft: 2,
        maxDownloads: 3,
        expiresAt: file.expiresAt,
      });
    });

    it('refuses a recorded take the index has no download for: the index bounds every counter', async () => {
      const now = Date.now();
      // A fast counter that went stale still says 5 left; the index has 1.
      const file = await addFile({ maxDownloads: 5, downloadsLeft: 1 });
      expect(await counter().recordTake(file.id, { downloadsLeft: 4, maxDownloads: 5 }, now + 5000)).toBe(true);
      expect(await counter().recordTake(file.id, { downloadsLeft: 3, maxDownloads: 5 }, now + 5000)).toBe(false);
      expect(await counter().state(file.id, now)).toEqual({ open: false, reason: 'exhausted' });

      const deleted = await addFile({ downloadsLeft: 3 });
      await harness.engine().metadata.scheduleDeletion(deleted.id, now + 1000, 'deleted');
      expect(await counter().recordTake(deleted.id, { downloadsLeft: 2, maxDownloads: 5 }, now + 5000)).toBe(false);
      expect(await counter().state(deleted.id, now)).toEqual({ open: false, reason: 'deleted' });
      expect(await counter().recordTake(randomUUID(), { downloadsLeft: 2, maxDownloads: 5 }, now + 5000)).toBe(false);
    });

    it('schedules the deletion when a recorded take was the last one', async () => {
      const file = await addFile({ maxDownloads: 1, downloadsLeft: 1 });
      const deleteAt = Date.now() + 5000;
      await counter().recordTake(file.id, { downloadsLeft: 0, maxDownloads: 1 }, deleteAt);
      expect(await harness.engine().metadata.getFile(file.id)).toMatchObject({
        downloadsLeft: 0,
        deleteAt,
        deleteReason: 'exhausted',
      });
      await counter().recordRefund(file.id);
      expect(await counter().state(file.id, Date.now())).toMatchObject({ open: true, downloadsLeft: 1 });
    });

    it("does not end a file on a count's none-left from before its limit was raised", async () => {
      const file = await addFile({ maxDownloads: 1, downloadsLeft: 1 });
      await harness.engine().metadata.changeLimits(file.id, { maxDownloads: 3 }, Date.now());
      // A take counted under the old limit of 1, whose write-through lands after the raise.
      expect(await counter().recordTake(file.id, { downloadsLeft: 0, maxDownloads: 1 }, Date.now() + 5000)).toBe(true);
      expect(await harness.engine().metadata.getFile(file.id)).toMatchObject({ downloadsLeft: 2, deleteAt: null });
    });
  });
}
