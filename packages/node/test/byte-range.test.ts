import { describe, expect, it } from 'vitest';
import { parseRangeHeader, resolveByteRange } from '../src/byte-range.js';

describe('parseRangeHeader', () => {
  it('reads the three single-range forms', () => {
    expect(parseRangeHeader('bytes=0-99')).toEqual({ start: 0, end: 99 });
    expect(parseRangeHeader('bytes=100-')).toEqual({ start: 100 });
    expect(parseRangeHeader('bytes=-500')).toEqual({ suffix: 500 });
  });

  it('ignores what it cannot serve as one range', () => {
    for (const header of [undefined, 'bytes=0-1,5-6', 'items=0-1', 'bytes=-', 'bytes=9-3', 'bytes=a-b']) {
      expect(parseRangeHeader(header)).toBeUndefined();
    }
  });
});

describe('resolveByteRange', () => {
  it('clamps the end and resolves suffixes', () => {
    expect(resolveByteRange({ start: 10, end: 1000 }, 100)).toEqual({ start: 10, end: 99 });
    expect(resolveByteRange({ suffix: 30 }, 100)).toEqual({ start: 70, end: 99 });
    expect(resolveByteRange({ suffix: 300 }, 100)).toEqual({ start: 0, end: 99 });
    expect(resolveByteRange(undefined, 100)).toEqual({ start: 0, end: 99 });
  });

  it('refuses ranges that select nothing, with the size for Content-Range', () => {
    for (const range of [{ start: 100 }, { suffix: 0 }, { start: 0 }]) {
      const size = 'suffix' in range || range.start === 100 ? 100 : 0;
      expect(() => resolveByteRange(range, size)).toThrow(
        expect.objectContaining({ code: 'RANGE_NOT_SATISFIABLE', details: { size } }),
      );
    }
  });
});
