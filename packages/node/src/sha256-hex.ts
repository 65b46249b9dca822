import { LegimError } from '@legim/sdk';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Lower-cases a hex SHA-256; `BAD_REQUEST` unless it is 64 hex digits. */
export function normalizeSha256(value: string, source = 'the SHA-256'): string {
  const normalized = value.trim().toLowerCase();
  if (!SHA256_HEX.test(normalized)) {
    throw new LegimError('BAD_REQUEST', `${source} must be 64 hexadecimal digits`);
  }
  return normalized;
}

/** The digest a writer promised, from up front or, failing that, from after the body. */
export function resolveExpectedSha256(
  declared: string | undefined,
  late: (() => string | undefined) | undefined,
): string {
  if (declared !== undefined) return normalizeSha256(declared);
  const value = late?.();
  if (value === undefined || value === '') {
    throw new LegimError('BAD_REQUEST', 'no SHA-256 came with the blob: send a Legim-Sha256 header or trailer');
  }
  return normalizeSha256(value);
}
