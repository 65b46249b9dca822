import { describe, expect, it } from 'vitest';
import type { MetadataStore, WrappedKey } from '../../src/metadata/types.js';
import { fileRecord, variantRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

const NO_REPLICAS = { durable: [], pending: [] };
const sealed = { size: 180, sha256: 'a'.repeat(64) };
const key = (kid: string, wrapped = `${kid}-wrapped`): WrappedKey => ({ kid, wrapped });

/** `FileKeyIndex`, and what encryption adds to files, variants and tombstones. */
export function fileKeyIndexContract(harness: EngineHarness): void {
  describe('FileKeyIndex', () => {
    const index = (): MetadataStore => harness.engine().metadata;

    async function encryptedFile(kid = 'k1') {
      const file = fileRecord({ sealed });
      await index().insertFile(file, NO_REPLICAS, Date.now(), undefined, key(kid, `${kid}:${file.id}`));
      return file;
    }

    it('keeps an encrypted file with its sealed copy and wrapped key, apart from the file record', async () => {
      const file = await encryptedFile();
      const clear = fileRecord();
      await index().insertFile(clear, NO_REPLICAS, Date.now());
      expect(await index().getFile(file.id)).toEqual(file);
      expect(await index().getFile(clear.id)).toEqual(clear);
      expect(await index().wrappedKey(file.id)).toEqual(key('k1', `k1:${file.id}`));
      expect(await index().wrappedKey(clear.id)).toBeUndefined();
      // Storage work sees what the nodes hold: the sealed size and digest.
      const [blob] = await index().storedBlobs([file.id], Date.now());
      expect(blob).toMatchObject({ size: sealed.size, sha256: sealed.sha256 });
    });

    it('keeps a variant sealed copy, and gives storage work its size and digest', async () => {
      const file = await encryptedFile();
      const thumb = { ...variantRecord('thumb', 7), sealed: { size: 60, sha256: 'b'.repeat(64) } };
      expect(await index().recordVariants(file.id, [{ variant: thumb, nodeIds: ['n1'] }], Date.now())).toBe(true);
      expect(await index().listVariants(file.id)).toEqual([thumb]);
      const [blob] = await index().storedBlobs([`${file.id}.thumb`], Date.now());
      expect(blob).toMatchObject({ size: 60, sha256: 'b'.repeat(64) });
    });

    it('destroys a key once, and the purge records when in the tombstone', async () => {
      const file = await encryptedFile();
      const destroyedAt = Date.now() - 500;
      expect(await index().destroyFileKey(file.id, destroyedAt)).toBe(true);
      expect(await index().destroyFileKey(file.id, Date.now())).toBe(false);
      expect(await index().wrappedKey(file.id)).toBeUndefined();
      await index().purgeFile(file.id, 'deleted', Date.now());
      expect(await index().getTombstone(file.id)).toMatchObject({ reason: 'deleted', keyDestroyedAt: destroyedAt });
    });

    it('a purge destroys a live key with the row, at the purge time; a clear file has no key time', async () => {
      const file = await encryptedFile();
      const clear = fileRecord();
      await index().insertFile(clear, NO_REPLICAS, Date.now());
      const now = Date.now();
      await index().purgeFile(file.id, 'expired', now);
      await index().purgeFile(clear.id, 'expired', now);
      expect(await index().getTombstone(file.id)).toEqual({
        id: file.id,
        reason: 'expired',
        deletedAt: now,
        keyDestroyedAt: now,
      });
      expect(await index().getTombstone(clear.id)).toEqual({ id: clear.id, reason: 'expired', deletedAt: now });
      expect(await index().wrappedKey(file.id)).toBeUndefined();
    });

    it('pages the keys another master key wrapped, rewraps only what was read, and counts keys per master key', async () => {
      const old = [await encryptedFile('old'), await encryptedFile('old'), await encryptedFile('old')];
      await encryptedFile('new');
      const destroyed = await encryptedFile('old');
      await index().destroyFileKey(destroyed.id, Date.now());
      expect(await index().fileKeyCounts()).toEqual({ old: 3, new: 1 });
      const ids = old.map((file) => file.id).sort();
      const first = await index().keysNotWrappedBy('new', '', 2);
      expect(first.map((entry) => entry.fileId)).toEqual(ids.slice(0, 2));
      const rest = await index().keysNotWrappedBy('new', first.at(-1)!.fileId, 2);
      expect(rest.map((entry) => entry.fileId)).toEqual(ids.slice(2));

      const [entry] = first;
      expect(await index().rewrapFileKey(entry!.fileId, entry!.key, key('new', 'rewrapped'))).toBe(true);
      // A second rewrap from what was read before finds the row changed, and changes nothing.
      expect(await index().rewrapFileKey(entry!.fileId, entry!.key, key('new', 'again'))).toBe(false);
      expect(await index().wrappedKey(entry!.fileId)).toEqual(key('new', 'rewrapped'));
      // A destroyed key is never brought back by a rewrap.
      expect(await index().rewrapFileKey(destroyed.id, key('old', `old:${destroyed.id}`), key('new', 'x'))).toBe(false);
      expect(await index().wrappedKey(destroyed.id)).toBeUndefined();
      expect(await index().fileKeyCounts()).toEqual({ old: 2, new: 2 });
    });
  });
}
