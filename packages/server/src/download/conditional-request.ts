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
