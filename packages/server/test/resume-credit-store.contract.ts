import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResumeCreditStore } from '../src/backends/resume-credits/resume-credit-store.js';

/** Stores that share one backend, as separate gateways would (their own connections), and cleanup. */
export interface CreditHarness {
  open(): Promise<ResumeCreditStore>;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;

/** The contract every `ResumeCreditStore` must pass. */
export function resumeCreditStoreContract(name: string, createHarness: () => Promise<CreditHarness>): void {
  describe(`ResumeCreditStore contract: ${name}`, () => {
    let harness: CreditHarness;
    let store: ResumeCreditStore;
    beforeEach(async () => {
      harness = await createHarness();
      store = await harness.open();
    });
    afterEach(() => harness.cleanup());
    // Real times: Redis expires a credit's key on its own clock, from `until - now`.
    const now = Date.now();

    it('spends a credit once, and only for its file and client', async () => {
      const file = randomUUID();
      expect(await store.take(file, '127.0.0.1', now)).toBe(false);
      await store.grant(file, '127.0.0.1', now, now + HOUR);
      expect(await store.take(randomUUID(), '127.0.0.1', now)).toBe(false);
      expect(await store.take(file, '127.0.0.2', now)).toBe(false);
      expect(await store.take(file, '127.0.0.1', now + 1000)).toBe(true);
      expect(await store.take(file, '127.0.0.1', now + 1000)).toBe(false);
    });

    it('keeps one credit per cut download: two grants are two takes', async () => {
      const file = randomUUID();
      await store.grant(file, '::1', now, now + HOUR);
      await store.grant(file, '::1', now + 10, now + 10 + HOUR);
      expect(await store.take(file, '::1', now + 20)).toBe(true);
      expect(await store.take(file, '::1', now + 20)).toBe(true);
      expect(await store.take(file, '::1', now + 20)).toBe(false);
    });

    it('refuses a credit past its window, and a grant after it starts again from one', async () => {
      const file = randomUUID();
      await store.grant(file, '10.0.0.1', now, now + 500);
      await store.grant(file, '10.0.0.1', now, now + 500);
      expect(await store.take(file, '10.0.0.1', now + 500)).toBe(false);
      await store.grant(file, '10.0.0.1', now + 600, now + 600 + HOUR);
      expect(await store.take(file, '10.0.0.1', now + 700)).toBe(true);
      expect(await store.take(file, '10.0.0.1', now + 700)).toBe(false);
    });

    it('forgets only credits that are spent or past their window', async () => {
      const [spent, stale, live] = [randomUUID(), randomUUID(), randomUUID()];
      await store.grant(spent, 'a', now, now + HOUR);
      await store.take(spent, 'a', now);
      await store.grant(stale, 'a', now, now + 100);
      await store.grant(live, 'a', now, now + HOUR);
      await store.prune(now + 200);
      expect(await store.take(live, 'a', now + 200)).toBe(true);
      expect(await store.take(stale, 'a', now + 200)).toBe(false);
      expect(await store.take(spent, 'a', now + 200)).toBe(false);
    });

    it('hands one credit to exactly one of many concurrent takes from two stores', async () => {
      const other = await harness.open();
      const file = randomUUID();
      await store.grant(file, '192.0.2.7', now, now + HOUR);
      await other.grant(file, '192.0.2.7', now, now + HOUR);
      const taken = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? store : other).take(file, '192.0.2.7', now)),
      );
      expect(taken.filter(Boolean)).toHaveLength(2);
    });
  });
}
