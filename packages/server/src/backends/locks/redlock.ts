import type { Redis } from 'ioredis';
import { LegimError } from '@legim/sdk';
import Redlock, { type Lock } from 'redlock';
import type { Lease, LeaseStore } from './lock-service.js';

/**
 * Leases in Redis through Redlock, for gateways and workers on several
 * hosts. With one Redis this is a single SET NX PX with a random value
 * (released and extended only by its holder); more Redis servers given here
 * make it a quorum.
 */
export class RedlockLeaseStore implements LeaseStore {
  private readonly redlock: Redlock;

  constructor(
    private readonly redis: Redis[],
    private readonly prefix: string,
  ) {
    // Retries are LockService's business, so each attempt here is a single try.
    this.redlock = new Redlock(redis, { retryCount: 0, driftFactor: 0.01 });
    // Without a listener an EventEmitter 'error' would crash the process.
    this.redlock.on('error', () => {});
  }

  async tryAcquire(resource: string, ms: number): Promise<Lease | undefined> {
    let lock: Lock;
    try {
      lock = await this.redlock.acquire([`${this.prefix}lock:${resource}`], ms);
    } catch (error) {
      if (this.redis.every((client) => client.status === 'ready')) return undefined;
      throw new LegimError('UNAVAILABLE', 'redis cannot be reached to take a lock', { cause: error });
    }
    return {
      renew: async (renewMs) => {
        try {
          lock = await lock.extend(renewMs);
          return true;
        } catch {
          return false;
        }
      },
      release: async () => void (await lock.release()),
    };
  }
}
