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
