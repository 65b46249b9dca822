import { randomBytes } from 'node:crypto';
import type { Lease, LeaseStore } from '../locks/lock-service.js';
import type { PostgresDatabase } from './postgres-database.js';

/**
 * Leases in the index, for gateways and workers on any host that share
 * PostgreSQL and no Redis. Each operation is one statement on one row;
 * expiry uses the callers' clocks, as the SQLite and Redis leases do, so
 * hosts need NTP-synchronised clocks (a lease is 15 s, renewed every 5 s).
 */
export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly db: PostgresDatabase) {}

  async tryAcquire(resource: string, ms: number): Promise<Lease | undefined> {
    const holder = randomBytes(12).toString('base64url');
    const now = Date.now();
    // Taken over only once expired: a crashed holder blocks others for one lease at most.
    const taken = await this.db.query(
      `INSERT INTO locks (resource, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (resource) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE locks.expires_at <= $4
       RETURNING holder`,
      [resource, holder, now + ms, now],
    );
    if (taken.length === 0) return undefined;
    return {
      renew: async (renewMs) =>
        (
          await this.db.query('UPDATE locks SET expires_at = $3 WHERE resource = $1 AND holder = $2 RETURNING holder', [
            resource,
            holder,
            Date.now() + renewMs,
          ])
        ).length > 0,
      release: async () =>
        void (await this.db.query('DELETE FROM locks WHERE resource = $1 AND holder = $2', [resource, holder])),
    };
  }
}
