/**
 * Who may keep a preview: `public` lets shared caches (a CDN in front of the
 * gateways) keep it too; `private` only the user's browser, for deployments
 * whose previews must not sit on a third party's edge.
 */
export type PreviewCaching = 'public' | 'private';

/**
 * A preview never changes and never takes a download, so it may be cached
 * until the file expires, and not one second longer: the lifetime is the
 * seconds left, rounded down. After a delete, the last download or a
 * shortened expiry, the purge hook tells the CDN (docs/operations.md).
 */
export function previewCacheControl(caching: PreviewCaching, expiresAt: number, now: number): string {
  const secondsLeft = Math.max(0, Math.floor((expiresAt - now) / 1000));
  return caching === 'public'
    ? `public, max-age=${secondsLeft}, s-maxage=${secondsLeft}, immutable`
    : `private, max-age=${secondsLeft}, immutable`;
}
