import {
  liveNumbers,
  type ExpiredRow,
  type IndexNumbers,
  type IndexTotals,
  type ReplicationPage,
  type TotalsRow,
} from '../../stats/index-totals.js';
import type { PostgresDatabase } from './postgres-database.js';

/**
 * The totals the triggers of `index_totals` keep, less the files that
 * expired and wait for the sweep (an indexed range on `expires_at`). Every
 * file written updates the one totals row, which serialises those writes
 * briefly; at the write rates of one gateway tier that row is never the
 * bottleneck (see docs/scaling.md for what replaces it at larger scale).
 */
export class PostgresIndexTotals implements IndexTotals {
  constructor(private readonly db: PostgresDatabase) {}

  async read(now: number): Promise<IndexNumbers> {
    const [[totals], [expired]] = await Promise.all([
      this.db.query<TotalsRow>(
        'SELECT files, file_bytes, processing, failed, variants, variant_bytes FROM index_totals WHERE id = 1',
      ),
      this.db.query<ExpiredRow>(
        `SELECT count(*) AS files, coalesce(sum(size), 0)::bigint AS file_bytes,
           count(*) FILTER (WHERE status = 'processing') AS processing, count(*) FILTER (WHERE status = 'failed') AS failed
         FROM files WHERE expires_at <= $1 AND delete_at IS NULL`,
        [now],
      ),
    ]);
    return liveNumbers(totals, expired!);
  }

  async replicationPage(afterId: string, limit: number, downNodeIds: string[], now: number): Promise<ReplicationPage> {
    const [row] = await this.db.query<{ files: number; short: number | null; last_id: string | null }>(
      `WITH page AS (
         SELECT id, replicas_wanted FROM files
         WHERE id > $1 AND delete_at IS NULL AND expires_at > $3 ORDER BY id LIMIT $2)
       SELECT count(*) AS files, max(id) AS last_id,
         count(*) FILTER (WHERE (SELECT count(*) FROM replicas r
              WHERE r.blob_key = page.id AND r.state = 'durable' AND NOT (r.node_id = ANY($4::text[]))) < replicas_wanted) AS short
       FROM page`,
      [afterId, limit, now, downNodeIds],
    );
    return { files: row!.files, short: row!.short ?? 0, lastId: row!.last_id ?? undefined };
  }
}
