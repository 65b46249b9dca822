import { LegimError, parseDuration } from '@legim/sdk';
import type { BucketLimit } from './token-bucket.js';

/** The gateway's rate limits; an undefined limit is off. */
export interface RateLimits {
  upload: { perKey: BucketLimit | undefined; perAddress: BucketLimit | undefined };
  download: { perKey: BucketLimit | undefined; perAddress: BucketLimit | undefined };
  /** Failed authentications per client address: what stops guessing keys. */
  authFailures: BucketLimit | undefined;
}

const PERIODS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000 };

/**
 * `60/min`, `10/s`, `1000/h` or `5/30s` (any duration); `0` or `off`: no
 * limit. A client may use the whole amount at once, then gets it back
 * evenly over the period (a token bucket).
 */
export function parseRateLimit(name: string, raw: string): BucketLimit | undefined {
  if (/^(0|off)$/i.test(raw.trim())) return undefined;
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(raw);
  const limit = Number(match?.[1]);
  const periodMs = match ? (PERIODS[match[2]!] ?? durationMs(match[2]!)) : NaN;
  if (!match || !Number.isSafeInteger(limit) || limit < 1 || !(periodMs >= 1000)) {
    throw new LegimError(
      'INVALID_OPTION',
      `invalid ${name}: expected <count>/<period> such as 60/min, 10/s or 1000/h, or off; got "${raw}"`,
    );
  }
  return { limit, periodMs };
}

function durationMs(raw: string): number {
  try {
    return parseDuration(raw) * 1000;
  } catch {
    return NaN;
  }
}
