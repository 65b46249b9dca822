import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A key's secret is `lgm_<id>_<random>`: the id (shown in listings) finds
 * the key, the 256 random bits make it unguessable, and the index keeps
 * only the SHA-256 of the whole secret. The prefix lets secret scanners
 * spot a leaked one.
 */
const SECRET = /^lgm_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export function newKeySecret(): { id: string; secret: string } {
  const id = randomBytes(6).toString('hex');
  return { id, secret: `lgm_${id}_${randomBytes(32).toString('base64url')}` };
}

export function hashKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The key id a secret names, or undefined when it is not shaped like a key's secret. */
export function keyIdOf(secret: string): string | undefined {
  return SECRET.exec(secret)?.[1];
}

/** Whether `secret` hashes to `hash`, in constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  const offered = Buffer.from(hashKeySecret(secret), 'hex');
  const expected = Buffer.from(hash, 'hex');
  return offered.length === expected.length && timingSafeEqual(offered, expected);
}
