import { describe, expect, it } from 'vitest';
import { formatDuration, LegimError, parseDuration } from '../src/index.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['3600', 3600],
    ['1', 1],
    [' 2H ', 7200],
    ['1h 30m', 5400],
    ['1h30m', 5400],
    ['1d 1h 1m 1s', 90_061],
    ['10 m', 600],
    [45, 45],
  ] as const)('%j is %i seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each([
    '',
    ' ',
    '0',
    '0s',
    '0h 0m',
    '-5',
    '-5s',
    '1.5h',
    '1w',
    'h',
    '1 hour',
    '30m 1h',
    '1h 1h',
    '1h,30m',
    '99999999999999999999',
    '9007199254740993s',
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ])('refuses %j with INVALID_OPTION listing the accepted forms', (input) => {
    let error: unknown;
    try {
      parseDuration(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', statusCode: 400 });
    expect((error as Error).message).toContain('90s, 15m, 1h, 7d');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1, '1s'],
    [59.9, '59s'],
    [90, '1m 30s'],
    [3600, '1h'],
    [5400, '1h 30m'],
    [86_400, '1d'],
    [90_061, '1d 1h 1m 1s'],
    [30 * 86_400, '30d'],
  ])('%d seconds is %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const seconds of [1, 59, 61, 3599, 3601, 86_399, 123_456, 2_592_000]) {
      expect(parseDuration(formatDuration(seconds))).toBe(seconds);
    }
  });

  it('refuses negative and non-finite numbers', () => {
    for (const seconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => formatDuration(seconds)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
  });
});
