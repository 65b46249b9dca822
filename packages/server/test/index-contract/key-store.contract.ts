import { describe, expect, it } from 'vitest';
import type { StoredQuota } from '../../src/metadata/types.js';
import { fileRecord, keyRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

/** API keys, what each key's files hold, and the quotas the index enforces as it records files. */
export function keyStoreContract(harness: EngineHarness): void {
  describe('KeyStore and stored quotas', () => {
    const keys = () => harness.engine().keys;
    const metadata = () => harness.engine().metadata;
    const addFile = (overrides: Parameters<typeof fileRecord>[0], quota?: StoredQuota) => {
      const file = fileRecord(overrides);
      return metadata()
        .insertFile(file, { durable: [], pending: [] }, Date.now(), quota)
        .then(() => file);
    };

    it('keeps keys with their scopes and quotas, lists them oldest first, revokes once', async () => {
      const first = keyRecord({ createdAt: 1000, scopes: ['upload', 'read'], quotas: { maxFiles: 3, maxBytes: 10 } });
      const second = keyRecord({ createdAt: 2000, name: 'ops', scopes: ['admin'] });
      await keys().insertKey(second);
      await keys().insertKey(first);
      expect(await keys().getKey(first.id)).toEqual(first);
      expect(await keys().listKeys()).toEqual([first, second]);
      expect(await keys().getKey('000000000000')).toBeUndefined();

      expect(await keys().revokeKey(first.id, 5000)).toEqual({ ...first, revokedAt: 5000 });
      // Revoking again keeps the first time.
      expect(await keys().revokeKey(first.id, 9000)).toEqual({ ...first, revokedAt: 5000 });
      expect(await keys().revokeKey('000000000000', 9000)).toBeUndefined();
    });

    it('sees a revocation made through another engine at once (no cache in the store)', async () => {
      const other = await harness.another();
      const key = keyRecord();
      await keys().insertKey(key);
      expect((await other.keys.getKey(key.id))?.revokedAt).toBeNull();
      await keys().revokeKey(key.id, 1234);
      expect((await other.keys.getKey(key.id))?.revokedAt).toBe(1234);
    });

    it("counts a key's live files and bytes: not anonymous files, not deleted, not expired ones", async () => {
      const now = Date.now();
      const key = keyRecord();
      await keys().insertKey(key);
      const [kept, deleted, exhausted] = [
        await addFile({ keyId: key.id, size: 100 }),
        await addFile({ keyId: key.id, size: 20 }),
        await addFile({ keyId: key.id, size: 3 }),
      ];
      await addFile({ keyId: key.id, size: 4000, expiresAt: now - 1 });
      await addFile({ size: 50_000 });
      expect(await keys().usage(key.id, now)).toEqual({ files: 3, bytes: 123 });

      await metadata().scheduleDeletion(deleted.id, now + 60_000, 'deleted');
      expect(await keys().usage(key.id, now)).toEqual({ files: 2, bytes: 103 });
      await metadata().purgeFile(exhausted.id, 'exhausted', now);
      await metadata().purgeFile(deleted.id, 'deleted', now);
      expect(await keys().usage(key.id, now)).toEqual({ files: 1, bytes: 100 });
      // Past its expiry a file no longer counts, swept or not.
      expect(await keys().usage(key.id, kept.expiresAt)).toEqual({ files: 0, bytes: 0 });
      expect(await keys().usage('000000000000', now)).toEqual({ files: 0, bytes: 0 });
    });

    it('records exactly as many files as maxFiles among concurrent uploads on two engines', async () => {
      const other = await harness.another();
      const key = keyRecord();
      const quota = { maxFiles: 5 };
      const results = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? metadata() : other.metadata).insertFile(
            fileRecord({ keyId: key.id }),
            { durable: [], pending: [] },
            Date.now(),
            quota,
          ),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
      const refusals = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      expect(refusals).toHaveLength(11);
      for (const refusal of refusals) expect(refusal).toMatchObject({ code: 'QUOTA_FILES_EXCEEDED', statusCode: 403 });
      expect(await keys().usage(key.id, Date.now())).toEqual({ files: 5, bytes: 500 });
    });

    it('refuses a file that would take the key past maxBytes, and takes it once space is freed', async () => {
      const key = keyRecord();
      const quota = { maxBytes: 250 };
      const first = await addFile({ keyId: key.id, size: 200 }, quota);
      const refused = fileRecord({ keyId: key.id, size: 100 });
      await expect(
        metadata().insertFile(refused, { durable: [], pending: [] }, Date.now(), quota),
      ).rejects.toMatchObject({ code: 'QUOTA_BYTES_EXCEEDED', statusCode: 403 });
      expect(await metadata().getFile(refused.id)).toBeUndefined();
      // A file of another key, or of none, is not this key's concern.
      await addFile({ size: 1000 }, quota);
      await metadata().scheduleDeletion(first.id, Date.now(), 'deleted');
      await addFile({ keyId: key.id, size: 250 }, quota);
      expect(await keys().usage(key.id, Date.now())).toEqual({ files: 1, bytes: 250 });
    });
  });
}
