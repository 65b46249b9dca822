import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Lease, LeaseStore } from '../locks/lock-service.js';

/**
 * Leases in the metadata database: exact for every process that shares it
 * (the gateways and workers of one host), with no server to run.
 */
export class SqliteLeaseStore implements LeaseStore {
  private readonly acquireStatement;
  private readonly renewStatement;
  private readonly releaseStatement;

  constructor(db: Database.Database) {
    // Taken over only once expired: a crashed holder blocks others for one lease at most.
    this.acquireStatement = db.prepare<{ resource: string; holder: string; now: number; until: number }>(
      `INSERT INTO locks (resource, holder, expires_at) VALUES (@resource, @holder, @until)
       ON CONFLICT (resource) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE locks.expires_at <= @now`,
    );
    this.renewStatement = db.prepare<{ resource: string; holder: string; until: number }>(
      'UPDATE locks SET expires_at = @until WHERE resource = @resource AND holder = @holder',
    );
    this.releaseStatement = db.prepare('DELETE FROM locks WHERE resource = ? AND holder = ?');
  }

  async tryAcquire(resource: string, ms: number): Promise<Lease | undefined> {
    const holder = randomBytes(12).toString('base64url');
    const now = Date.now();
    if (this.acquireStatement.run({ resource, holder, now, until: now + ms }).changes === 0) return undefined;
    return {
      renew: async (renewMs) => this.renewStatement.run({ resource, holder, until: Date.now() + renewMs }).changes > 0,
      release: async () => void this.releaseStatement.run(resource, holder),
    };
  }
}
