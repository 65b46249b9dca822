import { describe, expect, it } from 'vitest';
import type { BlobDeleteQueue } from '../../src/metadata/types.js';
import type { EngineHarness } from './harness.js';

/** `BlobDeleteQueue`: removals owed to nodes, retried until each node confirms. */
export function blobDeleteQueueContract(harness: EngineHarness): void {
  describe('BlobDeleteQueue', () => {
    const queue = (): BlobDeleteQueue => harness.engine().metadata;

    it('hands out the due removals of the nodes asked for only, oldest first, up to the limit', async () => {
      const now = Date.now();
      await queue().queueBlobDeletes([{ nodeId: 'n1', key: 'k3' }], now - 10);
      await queue().queueBlobDeletes(
        [
          { nodeId: 'n2', key: 'k2' },
          { nodeId: 'down', key: 'k1' },
        ],
        now - 30,
      );
      await queue().queueBlobDeletes([{ nodeId: 'n1', key: 'k1' }], now - 20);
      await queue().queueBlobDeletes([{ nodeId: 'n1', key: 'later' }], now + 60_000);
      expect(await queue().pendingBlobDeletes(now, 10, ['n1', 'n2'])).toEqual([
        { nodeId: 'n2', key: 'k2' },
        { nodeId: 'n1', key: 'k1' },
        { nodeId: 'n1', key: 'k3' },
      ]);
      expect(await queue().pendingBlobDeletes(now, 2, ['n1', 'n2'])).toHaveLength(2);
      expect(await queue().pendingBlobDeletes(now, 10, ['n1'])).toEqual([
        { nodeId: 'n1', key: 'k1' },
        { nodeId: 'n1', key: 'k3' },
      ]);
      expect(await queue().pendingBlobDeletes(now, 10, [])).toEqual([]);
    });

    it('retries a deferred removal behind the others, and forgets a cleared one', async () => {
      const now = Date.now();
      const [a, b] = [
        { nodeId: 'n1', key: 'a' },
        { nodeId: 'n1', key: 'b' },
      ];
      await queue().queueBlobDeletes([a, b], now - 10);
      await queue().deferPendingBlobDelete(a, now + 1000);
      expect(await queue().pendingBlobDeletes(now, 10, ['n1'])).toEqual([b]);
      expect(await queue().pendingBlobDeletes(now + 1000, 10, ['n1'])).toEqual([b, a]);
      await queue().clearPendingBlobDelete(b);
      expect(await queue().pendingBlobDeletes(now + 1000, 10, ['n1'])).toEqual([a]);
    });

    it('queues a location named twice once, and takes an empty list', async () => {
      const now = Date.now();
      const location = { nodeId: 'n1', key: 'twice' };
      await queue().queueBlobDeletes([location, location], now);
      await queue().queueBlobDeletes([], now);
      expect(await queue().pendingBlobDeletes(now, 10, ['n1'])).toEqual([location]);
    });
  });
}
