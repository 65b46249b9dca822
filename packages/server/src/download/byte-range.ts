import { parseRangeHeader, resolveByteRange, type ResolvedByteRange } from '@legim/node';

/**
 * The one byte range a `GET /d/:id` asks for (RFC 9110 §14), or undefined
 * when the whole file is to be sent: no `Range`, an `If-Range` that is not
 * this file's entity tag (compared strongly; a date never matches, as the
 * gateway sends no Last-Modified), several ranges or another unit, which a
 * server may ignore. A range past the end is `416 RANGE_NOT_SATISFIABLE`.
 */
export function requestedRange(
  range: string | undefined,
  ifRange: string | undefined,
  etag: string,
  size: number,
): ResolvedByteRange | undefined {
  if (ifRange !== undefined && ifRange.trim() !== etag) return undefined;
  const parsed = parseRangeHeader(range);
  return parsed === undefined ? undefined : resolveByteRange(parsed, size);
}
