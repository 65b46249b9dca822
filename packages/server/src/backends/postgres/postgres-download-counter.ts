import {
  ledgerState,
  type CountedTake,
  type CountRow,
  type IndexDownloadCounter,
  type LedgerState,
  type TakeResult,
} from '../download-counter/download-counter.js';
import type { PostgresDatabase } from './postgres-database.js';

/**
 * The counter of gateways that share PostgreSQL and no Redis: the count
 * lives in the files row and taking a download is one UPDATE. PostgreSQL
 * locks the row for it, so concurrent takes on any number of gateways queue
 * behind each other and exactly `maxDownloads` of them succeed. The same
 * rows are the ledger a Redis counter is seeded from and kept in step with.
 */
export class PostgresDownloadCounter implements IndexDownloadCounter {
  constructor(private readonly db: PostgresDatabase) {}

  async take(fileId: string, now: number, graceMs: number): Promise<TakeResult> {
    const [row] = await this.db.query<{ downloads_left: number }>(
      `UPDATE files SET
         downloads_left = downloads_left - 1,
         delete_at = CASE WHEN downloads_left = 1 THEN $3 ELSE delete_at END,
         delete_reason = CASE WHEN downloads_left = 1 THEN 'exhausted' ELSE delete_reason END
       WHERE id = $1 AND downloads_left > 0 AND expires_at > $2 AND delete_at IS NULL
       RETURNING downloads_left`,
      [fileId, now, now + graceMs],
    );
    if (row) return { ok: true, downloadsLeft: row.downloads_left };
    const state = await this.state(fileId, now);
    return { ok: false, reason: state.open ? 'exhausted' : state.reason };
  }

  async refund(fileId: string): Promise<void> {
    await this.db.query(
      `UPDATE files SET
         downloads_left = least(downloads_left + 1, max_downloads),
         delete_at = CASE WHEN delete_reason = 'exhausted' THEN NULL ELSE delete_at END,
         delete_reason = CASE WHEN delete_reason = 'exhausted' THEN NULL ELSE delete_reason END
       WHERE id = $1`,
      [fileId],
    );
  }

  /** The index row is marked deleted by the caller; that alone stops `take`. */
  async close(): Promise<void> {}

  /** The count went with the files row. */
  async forget(): Promise<void> {}

  /** The count is in the row the change was made to. */
  async limitsChanged(): Promise<void> {}

  async state(fileId: string, now: number): Promise<LedgerState> {
    const [row] = await this.db.query<CountRow>(
      'SELECT downloads_left, max_downloads, expires_at, delete_at, delete_reason FROM files WHERE id = $1',
      [fileId],
    );
    return ledgerState(row, now);
  }

  // Relative, like the refund, so write-throughs that land out of order still add up to the
  // counter's value; conditional, so the index alone bounds what every gateway serves. The
  // deletion is scheduled when either count reaches 0 (an exhausted mark does not stop the
  // write-throughs still in flight: they were counted within the limit).
  async recordTake(fileId: string, counted: CountedTake, deleteAt: number): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE files SET
         downloads_left = downloads_left - 1,
         delete_at = CASE WHEN (($2 = 0 AND $4 = max_downloads) OR downloads_left = 1) AND delete_at IS NULL
           THEN $3 ELSE delete_at END,
         delete_reason = CASE WHEN (($2 = 0 AND $4 = max_downloads) OR downloads_left = 1) AND delete_reason IS NULL
           THEN 'exhausted' ELSE delete_reason END
       WHERE id = $1 AND downloads_left > 0 AND delete_reason IS DISTINCT FROM 'deleted'
       RETURNING id`,
      [fileId, counted.downloadsLeft, deleteAt, counted.maxDownloads],
    );
    return rows.length === 1;
  }

  async recordRefund(fileId: string): Promise<void> {
    await this.refund(fileId);
  }
}
