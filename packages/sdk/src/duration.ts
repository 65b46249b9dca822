import { LegimError } from './errors.js';

const UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
] as const;

const SECONDS_PER_UNIT: Record<string, number> = Object.fromEntries(UNITS);

const ACCEPTED =
  'a whole number of seconds (3600) or <n>s, <n>m, <n>h, <n>d (90s, 15m, 1h, 7d), optionally combined from largest to smallest (1h 30m)';

/**
 * Reads a time to live: `'90s'`, `'15m'`, `'1h'`, `'7d'`, plain seconds
 * (`'3600'` or `3600`), or a combination from largest unit to smallest as
 * {@link formatDuration} writes it (`'1h 30m'`, `'1d12h'`).
 *
 * @returns whole seconds, always > 0
 * @throws LegimError `INVALID_OPTION` naming the accepted forms
 * @example
 * parseDuration('1h');     // 3600
 * parseDuration('1h 30m'); // 5400
 * parseDuration(90);       // 90
 */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text > 0) return text;
    throw invalid(String(text));
  }
  if (typeof text !== 'string') throw invalid(String(text));
  const input = text.trim().toLowerCase();
  if (/^\d+$/.test(input)) return checked(Number(input), text);

  const parts = input.match(/^(?:\d+\s*[dhms]\s*)+$/) ? [...input.matchAll(/(\d+)\s*([dhms])/g)] : [];
  if (parts.length === 0) throw invalid(text);
  let seconds = 0;
  let previous = Infinity;
  for (const [, amount, unit] of parts) {
    const size = SECONDS_PER_UNIT[unit as string] as number;
    if (size >= previous) throw invalid(text); // '30m 1h', '1h 1h'
    previous = size;
    seconds += Number(amount) * size;
  }
  return checked(seconds, text);
}

/**
 * Writes seconds the way people read them, every non-zero unit from days to
 * seconds; fractions of a second are dropped. {@link parseDuration} reads the
 * result back.
 *
 * @throws LegimError `INVALID_OPTION` for a negative or non-finite number
 * @example
 * formatDuration(3600);  // '1h'
 * formatDuration(5400);  // '1h 30m'
 * formatDuration(90061); // '1d 1h 1m 1s'
 * formatDuration(0);     // '0s'
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new LegimError('INVALID_OPTION', `cannot format ${seconds} as a duration: expected a number of seconds >= 0`);
  }
  let rest = Math.floor(seconds);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) parts.push(`${amount}${unit}`);
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

function checked(seconds: number, text: string): number {
  if (Number.isSafeInteger(seconds) && seconds > 0) return seconds;
  throw invalid(text);
}

function invalid(text: string): LegimError {
  return new LegimError('INVALID_OPTION', `invalid duration ${JSON.stringify(text)}: expected ${ACCEPTED}`);
}
