import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TOMBSTONE_MS, type FileIndex } from '../../src/metadata/types.js';
import { fileRecord, HOUR, variantRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

const NO_REPLICAS = { durable: [], pending: [] };

/** `FileIndex`: the files' records, limits, lifecycle and variants. */
export function fileIndexContract(harness: EngineHarness): void {
  describe('FileIndex', () => {
    const files = (): FileIndex => harness.engine().metadata;

    it('gives back a recorded file as it was inserted; an unknown id is undefined', async () => {
      const file = fileRecord({ status: 'processing', deleteAt: null, maxDownloads: 3, downloadsLeft: 3 });
      await files().insertFile(file, { durable: ['n1'], pending: ['n2'] }, Date.now());
      expect(await files().getFile(file.id)).toEqual(file);
      expect(await files().getFile(randomUUID())).toBeUndefined();
      expect(await files().getTombstone(file.id)).toBeUndefined();
    });

    it('leaves a tombstone with its reason after a purge, and prunes tombstones a week old', async () => {
      const [first, second] = [fileRecord(), fileRecord()];
      for (const file of [first, second]) await files().insertFile(file, NO_REPLICAS, Date.now());
      const purgedAt = Date.now();
      await files().purgeFile(first.id, 'exhausted', purgedAt);
      expect(await files().getFile(first.id)).toBeUndefined();
      expect(await files().getTombstone(first.id)).toEqual({ id: first.id, reason: 'exhausted', deletedAt: purgedAt });

      // A later purge prunes the tombstones older than TOMBSTONE_MS.
      await files().purgeFile(second.id, 'deleted', purgedAt + TOMBSTONE_MS + 1);
      expect(await files().getTombstone(first.id)).toBeUndefined();
      expect(await files().getTombstone(second.id)).toMatchObject({ reason: 'deleted' });
      expect(await files().countFiles()).toBe(0);
    });

    it('keeps the earliest scheduled deletion, with its reason', async () => {
      const file = fileRecord();
      await files().insertFile(file, NO_REPLICAS, Date.now());
      const at = Date.now() + 60_000;
      expect(await files().scheduleDeletion(file.id, at, 'exhausted')).toBe(true);
      expect(await files().scheduleDeletion(file.id, at + 1000, 'deleted')).toBe(false);
      expect(await files().getFile(file.id)).toMatchObject({ deleteAt: at, deleteReason: 'exhausted' });
      expect(await files().scheduleDeletion(file.id, at - 1000, 'deleted')).toBe(true);
      expect(await files().getFile(file.id)).toMatchObject({ deleteAt: at - 1000, deleteReason: 'deleted' });
      expect(await files().scheduleDeletion(randomUUID(), at, 'deleted')).toBe(false);
    });

    it('finds the files due for deletion by expiry and by deletion time, soonest expiry first, up to the limit', async () => {
      const now = Date.now();
      const expired = fileRecord({ expiresAt: now - 1000 });
      const expiredEarlier = fileRecord({ expiresAt: now - 5000 });
      const deleted = fileRecord({ deleteAt: now - 1, deleteReason: 'deleted' });
      const dueLater = fileRecord({ deleteAt: now + 60_000, deleteReason: 'exhausted' });
      const live = fileRecord();
      for (const file of [expired, expiredEarlier, deleted, dueLater, live]) {
        await files().insertFile(file, NO_REPLICAS, now);
      }
      const due = await files().dueForDeletion(now, 10);
      expect(due.map((file) => file.id)).toEqual([expiredEarlier.id, expired.id, deleted.id]);
      expect(due[2]).toEqual(deleted);
      expect(await files().dueForDeletion(now, 2)).toHaveLength(2);
      expect((await files().dueForDeletion(now + 60_000, 10)).map((file) => file.id)).toContain(dueLater.id);
    });

    it('records variants and marks the file ready; listed by name', async () => {
      const file = fileRecord({ status: 'processing' });
      await files().insertFile(file, { durable: ['n1'], pending: [] }, Date.now());
      const [thumb, small] = [variantRecord('thumb', 7), variantRecord('small', 9)];
      const recorded = await files().recordVariants(
        file.id,
        [
          { variant: thumb, nodeIds: ['n1', 'n2'] },
          { variant: small, nodeIds: ['n1'] },
        ],
        Date.now(),
      );
      expect(recorded).toBe(true);
      expect(await files().getFile(file.id)).toMatchObject({ status: 'ready', statusReason: null });
      expect(await files().listVariants(file.id)).toEqual([small, thumb]);
      expect(await harness.engine().metadata.replicaStates(`${file.id}.thumb`)).toEqual(
        expect.arrayContaining([
          { nodeId: 'n1', durable: true },
          { nodeId: 'n2', durable: true },
        ]),
      );
    });

    it('records no variant of a purged or unknown file, and says so', async () => {
      const file = fileRecord({ status: 'processing' });
      await files().insertFile(file, { durable: ['n1'], pending: [] }, Date.now());
      await files().purgeFile(file.id, 'deleted', Date.now());
      const variants = [{ variant: variantRecord('thumb'), nodeIds: ['n1'] }];
      expect(await files().recordVariants(file.id, variants, Date.now())).toBe(false);
      expect(await files().recordVariants(randomUUID(), variants, Date.now())).toBe(false);
      expect(await files().listVariants(file.id)).toEqual([]);
      expect(await harness.engine().metadata.replicaNodes(`${file.id}.thumb`)).toEqual([]);
    });

    it('marks a file failed with its reason', async () => {
      const file = fileRecord({ status: 'processing' });
      await files().insertFile(file, NO_REPLICAS, Date.now());
      await files().markFailed(file.id, 'cannot decode image');
      expect(await files().getFile(file.id)).toMatchObject({ status: 'failed', statusReason: 'cannot decode image' });
    });

    it('lists live files still processing that were uploaded before a time', async () => {
      const now = Date.now();
      const stale = fileRecord({ status: 'processing', createdAt: now - 10_000 });
      const fresh = fileRecord({ status: 'processing', createdAt: now });
      const ready = fileRecord({ status: 'ready', createdAt: now - 10_000 });
      const deleted = fileRecord({ status: 'processing', createdAt: now - 10_000, deleteAt: now + HOUR });
      const expired = fileRecord({ status: 'processing', createdAt: now - 10_000, expiresAt: now - 1 });
      for (const file of [stale, fresh, ready, deleted, expired]) await files().insertFile(file, NO_REPLICAS, now);
      expect(await files().staleProcessing(now - 5000, 10)).toEqual([stale.id]);
      expect(await files().staleProcessing(now - 5000, 0)).toEqual([]);
    });

    it('counts the files it holds, whatever their state', async () => {
      expect(await files().countFiles()).toBe(0);
      const now = Date.now();
      for (const file of [fileRecord(), fileRecord({ status: 'failed' }), fileRecord({ expiresAt: now - 1 })]) {
        await files().insertFile(file, NO_REPLICAS, now);
      }
      expect(await files().countFiles()).toBe(3);
    });
  });
}
