/** The validators a client sends with a GET or HEAD. */
export interface Preconditions {
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/** What the server knows of the representation it would send. */
export interface Validators {
  etag: string;
  /** Epoch milliseconds; compared at one-second precision, as HTTP dates are. */
  lastModified: number;
}

/**
 * Whether a GET or HEAD can be answered `304`. As RFC 9110 §13.2.2 orders
 * it, `If-None-Match` decides when present and `If-Modified-Since` is looked
 * at only without it; a date that does not parse is ignored.
 */
export function isNotModified(preconditions: Preconditions, validators: Validators): boolean {
  if (preconditions.ifNoneMatch) return matchesEntityTag(preconditions.ifNoneMatch, validators.etag);
  if (!preconditions.ifModifiedSince) return false;
  const since = Date.parse(preconditions.ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(validators.lastModified / 1000) <= Math.floor(since / 1000);
}

/**
 * `If-None-Match` against an entity tag, compared weakly as RFC 9110 asks
 * for this header: a `W/` tag of the same bytes still matches, and `*`
 * matches anything.
 */
export function matchesEntityTag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strong = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => {
    const candidate = tag.trim();
    return candidate === '*' || candidate.replace(/^W\//, '') === strong;
  });
}
