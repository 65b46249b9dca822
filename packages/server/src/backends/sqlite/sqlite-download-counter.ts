import type Database from 'better-sqlite3';
import {
  ledgerState,
  type CountedTake,
  type CountRow,
  type IndexDownloadCounter,
  type LedgerState,
  type TakeResult,
} from '../download-counter/download-counter.js';

/**
 * The embedded counter: the count lives in the files row, so taking a
 * download is a single UPDATE (SQLite serialises writers, and a WAL database
 * shared by several gateways on one host stays exact). The same rows are the
 * ledger a Redis counter is seeded from and kept in step with.
 */
export class SqliteDownloadCounter implements IndexDownloadCounter {
  private readonly takeStatement;
  private readonly stateStatement;
  private readonly refundStatement;
  private readonly recordTakeStatement;

  constructor(db: Database.Database) {
    this.takeStatement = db.prepare<{ id: string; now: number; deleteAt: number }, { downloads_left: number }>(
      `UPDATE files SET
         downloads_left = downloads_left - 1,
         delete_at = CASE WHEN downloads_left = 1 THEN @deleteAt ELSE delete_at END,
         delete_reason = CASE WHEN downloads_left = 1 THEN 'exhausted' ELSE delete_reason END
       WHERE id = @id AND downloads_left > 0 AND expires_at > @now AND delete_at IS NULL
       RETURNING downloads_left`,
    );
    this.stateStatement = db.prepare<[string], CountRow>(
      'SELECT downloads_left, max_downloads, expires_at, delete_at, delete_reason FROM files WHERE id = ?',
    );
    this.refundStatement = db.prepare(
      `UPDATE files SET
         downloads_left = min(downloads_left + 1, max_downloads),
         delete_at = CASE WHEN delete_reason = 'exhausted' THEN NULL ELSE delete_at END,
         delete_reason = CASE WHEN delete_reason = 'exhausted' THEN NULL ELSE delete_reason END
       WHERE id = ?`,
    );
    // Relative, like the refund, so write-throughs that land out of order still add up to the
    // counter's value; conditional, so the index alone bounds what every gateway serves. The
    // deletion is scheduled when either count reaches 0 (an exhausted mark does not stop the
    // write-throughs still in flight: they were counted within the limit).
    this.recordTakeStatement = db.prepare<{ id: string; left: number; max: number; deleteAt: number }>(
      `UPDATE files SET
         downloads_left = downloads_left - 1,
         delete_at = CASE WHEN ((@left = 0 AND @max = max_downloads) OR downloads_left = 1) AND delete_at IS NULL
           THEN @deleteAt ELSE delete_at END,
         delete_reason = CASE WHEN ((@left = 0 AND @max = max_downloads) OR downloads_left = 1) AND delete_reason IS NULL
           THEN 'exhausted' ELSE delete_reason END
       WHERE id = @id AND downloads_left > 0 AND (delete_reason IS NULL OR delete_reason <> 'deleted')`,
    );
  }

  async take(fileId: string, now: number, graceMs: number): Promise<TakeResult> {
    const row = this.takeStatement.get({ id: fileId, now, deleteAt: now + graceMs });
    if (row) return { ok: true, downloadsLeft: row.downloads_left };
    const state = await this.state(fileId, now);
    return { ok: false, reason: state.open ? 'exhausted' : state.reason };
  }

  async refund(fileId: string): Promise<void> {
    this.refundStatement.run(fileId);
  }

  /** The index row is marked deleted by the caller; that alone stops `take`. */
  async close(): Promise<void> {}

  /** The count went with the files row. */
  async forget(): Promise<void> {}

  /** The count is in the row the change was made to. */
  async limitsChanged(): Promise<void> {}

  async state(fileId: string, now: number): Promise<LedgerState> {
    return ledgerState(this.stateStatement.get(fileId), now);
  }

  async recordTake(fileId: string, counted: CountedTake, deleteAt: number): Promise<boolean> {
    const values = { id: fileId, left: counted.downloadsLeft, max: counted.maxDownloads, deleteAt };
    return this.recordTakeStatement.run(values).changes === 1;
  }

  async recordRefund(fileId: string): Promise<void> {
    this.refundStatement.run(fileId);
  }
}
