/**
 * Resume credits: a download cut before its last byte leaves one for the
 * client that took it (its address, as the gateway sees it), so that client
 * may fetch the rest with a plain `Range` request (`curl -C -`) without
 * taking another download. Shared by every gateway of the store (the index,
 * or Redis), so the rest may come from any of them. Each take is atomic:
 * one credit is never spent twice, whatever the concurrency.
 */
export interface ResumeCreditStore {
  /** Leaves one more credit for `client` on `fileId`; the client's credits last until `until`. */
  grant(fileId: string, client: string, now: number, until: number): Promise<void>;
  /** Spends one of the client's credits on the file if one is left and not past its window; whether it did. */
  take(fileId: string, client: string, now: number): Promise<boolean>;
  /** Forgets spent credits and those past their window. */
  prune(now: number): Promise<void>;
}
