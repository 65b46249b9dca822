import type Database from 'better-sqlite3';
import type { DownloadCounter, TakeResult } from './download-counter.js';

/**
 * The embedded counter: the count lives in the files row, so taking a
 * download is a single UPDATE (SQLite serialises writers, and a WAL database
 * shared by several gateways on one host stays exact).
 */
export class SqliteDownloadCounter implements DownloadCounter {
  private readonly takeStatement;
  private readonly whyNotStatement;
  private readonly refundStatement;

  constructor(db: Database.Database) {
    this.takeStatement = db.prepare<{ id: string; now: number; deleteAt: number }, { downloads_left: number }>(
      `UPDATE files SET
         downloads_left = downloads_left - 1,
         delete_at = CASE WHEN downloads_left = 1 THEN @deleteAt ELSE delete_at END,
         delete_reason = CASE WHEN downloads_left = 1 THEN 'exhausted' ELSE delete_reason END
       WHERE id = @id AND downloads_left > 0 AND expires_at > @now AND delete_at IS NULL
       RETURNING downloads_left`,
    );
    this.whyNotStatement = db.prepare<
      [string],
      { downloads_left: number; expires_at: number; delete_reason: string | null }
    >('SELECT downloads_left, expires_at, delete_reason FROM files WHERE id = ?');
    this.refundStatement = db.prepare(
      `UPDATE files SET
         downloads_left = min(downloads_left + 1, max_downloads),
         delete_at = CASE WHEN delete_reason = 'exhausted' THEN NULL ELSE delete_at END,
         delete_reason = CASE WHEN delete_reason = 'exhausted' THEN NULL ELSE delete_reason END
       WHERE id = ?`,
    );
  }

  async take(fileId: string, now: number, graceMs: number): Promise<TakeResult> {
    const row = this.takeStatement.get({ id: fileId, now, deleteAt: now + graceMs });
    if (row) return { ok: true, downloadsLeft: row.downloads_left };
    const state = this.whyNotStatement.get(fileId);
    if (!state) return { ok: false, reason: 'missing' };
    if (state.expires_at <= now) return { ok: false, reason: 'expired' };
    if (state.delete_reason === 'deleted') return { ok: false, reason: 'deleted' };
    return { ok: false, reason: 'exhausted' };
  }

  async refund(fileId: string): Promise<void> {
    this.refundStatement.run(fileId);
  }
}
