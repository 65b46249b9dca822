import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createSecretCheck } from '@legim/node';
import { LegimError } from '@legim/sdk';

export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** A guard that throws UNAUTHORIZED unless the request carries `Authorization: Bearer <secret>`. */
export function bearerGuard(secret: string, what: string): (req: IncomingMessage) => void {
  const matches = createSecretCheck(secret);
  return (req) => {
    if (req.headers.authorization === undefined) {
      throw new LegimError('UNAUTHORIZED', `this endpoint needs the ${what}: send Authorization: Bearer <${what}>`);
    }
    if (!matches(req.headers.authorization)) throw new LegimError('UNAUTHORIZED', `wrong ${what}`);
  };
}
