import { describe, expect, it } from 'vitest';
import type { FileIndex, FileRecord } from '../../src/metadata/types.js';
import { fileRecord, HOUR, keyRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

const NO_REPLICAS = { durable: [], pending: [] };

/** `FileIndex.changeLimits` and `listLiveFiles`: what an owner edits after the upload, and what a listing shows. */
export function fileLimitsContract(harness: EngineHarness): void {
  describe('FileIndex limits and listing', () => {
    const files = (): FileIndex => harness.engine().metadata;
    const add = async (overrides: Partial<FileRecord> = {}) => {
      const file = fileRecord(overrides);
      await files().insertFile(file, NO_REPLICAS, Date.now());
      return file;
    };

    it('moves the downloads left with the limit, keeping those taken, and changes the expiry', async () => {
      const file = await add({ maxDownloads: 5, downloadsLeft: 3 });
      const now = Date.now();
      const raised = await files().changeLimits(file.id, { maxDownloads: 10 }, now);
      expect(raised).toEqual({ ...file, maxDownloads: 10, downloadsLeft: 8 });
      const lowered = await files().changeLimits(file.id, { maxDownloads: 3, expiresAt: now + 2 * HOUR }, now);
      expect(lowered).toEqual({ ...file, maxDownloads: 3, downloadsLeft: 1, expiresAt: now + 2 * HOUR });
      expect(await files().getFile(file.id)).toEqual(lowered);
      // Only the expiry: the limit stays.
      expect(await files().changeLimits(file.id, { expiresAt: now + HOUR }, now)).toMatchObject({
        maxDownloads: 3,
        downloadsLeft: 1,
        expiresAt: now + HOUR,
      });
    });

    it('refuses a limit that is not above the downloads taken, changing nothing', async () => {
      const file = await add({ maxDownloads: 5, downloadsLeft: 3 });
      expect(await files().changeLimits(file.id, { maxDownloads: 2, expiresAt: Date.now() + 9 }, Date.now())).toBe(
        undefined,
      );
      expect(await files().getFile(file.id)).toEqual(file);
    });

    it('never revives a file that expired, was used up or was deleted', async () => {
      const now = Date.now();
      const expired = await add({ expiresAt: now - 1 });
      const usedUp = await add({ downloadsLeft: 0, deleteAt: now + 60_000, deleteReason: 'exhausted' });
      const deleted = await add({ deleteAt: now + 60_000, deleteReason: 'deleted' });
      for (const file of [expired, usedUp, deleted]) {
        expect(await files().changeLimits(file.id, { maxDownloads: 50, expiresAt: now + HOUR }, now)).toBeUndefined();
        expect(await files().getFile(file.id)).toEqual(file);
      }
      expect(await files().changeLimits(fileRecord().id, { maxDownloads: 2 }, now)).toBeUndefined();
    });

    it('lists live files in id order, a page at a time, by key, status and expiry', async () => {
      const now = Date.now();
      const key = keyRecord();
      const mine = [
        await add({ keyId: key.id, expiresAt: now + HOUR }),
        await add({ keyId: key.id, expiresAt: now + 3 * HOUR, status: 'processing' }),
        await add({ keyId: key.id, expiresAt: now + 2 * HOUR }),
      ];
      const anonymous = await add({ expiresAt: now + 4 * HOUR });
      await add({ keyId: key.id, expiresAt: now - 1 });
      await add({ keyId: key.id, deleteAt: now + 60_000, deleteReason: 'deleted' });
      const ids = (list: FileRecord[]) => list.map((file) => file.id);
      const sorted = (list: FileRecord[]) => ids(list).sort();

      const all = sorted([...mine, anonymous]);
      const first = await files().listLiveFiles({}, '', 3, now);
      expect(ids(first)).toEqual(all.slice(0, 3));
      expect(first[0]).toEqual([...mine, anonymous].find((file) => file.id === all[0]));
      expect(ids(await files().listLiveFiles({}, all[2]!, 3, now))).toEqual(all.slice(3));

      expect(ids(await files().listLiveFiles({ keyId: key.id }, '', 10, now))).toEqual(sorted(mine));
      expect(ids(await files().listLiveFiles({ status: 'processing' }, '', 10, now))).toEqual([mine[1]!.id]);
      expect(ids(await files().listLiveFiles({ expiringBefore: now + 2 * HOUR + 1 }, '', 10, now))).toEqual(
        sorted([mine[0]!, mine[2]!]),
      );
      expect(
        ids(
          await files().listLiveFiles(
            { keyId: key.id, status: 'ready', expiringBefore: now + 90 * 60_000 },
            '',
            10,
            now,
          ),
        ),
      ).toEqual([mine[0]!.id]);
      expect(await files().listLiveFiles({ keyId: keyRecord().id }, '', 10, now)).toEqual([]);
    });
  });
}
