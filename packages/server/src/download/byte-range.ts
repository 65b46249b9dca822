import { LegimError } from '@legim/sdk';
import parseRange from 'range-parser';
import type { Validators } from './conditional-request.js';

/** One span of bytes, both ends included, as `Content-Range` writes it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The single range a `Range` header asks of a representation of `size`
 * bytes, or undefined when the whole of it is to be sent: no header, a
 * header that does not parse (RFC 9110 §14.2 says to ignore it), several
 * ranges (a server may answer those whole), or an `If-Range` that no longer
 * matches. Throws RANGE_NOT_SATISFIABLE when no asked byte exists.
 */
export function requestedRange(
  header: { range?: string; ifRange?: string },
  size: number,
  validators: Validators,
): ByteRange | undefined {
  if (!header.range || !ifRangeHolds(header.ifRange, validators)) return undefined;
  const ranges = parseRange(size, header.range, { combine: true });
  if (ranges === -1) {
    throw new LegimError('RANGE_NOT_SATISFIABLE', `the range ${header.range} lies beyond the ${size} bytes`, {
      details: { size },
    });
  }
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  return { start: ranges[0]!.start, end: ranges[0]!.end };
}

/** `If-Range` compares strongly: an entity tag equal to ours, or a date exactly our last modification. */
function ifRangeHolds(ifRange: string | undefined, validators: Validators): boolean {
  if (!ifRange) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === validators.etag;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && Math.floor(date / 1000) === Math.floor(validators.lastModified / 1000);
}

/** The first `length` bytes of `chunks`; then `done`, which lets the rest go unread. */
export async function* firstBytes(
  chunks: AsyncIterable<Buffer>,
  length: number,
  done: () => void,
): AsyncGenerator<Buffer> {
  let left = length;
  try {
    for await (const chunk of chunks) {
      if (left <= 0) break;
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      yield part;
      if (left === 0) break;
    }
  } finally {
    done();
  }
}
