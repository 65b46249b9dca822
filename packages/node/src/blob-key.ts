import { LegimError } from '@legim/sdk';

const BLOB_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/**
 * Suffix of the sidecar file stored next to each blob. A key ending with it
 * could overwrite another key's sidecar, so such keys are refused too.
 */
export const SIDECAR_SUFFIX = '.meta.json';

/** True when `key` may name a blob: see {@link assertValidBlobKey}. */
export function isValidBlobKey(key: string): boolean {
  return BLOB_KEY_PATTERN.test(key) && !key.includes('..') && !key.endsWith(SIDECAR_SUFFIX);
}

/**
 * Throws `INVALID_KEY` unless `key` matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`,
 * contains no `..` and does not end with the reserved sidecar suffix. Called
 * before any file system access, so no key can name a path outside the store.
 */
export function assertValidBlobKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !isValidBlobKey(key)) {
    const shown =
      typeof key === 'string' ? JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}...` : key) : typeof key;
    throw new LegimError(
      'INVALID_KEY',
      `invalid blob key ${shown}: use 1-200 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, ` +
        `without ".." and not ending with "${SIDECAR_SUFFIX}"`,
    );
  }
}
