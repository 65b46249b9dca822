import type Database from 'better-sqlite3';
import {
  liveNumbers,
  type ExpiredRow,
  type IndexNumbers,
  type IndexTotals,
  type ReplicationPage,
  type TotalsRow,
} from '../../stats/index-totals.js';

/**
 * The totals the triggers of the `index_totals` table keep, less the files
 * that expired and wait for the sweep (an indexed range on `expires_at`).
 */
export class SqliteIndexTotals implements IndexTotals {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      totals: db.prepare<[], TotalsRow>('SELECT * FROM index_totals WHERE id = 1'),
      expired: db.prepare<[number], ExpiredRow>(
        `SELECT count(*) AS files, coalesce(sum(size), 0) AS file_bytes,
           coalesce(sum(status = 'processing'), 0) AS processing, coalesce(sum(status = 'failed'), 0) AS failed
         FROM files WHERE expires_at <= ? AND delete_at IS NULL`,
      ),
      replicationPage: db.prepare<
        { after: string; limit: number; now: number; down: string },
        { files: number; short: number | null; last_id: string | null }
      >(
        `WITH page AS (
           SELECT id, replicas_wanted FROM files
           WHERE id > @after AND delete_at IS NULL AND expires_at > @now ORDER BY id LIMIT @limit)
         SELECT count(*) AS files, max(id) AS last_id,
           sum((SELECT count(*) FROM replicas r
                WHERE r.blob_key = page.id AND r.state = 'durable'
                  AND r.node_id NOT IN (SELECT value FROM json_each(@down))) < replicas_wanted) AS short
         FROM page`,
      ),
    };
  }

  async read(now: number): Promise<IndexNumbers> {
    return liveNumbers(this.statements.totals.get(), this.statements.expired.get(now)!);
  }

  async replicationPage(afterId: string, limit: number, downNodeIds: string[], now: number): Promise<ReplicationPage> {
    const row = this.statements.replicationPage.get({ after: afterId, limit, now, down: JSON.stringify(downNodeIds) })!;
    return { files: row.files, short: row.short ?? 0, lastId: row.last_id ?? undefined };
  }
}
