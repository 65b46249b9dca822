import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/metadata/types.js';
import { fileRecord, variantRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];

/** `ReplicaIndex`: which node holds which blob, and the copies an upload may leave behind. */
export function replicaIndexContract(harness: EngineHarness): void {
  describe('ReplicaIndex', () => {
    const index = (): MetadataStore => harness.engine().metadata;
    const due = (at: number) => index().pendingBlobDeletes(at, 100, NODES);

    it('keeps an upload intent as removals due later, which recording the file clears', async () => {
      const now = Date.now();
      const file = fileRecord();
      await index().recordUploadIntent(file.id, ['n1', 'n2'], now + 60_000);
      expect(await due(now)).toEqual([]);
      expect(await due(now + 60_000)).toHaveLength(2);
      expect(await index().nodeBlobCounts('n1')).toEqual({ copies: 0, pendingDeletes: 1 });

      await index().insertFile(file, { durable: ['n1'], pending: ['n2'] }, now);
      expect(await due(now + 60_000)).toEqual([]);
    });

    it('makes the intent of an abandoned upload due at once', async () => {
      const now = Date.now();
      const key = randomUUID();
      await index().recordUploadIntent(key, ['n1', 'n2'], now + 60_000);
      await index().abandonUpload(key, now);
      expect(sorted(await due(now))).toEqual([
        { nodeId: 'n1', key },
        { nodeId: 'n2', key },
      ]);
    });

    it('adds a copy only to a live file, confirming a pending one, and clears only that node’s intent', async () => {
      const now = Date.now();
      const file = fileRecord();
      await index().insertFile(file, { durable: ['n1'], pending: ['n2'] }, now);
      expect(await index().replicaStates(file.id)).toEqual(
        expect.arrayContaining([
          { nodeId: 'n1', durable: true },
          { nodeId: 'n2', durable: false },
        ]),
      );
      expect(await index().addReplica(file.id, file.id, 'n2', now)).toBe(true);
      expect(await index().replicaStates(file.id)).toContainEqual({ nodeId: 'n2', durable: true });

      // A repair copying to n3 (and, in vain, to n1 again): n3's copy lands, the other intent stays.
      await index().recordUploadIntent(file.id, ['n3', 'n1'], now + 60_000);
      expect(await index().addReplica(file.id, file.id, 'n3', now)).toBe(true);
      expect(await due(now + 60_000)).toEqual([{ nodeId: 'n1', key: file.id }]);
      expect(sortedIds(await index().replicaNodes(file.id))).toEqual(['n1', 'n2', 'n3']);

      expect(await index().addReplica(randomUUID(), 'x', 'n1', now)).toBe(false);
      await index().purgeFile(file.id, 'deleted', now);
      expect(await index().addReplica(file.id, file.id, 'n1', now)).toBe(false);
      expect(await index().replicaNodes(file.id)).toEqual([]);
    });

    it('never forgets a copy recorded on one engine while another purges its file', async () => {
      const other = await harness.another();
      const now = Date.now();
      const racing = Array.from({ length: 20 }, () => fileRecord());
      for (const file of racing) await index().insertFile(file, { durable: ['n1'], pending: [] }, now);
      const added = await Promise.all(
        racing.map(async (file) => {
          const [, recorded] = await Promise.all([
            index().purgeFile(file.id, 'deleted', now),
            other.metadata.addReplica(file.id, file.id, 'n2', now),
          ]);
          return recorded;
        }),
      );
      const owed = await due(now);
      racing.forEach((file, i) => {
        expect(owed).toContainEqual({ nodeId: 'n1', key: file.id });
        // Recorded before the purge: turned into a removal with the others. After it: refused.
        if (added[i]) expect(owed).toContainEqual({ nodeId: 'n2', key: file.id });
      });
      for (const file of racing) expect(await index().replicaNodes(file.id)).toEqual([]);
    });

    it('drops a copy and queues its removal from that node', async () => {
      const now = Date.now();
      const file = fileRecord();
      await index().insertFile(file, { durable: ['n1', 'n2'], pending: [] }, now);
      await index().dropReplica(file.id, 'n2', now);
      expect(await index().replicaNodes(file.id)).toEqual(['n1']);
      expect(await due(now)).toEqual([{ nodeId: 'n2', key: file.id }]);
      expect(await index().nodeBlobCounts('n2')).toEqual({ copies: 0, pendingDeletes: 1 });
    });

    it('lists the nodes of a blob with durable copies first', async () => {
      const file = fileRecord();
      await index().insertFile(file, { durable: ['n3'], pending: ['n1', 'n2'] }, Date.now());
      expect(await index().replicaNodes(file.id)).toEqual(['n3', 'n1', 'n2']);
    });

    it('walks every blob in key order by pages, naming those short of copies', async () => {
      const now = Date.now();
      // Ids that sort in this order; a variant's key sorts right after its file's.
      const [a, b, c] = ['a', 'b', 'c'].map((letter) => fileRecord({ id: `${letter}${randomUUID()}` })) as [
        ReturnType<typeof fileRecord>,
        ReturnType<typeof fileRecord>,
        ReturnType<typeof fileRecord>,
      ];
      await index().insertFile(a, { durable: ['n1', 'n2'], pending: [] }, now);
      await index().insertFile(b, { durable: ['n1'], pending: [] }, now);
      await index().insertFile(c, { durable: ['n2'], pending: ['n3'] }, now);
      await index().recordVariants(a.id, [{ variant: variantRecord('thumb'), nodeIds: ['n1'] }], now);

      expect(await index().walkBlobs('', 2)).toEqual({ lastKey: `${a.id}.thumb`, short: [`${a.id}.thumb`] });
      expect(await index().walkBlobs(`${a.id}.thumb`, 2)).toEqual({ lastKey: c.id, short: [b.id] });
      expect(await index().walkBlobs(c.id, 2)).toEqual({ lastKey: undefined, short: [] });
      expect(await index().walkBlobs('', 10)).toEqual({ lastKey: undefined, short: [`${a.id}.thumb`, b.id] });
    });

    it('pages through the keys held by one node, in key order', async () => {
      const now = Date.now();
      const ids = Array.from({ length: 5 }, () => fileRecord());
      for (const file of ids) await index().insertFile(file, { durable: ['n1'], pending: [] }, now);
      await index().insertFile(fileRecord(), { durable: ['n2'], pending: [] }, now);
      const keys = ids.map((file) => file.id).sort();
      const first = await index().blobKeysOnNode('n1', '', 3);
      expect(first).toEqual(keys.slice(0, 3));
      expect(await index().blobKeysOnNode('n1', first.at(-1)!, 3)).toEqual(keys.slice(3));
      expect(await index().blobKeysOnNode('n9', '', 3)).toEqual([]);
    });

    it('names the blob keys of a file: its original and its variants', async () => {
      const file = fileRecord();
      await index().insertFile(file, { durable: ['n1'], pending: [] }, Date.now());
      await index().recordVariants(
        file.id,
        ['thumb', 'small'].map((name) => ({ variant: variantRecord(name), nodeIds: ['n1'] })),
        Date.now(),
      );
      expect(await index().blobKeysOfFile(file.id)).toEqual([file.id, `${file.id}.small`, `${file.id}.thumb`]);
    });

    it('reads the stored blobs of live files only, with their digests and copies', async () => {
      const now = Date.now();
      const live = fileRecord({ size: 321, sha256: 'a'.repeat(64) });
      const expired = fileRecord({ expiresAt: now - 1 });
      const deleted = fileRecord({ deleteAt: now + 1000, deleteReason: 'deleted' });
      for (const file of [live, expired, deleted])
        await index().insertFile(file, { durable: ['n1'], pending: [] }, now);
      const thumb = variantRecord('thumb', 12);
      await index().recordVariants(live.id, [{ variant: thumb, nodeIds: ['n2'] }], now);

      const keys = [live.id, `${live.id}.thumb`, `${live.id}.nope`, expired.id, deleted.id, randomUUID()];
      const blobs = await index().storedBlobs(keys, now);
      expect(blobs.map((blob) => blob.key)).toEqual([live.id, `${live.id}.thumb`]);
      expect(blobs[0]).toMatchObject({ size: 321, sha256: 'a'.repeat(64), copies: [{ nodeId: 'n1', durable: true }] });
      expect(blobs[0]!.file.id).toBe(live.id);
      expect(blobs[1]).toMatchObject({ size: 12, sha256: thumb.sha256, copies: [{ nodeId: 'n2', durable: true }] });
    });

    it('finds pending copies of originals older than a time', async () => {
      const now = Date.now();
      const file = fileRecord();
      await index().insertFile(file, { durable: ['n1'], pending: ['n2'] }, now - 10_000);
      await index().insertFile(fileRecord(), { durable: ['n1'], pending: ['n3'] }, now);
      const stale = await index().stalePendingReplicas(now - 5000, 10);
      expect(stale).toEqual([{ file, nodeId: 'n2' }]);
    });

    it('counts the originals recorded on each node, not their variants', async () => {
      const now = Date.now();
      const [first, second] = [fileRecord(), fileRecord()];
      await index().insertFile(first, { durable: ['n1', 'n2'], pending: [] }, now);
      await index().insertFile(second, { durable: ['n1'], pending: [] }, now);
      await index().recordVariants(first.id, [{ variant: variantRecord('thumb'), nodeIds: ['n3'] }], now);
      expect(await index().fileCountsByNode()).toEqual(
        new Map([
          ['n1', 2],
          ['n2', 1],
        ]),
      );
    });
  });
}

function sorted<T extends { nodeId: string; key: string }>(locations: T[]): T[] {
  return [...locations].sort((a, b) => a.nodeId.localeCompare(b.nodeId) || a.key.localeCompare(b.key));
}

function sortedIds(ids: string[]): string[] {
  return [...ids].sort();
}
