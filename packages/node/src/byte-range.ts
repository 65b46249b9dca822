import { LegimError } from '@legim/sdk';

/**
 * A requested byte range before the blob size is known: `{start, end?}` for
 * `bytes=a-b` / `bytes=a-`, `{suffix}` for `bytes=-n` (the last n bytes).
 */
export type ByteRangeRequest = { start: number; end?: number } | { suffix: number };

/** An inclusive, satisfiable range within a blob. */
export interface ResolvedByteRange {
  start: number;
  end: number;
}

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Parses a `Range` header. Returns `undefined` for anything that is not one
 * well-formed byte range (several ranges, other units, garbage): RFC 9110
 * lets a server ignore such a header and send the whole representation.
 */
export function parseRangeHeader(header: string | undefined): ByteRangeRequest | undefined {
  if (header === undefined) return undefined;
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  if (last === '') return { start };
  const end = Number(last);
  if (end < start) return undefined;
  return { start, end };
}

/**
 * Resolves `range` against a blob of `size` bytes, clamping the end to the
 * last byte. Throws `RANGE_NOT_SATISFIABLE` (with `details.size`, used for
 * `Content-Range: bytes *\/size`) when no byte of the blob is selected.
 */
export function resolveByteRange(range: ByteRangeRequest | undefined, size: number): ResolvedByteRange {
  if (range === undefined) return { start: 0, end: size - 1 };
  let start: number;
  let end: number;
  if ('suffix' in range) {
    start = Math.max(0, size - range.suffix);
    end = size - 1;
    if (range.suffix === 0) start = size;
  } else {
    start = range.start;
    end = Math.min(range.end ?? size - 1, size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) {
    throw new LegimError('RANGE_NOT_SATISFIABLE', `the range is outside the blob (${size} bytes)`, {
      details: { size },
    });
  }
  return { start, end };
}
