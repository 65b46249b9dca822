import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TokenBucketStore } from '../src/rate-limit/token-bucket.js';

/** Stores that share one backend, as separate gateways would (their own connections), and cleanup. */
export interface BucketHarness {
  open(): Promise<TokenBucketStore>;
  cleanup(): Promise<void>;
}

const PER_SECOND = { limit: 10, periodMs: 1000 };

/** The contract every `TokenBucketStore` must pass. */
export function tokenBucketStoreContract(name: string, createHarness: () => Promise<BucketHarness>): void {
  describe(`TokenBucketStore contract: ${name}`, () => {
    let harness: BucketHarness;
    let store: TokenBucketStore;
    beforeEach(async () => {
      harness = await createHarness();
      store = await harness.open();
    });
    afterEach(() => harness.cleanup());
    const bucket = () => `test:${randomUUID()}`;

    it('hands out a full bucket, then refuses with the time until a token is back', async () => {
      const b = bucket();
      const now = 1_000_000;
      const limit = { limit: 3, periodMs: 60_000 };
      const taken = [];
      for (let i = 0; i < 4; i++) taken.push(await store.take(b, 1, limit, now));
      expect(taken.map((decision) => [decision.allowed, decision.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      expect(taken[0]).toMatchObject({ limit: 3, resetSeconds: 20, retryAfterSeconds: 0 });
      expect(taken[3]).toMatchObject({ limit: 3, resetSeconds: 60, retryAfterSeconds: 20 });
      // Another bucket is untouched.
      expect(await store.take(bucket(), 1, limit, now)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it('refills evenly over the period, never beyond the limit', async () => {
      const b = bucket();
      const now = 5_000_000;
      for (let i = 0; i < 10; i++) await store.take(b, 1, PER_SECOND, now);
      expect((await store.take(b, 1, PER_SECOND, now + 50)).allowed).toBe(false);
      expect(await store.take(b, 1, PER_SECOND, now + 100)).toMatchObject({ allowed: true, remaining: 0 });
      expect(await store.take(b, 1, PER_SECOND, now + 350)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await store.take(b, 1, PER_SECOND, now + 60_000)).toMatchObject({ allowed: true, remaining: 9 });
    });

    it('only looks with a cost of 0: allowed while a token is left, nothing taken', async () => {
      const b = bucket();
      const limit = { limit: 1, periodMs: 60_000 };
      expect(await store.take(b, 0, limit, 0)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await store.take(b, 1, limit, 0)).toMatchObject({ allowed: true, remaining: 0 });
      expect(await store.take(b, 0, limit, 0)).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
    });

    it('never hands out more than the bucket holds among concurrent takes from two stores', async () => {
      const other = await harness.open();
      const b = bucket();
      const now = Date.now();
      const limit = { limit: 7, periodMs: 3_600_000 };
      const decisions = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).take(b, 1, limit, now)),
      );
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(7);
    });

    it('forgets only buckets that are full again', async () => {
      const [full, empty] = [bucket(), bucket()];
      const limit = { limit: 2, periodMs: 1000 };
      await store.take(full, 1, limit, 0);
      await store.take(empty, 2, limit, 5000);
      await store.prune(5000);
      expect(await store.take(full, 1, limit, 5000)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await store.take(empty, 1, limit, 5000)).toMatchObject({ allowed: false });
    });
  });
}
