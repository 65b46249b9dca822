import { parseRangeHeader, resolveByteRange, type ResolvedByteRange } from '@legim/node';

/** What `If-Range` is compared with: the entity tag, and the last modification where the answer has one. */
export interface RangeValidators {
  etag: string;
  /** Epoch milliseconds; without it, an `If-Range` date never matches. */
  lastModified?: number;
}

/**
 * The one byte range a request asks for (RFC 9110 §14), or undefined when
 * the whole representation is to be sent: no `Range`, an `If-Range` that no
 * longer matches, several ranges or another unit, which a server may answer
 * whole. A range that selects no byte is `416 RANGE_NOT_SATISFIABLE`.
 */
export function requestedRange(
  header: { range?: string | undefined; ifRange?: string | undefined },
  size: number,
  validators: RangeValidators,
): ResolvedByteRange | undefined {
  if (!ifRangeHolds(header.ifRange, validators)) return undefined;
  const parsed = parseRangeHeader(header.range);
  return parsed === undefined ? undefined : resolveByteRange(parsed, size);
}

/** `If-Range` compares strongly: our entity tag exactly, or a date exactly our last modification. */
function ifRangeHolds(ifRange: string | undefined, validators: RangeValidators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === validators.etag;
  const date = Date.parse(value);
  return (
    validators.lastModified !== undefined &&
    !Number.isNaN(date) &&
    Math.floor(date / 1000) === Math.floor(validators.lastModified / 1000)
  );
}
