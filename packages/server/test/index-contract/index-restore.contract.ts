import { describe, expect, it } from 'vitest';
import type { IndexRestore, MetadataStore } from '../../src/metadata/types.js';
import { fileRecord, variantRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

/** `IndexRestore`: what an index rebuild writes, never overwriting and never racing an upload or a removal. */
export function indexRestoreContract(harness: EngineHarness): void {
  describe('IndexRestore', () => {
    const index = (): MetadataStore & IndexRestore => harness.engine().metadata;

    it('restores a file with its copies and variants, counted in the totals, and says so per file', async () => {
      const file = fileRecord({ downloadsLeft: 2 });
      const outcomes = await index().restoreFiles(
        [{ file, nodeIds: ['n1', 'n2'], variants: [{ variant: variantRecord('thumb'), nodeIds: ['n3'] }] }],
        Date.now(),
      );
      expect(outcomes).toEqual(['restored']);
      expect(await index().getFile(file.id)).toEqual(file);
      expect((await index().replicaStates(file.id)).map((copy) => copy.nodeId).sort()).toEqual(['n1', 'n2']);
      expect(await index().replicaNodes(`${file.id}.thumb`)).toEqual(['n3']);
      expect(await index().listVariants(file.id)).toEqual([variantRecord('thumb')]);
      expect((await harness.engine().totals.read(Date.now())).files.live).toBe(1);
    });

    it('leaves a file the index has, a tombstoned one and one with an upload under way as they are', async () => {
      const now = Date.now();
      const present = fileRecord({ downloadsLeft: 1 });
      await index().insertFile(present, { durable: ['n1'], pending: [] }, now);
      const deleted = fileRecord();
      await index().insertFile(deleted, { durable: ['n1'], pending: [] }, now);
      await index().purgeFile(deleted.id, 'deleted', now);
      const uploading = fileRecord();
      await index().recordUploadIntent(uploading.id, ['n1'], now + 60_000);
      const outcomes = await index().restoreFiles(
        [present, deleted, uploading].map((file) => ({
          file: { ...file, downloadsLeft: 5 },
          nodeIds: ['n2'],
          variants: [],
        })),
        now,
      );
      expect(outcomes).toEqual(['present', 'deleted', 'in-flight']);
      expect((await index().getFile(present.id))!.downloadsLeft).toBe(1);
      expect(await index().getFile(deleted.id)).toBeUndefined();
      expect(await index().getFile(uploading.id)).toBeUndefined();
    });

    it('records a file that must stay gone as a tombstone with its copies queued for removal, once', async () => {
      const now = Date.now();
      const gone = fileRecord();
      const locations = [
        { nodeId: 'n1', key: gone.id },
        { nodeId: 'n2', key: `${gone.id}.thumb` },
      ];
      expect(await index().restoreTombstone({ id: gone.id, reason: 'expired', deletedAt: now }, locations)).toBe(true);
      expect(await index().restoreTombstone({ id: gone.id, reason: 'expired', deletedAt: now }, locations)).toBe(true);
      expect(await index().getTombstone(gone.id)).toEqual({ id: gone.id, reason: 'expired', deletedAt: now });
      expect(await index().pendingBlobDeletes(now, 10, ['n1', 'n2'])).toHaveLength(2);
      const live = fileRecord();
      await index().insertFile(live, { durable: ['n1'], pending: [] }, now);
      expect(await index().restoreTombstone({ id: live.id, reason: 'deleted', deletedAt: now }, [])).toBe(false);
      expect(await index().getTombstone(live.id)).toBeUndefined();
    });
  });
}
