import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Returns a check of `Authorization: Bearer <secret>` headers. Both sides are
 * hashed first so the constant-time comparison also hides the secret's length.
 */
export function createSecretCheck(secret: string): (authorization: string | undefined) => boolean {
  if (secret.length === 0) throw new Error('the cluster secret must not be empty');
  const expected = digest(secret);
  return (authorization) => {
    const match = /^Bearer[ \t]+(.+)$/i.exec(authorization ?? '');
    const offered = digest(match?.[1]?.trim() ?? '');
    return timingSafeEqual(offered, expected) && match !== null;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
