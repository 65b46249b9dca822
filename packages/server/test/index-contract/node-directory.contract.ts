import { describe, expect, it } from 'vitest';
import type { NodeDirectory } from '../../src/metadata/types.js';
import { fileRecord, nodeRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

/** `NodeDirectory`: the storage nodes that joined, their heartbeats and membership. */
export function nodeDirectoryContract(harness: EngineHarness): void {
  describe('NodeDirectory', () => {
    const nodes = (): NodeDirectory => harness.engine().metadata;

    it('records a join as an active node, listed in id order', async () => {
      await nodes().upsertNode(nodeRecord('n2', { bootId: 'boot-2' }));
      await nodes().upsertNode(nodeRecord('n1', { parentId: 'n2' }));
      const listed = await nodes().listNodes();
      expect(listed.map((node) => node.id)).toEqual(['n1', 'n2']);
      expect(listed[0]).toEqual({
        ...nodeRecord('n1', { parentId: 'n2', lastSeen: listed[0]!.lastSeen }),
        membership: 'active',
      });
      expect(listed[1]).toMatchObject({ membership: 'active', bootId: 'boot-2' });
      expect(listed[0]).not.toHaveProperty('bootId');
    });

    it('takes a heartbeat’s address, stats and time, keeping the membership and, when not given, the boot id', async () => {
      await nodes().upsertNode(nodeRecord('n1', { bootId: 'boot-1' }));
      await nodes().setNodeMembership('n1', 'draining');
      const stats = { blobCount: 3, usedBytes: 30, freeBytes: 970, totalBytes: 1000 };
      await nodes().upsertNode(nodeRecord('n1', { url: 'http://127.0.0.1:2/n1', lastSeen: 42, stats }));
      expect(await nodes().listNodes()).toEqual([
        {
          ...nodeRecord('n1', { url: 'http://127.0.0.1:2/n1', lastSeen: 42, stats }),
          membership: 'draining',
          bootId: 'boot-1',
        },
      ]);
      await nodes().upsertNode(nodeRecord('n1', { bootId: 'boot-2' }));
      expect((await nodes().listNodes())[0]).toMatchObject({ membership: 'draining', bootId: 'boot-2' });
    });

    it('sets a node’s membership', async () => {
      await nodes().upsertNode(nodeRecord('n1'));
      for (const membership of ['draining', 'removed', 'active'] as const) {
        await nodes().setNodeMembership('n1', membership);
        expect((await nodes().listNodes())[0]!.membership).toBe(membership);
      }
    });

    it('counts the copies on a node and the removals owed to it', async () => {
      const now = Date.now();
      const metadata = harness.engine().metadata;
      await metadata.insertFile(fileRecord(), { durable: ['n1'], pending: ['n2'] }, now);
      await metadata.insertFile(fileRecord(), { durable: ['n1', 'n2'], pending: [] }, now);
      await metadata.queueBlobDeletes(
        [
          { nodeId: 'n1', key: 'gone-1' },
          { nodeId: 'n1', key: 'gone-2' },
        ],
        now,
      );
      expect(await nodes().nodeBlobCounts('n1')).toEqual({ copies: 2, pendingDeletes: 2 });
      expect(await nodes().nodeBlobCounts('n2')).toEqual({ copies: 2, pendingDeletes: 0 });
      expect(await nodes().nodeBlobCounts('n9')).toEqual({ copies: 0, pendingDeletes: 0 });
    });
  });
}
