import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LeaseStore } from '../../src/backends/locks/lock-service.js';
import type { EngineHarness } from './harness.js';

/** `LeaseStore` in the index: leases exclusive across every process sharing the database. */
export function leaseStoreContract(harness: EngineHarness): void {
  describe('LeaseStore', () => {
    const two = async (): Promise<[LeaseStore, LeaseStore]> => [
      harness.engine().leases,
      (await harness.another()).leases,
    ];

    it('gives a resource to one holder among many concurrent tries on two engines', async () => {
      const [a, b] = await two();
      const resource = `file:${randomUUID()}`;
      const tries = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).tryAcquire(resource, 10_000)),
      );
      expect(tries.filter((lease) => lease !== undefined)).toHaveLength(1);
      expect(await a.tryAcquire(`file:${randomUUID()}`, 10_000)).toBeDefined(); // other resources are free
    });

    it('is taken over once expired; the old holder can then neither renew nor release it', async () => {
      const [a, b] = await two();
      const resource = `file:${randomUUID()}`;
      const first = (await a.tryAcquire(resource, 150))!;
      expect(await b.tryAcquire(resource, 10_000)).toBeUndefined();
      await sleep(200);
      const second = await b.tryAcquire(resource, 10_000);
      expect(second).toBeDefined();
      expect(await first.renew(10_000)).toBe(false);
      await first.release();
      expect(await a.tryAcquire(resource, 10_000)).toBeUndefined();
      await second!.release();
      expect(await a.tryAcquire(resource, 10_000)).toBeDefined();
    });

    it('keeps a renewed lease past its first term', async () => {
      const [a, b] = await two();
      const resource = `file:${randomUUID()}`;
      const lease = (await a.tryAcquire(resource, 150))!;
      expect(await lease.renew(10_000)).toBe(true);
      await sleep(200);
      expect(await b.tryAcquire(resource, 10_000)).toBeUndefined();
    });
  });
}
