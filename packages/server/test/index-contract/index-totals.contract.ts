import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IndexNumbers } from '../../src/stats/index-totals.js';
import { fileRecord, variantRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

const EMPTY: IndexNumbers = {
  files: { live: 0, bytes: 0, processing: 0, failed: 0 },
  variants: { count: 0, bytes: 0 },
};

/** `IndexTotals`: the numbers of GET /v1/stats, kept as files come and go, and the census of short files. */
export function indexTotalsContract(harness: EngineHarness): void {
  describe('IndexTotals', () => {
    const read = (now = Date.now()) => harness.engine().totals.read(now);
    const metadata = () => harness.engine().metadata;

    it('moves with inserts, failures, variants recorded and replaced, deletions and purges', async () => {
      expect(await read()).toEqual(EMPTY);
      const now = Date.now();
      const [a, b] = [fileRecord({ size: 100, status: 'processing' }), fileRecord({ size: 200, status: 'processing' })];
      for (const file of [a, b]) await metadata().insertFile(file, { durable: ['n1'], pending: [] }, now);
      expect(await read()).toEqual({
        files: { live: 2, bytes: 300, processing: 2, failed: 0 },
        variants: { count: 0, bytes: 0 },
      });

      await metadata().markFailed(b.id, 'cannot decode');
      await metadata().recordVariants(
        a.id,
        [
          { variant: variantRecord('thumb', 10), nodeIds: ['n1'] },
          { variant: variantRecord('small', 20), nodeIds: ['n1'] },
        ],
        now,
      );
      expect(await read()).toEqual({
        files: { live: 2, bytes: 300, processing: 0, failed: 1 },
        variants: { count: 2, bytes: 30 },
      });

      // Made again (a retried job): replaced, not added.
      await metadata().recordVariants(a.id, [{ variant: variantRecord('thumb', 15), nodeIds: ['n1'] }], now);
      expect((await read()).variants).toEqual({ count: 2, bytes: 35 });

      // A file marked for deletion no longer counts; its variants do until it is purged.
      await metadata().scheduleDeletion(a.id, now + 1000, 'deleted');
      expect(await read()).toEqual({
        files: { live: 1, bytes: 200, processing: 0, failed: 1 },
        variants: { count: 2, bytes: 35 },
      });
      await metadata().purgeFile(a.id, 'deleted', now);
      await metadata().purgeFile(b.id, 'exhausted', now);
      expect(await read()).toEqual(EMPTY);
    });

    it('leaves out the files that expired and wait for the sweep', async () => {
      const now = Date.now();
      const expiring = fileRecord({ size: 50, status: 'processing', expiresAt: now + 1000 });
      await metadata().insertFile(expiring, { durable: [], pending: [] }, now);
      await metadata().insertFile(fileRecord({ size: 7 }), { durable: [], pending: [] }, now);
      expect((await read(now)).files).toEqual({ live: 2, bytes: 57, processing: 1, failed: 0 });
      expect((await read(now + 1000)).files).toEqual({ live: 1, bytes: 7, processing: 0, failed: 0 });
    });

    it('pages through live files counting those short of durable copies off the down nodes', async () => {
      const now = Date.now();
      const byId = (letter: string) => `${letter}${randomUUID()}`;
      const full = fileRecord({ id: byId('a'), replicasWanted: 2 });
      const onDownNode = fileRecord({ id: byId('b'), replicasWanted: 2 });
      const pendingOnly = fileRecord({ id: byId('c'), replicasWanted: 1 });
      const expired = fileRecord({ id: byId('d'), replicasWanted: 3, expiresAt: now - 1 });
      const deleted = fileRecord({ id: byId('e'), replicasWanted: 3, deleteAt: now + 1000 });
      await metadata().insertFile(full, { durable: ['n1', 'n2'], pending: [] }, now);
      await metadata().insertFile(onDownNode, { durable: ['n1', 'down'], pending: [] }, now);
      await metadata().insertFile(pendingOnly, { durable: [], pending: ['n1'] }, now);
      for (const file of [expired, deleted]) await metadata().insertFile(file, { durable: [], pending: [] }, now);

      const totals = harness.engine().totals;
      expect(await totals.replicationPage('', 10, ['down'], now)).toEqual({
        files: 3,
        short: 2,
        lastId: pendingOnly.id,
      });
      expect(await totals.replicationPage('', 10, [], now)).toEqual({ files: 3, short: 1, lastId: pendingOnly.id });
      expect(await totals.replicationPage('', 2, ['down'], now)).toEqual({ files: 2, short: 1, lastId: onDownNode.id });
      expect(await totals.replicationPage(onDownNode.id, 2, ['down'], now)).toEqual({
        files: 1,
        short: 1,
        lastId: pendingOnly.id,
      });
      expect(await totals.replicationPage(pendingOnly.id, 2, [], now)).toEqual({
        files: 0,
        short: 0,
        lastId: undefined,
      });
    });
  });
}
