export type TakeResult =
  { ok: true; downloadsLeft: number } | { ok: false; reason: 'missing' | 'exhausted' | 'expired' | 'deleted' };

/**
 * Hands out a file's downloads. `take` is one atomic check-and-decrement:
 * under any concurrency exactly `maxDownloads` calls succeed. No lock needed.
 */
export interface DownloadCounter {
  /** Takes one download, or says why not. Taking the last one schedules deletion after `graceMs`. */
  take(fileId: string, now: number, graceMs: number): Promise<TakeResult>;
  /** Gives back a download the server could not deliver. */
  refund(fileId: string): Promise<void>;
}
