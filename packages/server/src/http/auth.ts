import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LegimError } from '@legim/sdk';

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function secretsEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function requireBearer(req: IncomingMessage, expected: string, what: string): void {
  const token = bearerToken(req);
  if (token === undefined) throw new LegimError('UNAUTHORIZED', `this endpoint needs the ${what}: send Authorization: Bearer <${what}>`);
  if (!secretsEqual(token, expected)) throw new LegimError('UNAUTHORIZED', `wrong ${what}`);
}
