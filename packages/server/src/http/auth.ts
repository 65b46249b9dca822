import type { IncomingMessage } from 'node:http';
import { createSecretCheck } from '@legim/node';
import { LegimError } from '@legim/sdk';

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
