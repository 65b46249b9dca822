/** What the index holds, as `GET /v1/stats` reports it. */
export interface IndexNumbers {
  files: { live: number; bytes: number; processing: number; failed: number };
  variants: { count: number; bytes: number };
}

/** One page of the census of under-replicated files. */
export interface ReplicationPage {
  /** Files looked at; fewer than the limit on the last page. */
  files: number;
  /** Of those, files with fewer durable copies off down nodes than they want. */
  short: number;
  lastId: string | undefined;
}

/**
 * The index's numbers, read without scanning it: totals kept by the engine
 * as files and variants come and go, less the expired files that wait for
 * the sweep (normally a handful).
 */
export interface IndexTotals {
  read(now: number): Promise<IndexNumbers>;
  /** Live files after `afterId` in id order, counting those short of durable copies off `downNodeIds`. */
  replicationPage(afterId: string, limit: number, downNodeIds: string[], now: number): Promise<ReplicationPage>;
}

/** The running totals an engine keeps, as its `index_totals` row holds them. */
export interface TotalsRow {
  files: number;
  file_bytes: number;
  processing: number;
  failed: number;
  variants: number;
  variant_bytes: number;
}

/** Files past their expiry that the sweep has not reaped yet, which the totals still count. */
export type ExpiredRow = Omit<TotalsRow, 'variants' | 'variant_bytes'>;

/** The numbers of the index: the running totals less what expired and waits for the sweep. */
export function liveNumbers(totals: TotalsRow | undefined, expired: ExpiredRow): IndexNumbers {
  if (!totals) throw new Error('the index has no totals row: its schema is older than this gateway');
  return {
    files: {
      live: totals.files - expired.files,
      bytes: totals.file_bytes - expired.file_bytes,
      processing: totals.processing - expired.processing,
      failed: totals.failed - expired.failed,
    },
    variants: { count: totals.variants, bytes: totals.variant_bytes },
  };
}
