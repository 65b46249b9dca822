import { LegimError } from '@legim/sdk';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * Parses a size such as `10GB`, `512MiB`, `1.5TB` or a plain byte count.
 * KB/MB/GB/TB are decimal (as disks are sold), KiB/MiB/GiB/TiB binary.
 */
export function parseByteSize(value: string | number, optionName: string): number {
  if (typeof value === 'number') return requirePositive(value, optionName, String(value));
  const match = SIZE.exec(value.trim());
  const unit = UNITS[(match?.[2] || 'b').toLowerCase()];
  if (!match || unit === undefined) {
    throw new LegimError(
      'INVALID_OPTION',
      `${optionName} must be a size like 500MB, 10GB or 2TiB (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got "${value}"`,
    );
  }
  return requirePositive(Math.floor(Number(match[1]) * unit), optionName, value);
}

function requirePositive(bytes: number, optionName: string, shown: string): number {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new LegimError('INVALID_OPTION', `${optionName} must be a positive size in bytes, got ${shown}`);
  }
  return bytes;
}
