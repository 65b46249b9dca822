import { LegimError } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import { assertValidBlobKey, isValidBlobKey } from '../src/index.js';

describe('assertValidBlobKey', () => {
  it.each([
    'a',
    '3f2b9c1e-7d4a-4b8e-9c2d-1a2b3c4d5e6f',
    '3f2b9c1e-7d4a-4b8e-9c2d-1a2b3c4d5e6f.thumb',
    'A_b-c.d',
    'x'.repeat(200),
  ])('accepts %s', (key) => {
    expect(() => assertValidBlobKey(key)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['dot-dot', '..'],
    ['dots only', '...'],
    ['leading dot', '.hidden'],
    ['traversal', '../../etc/passwd'],
    ['embedded ..', 'a..b'],
    ['slash', 'a/b'],
    ['backslash', 'a\\b'],
    ['encoded slash left encoded', 'a%2Fb'],
    ['NUL', 'a\u0000b'],
    ['space', 'a b'],
    ['201 characters', 'x'.repeat(201)],
    ['sidecar suffix', 'abc.meta.json'],
  ])('refuses %s', (_name, key) => {
    expect(isValidBlobKey(key)).toBe(false);
    try {
      assertValidBlobKey(key);
      expect.unreachable();
    } catch (error) {
      expect(LegimError.is(error) && error.code).toBe('INVALID_KEY');
      expect((error as LegimError).statusCode).toBe(400);
    }
  });

  it('refuses non-strings', () => {
    expect(() => assertValidBlobKey(42)).toThrow(/invalid blob key/);
  });
});
