export type RefusalReason = 'missing' | 'exhausted' | 'expired' | 'deleted';

export type TakeResult = { ok: true; downloadsLeft: number } | { ok: false; reason: RefusalReason };

/**
 * Hands out a file's downloads. `take` is one atomic check-and-decrement:
 * under any concurrency, on any number of gateways, exactly `maxDownloads`
 * calls succeed. No lock needed.
 */
export interface DownloadCounter {
  /** Takes one download, or says why not. Taking the last one schedules deletion after `graceMs`. */
  take(fileId: string, now: number, graceMs: number): Promise<TakeResult>;
  /** Gives back a download the server could not deliver. */
  refund(fileId: string): Promise<void>;
  /** The owner deleted the file: from now on every gateway refuses it. Called before the index marks it. */
  close(fileId: string, expiresAt: number): Promise<void>;
  /** The file was purged: drops what the counter still keeps of it. */
  forget(fileId: string): Promise<void>;
  /**
   * The owner changed the file's limit or expiry in the index (called
   * after it): a count kept elsewhere is dropped, so the next take starts
   * again from the index.
   */
  limitsChanged(fileId: string): Promise<void>;
}

/** Where a file's downloads stand according to the index. */
export type LedgerState =
  | { open: true; downloadsLeft: number; maxDownloads: number; expiresAt: number }
  | { open: false; reason: RefusalReason };

/** What a fast counter counted: the downloads left after a take, under the limit its count started from. */
export interface CountedTake {
  downloadsLeft: number;
  maxDownloads: number;
}

/**
 * The durable record of the counts (the index, SQLite or PostgreSQL). A fast
 * counter that can lose its memory (Redis without persistence) starts from it
 * and keeps it in step, so a restart never hands out downloads that were used.
 */
export interface DownloadLedger {
  state(fileId: string, now: number): Promise<LedgerState>;
  /**
   * A download was taken elsewhere; `counted` is what the counter has left,
   * and the limit it counted under. False: the index refuses it (none left
   * there, the owner deleted the file, or it is gone), and the download must
   * not be served. This is what bounds the downloads of every gateway by the
   * limit whatever the fast counter says (one conditional UPDATE, serialised
   * on the row). The counter's "none left" schedules the deletion only while
   * its limit is the index's: a count from before the owner raised the limit
   * must not end the file.
   */
  recordTake(fileId: string, counted: CountedTake, deleteAt: number): Promise<boolean>;
  recordRefund(fileId: string): Promise<void>;
}

/** The index's own counter: it counts in the files rows, which are also the ledger. */
export type IndexDownloadCounter = DownloadCounter & DownloadLedger;

/** What the ledger reads of a file's row: its count, expiry and deletion. */
export interface CountRow {
  downloads_left: number;
  max_downloads: number;
  expires_at: number;
  delete_at: number | null;
  delete_reason: string | null;
}

/** Where a file's downloads stand, from its row (undefined: no such file). */
export function ledgerState(row: CountRow | undefined, now: number): LedgerState {
  if (!row) return { open: false, reason: 'missing' };
  if (row.expires_at <= now) return { open: false, reason: 'expired' };
  if (row.delete_at !== null) return { open: false, reason: row.delete_reason === 'deleted' ? 'deleted' : 'exhausted' };
  return { open: true, downloadsLeft: row.downloads_left, maxDownloads: row.max_downloads, expiresAt: row.expires_at };
}
