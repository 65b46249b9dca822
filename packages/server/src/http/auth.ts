import { createSecretCheck } from '@legim/node';
import { LegimError } from '@legim/sdk';
import { headerValue, type EdgeRequest } from './edge-request.js';

/** A guard that throws UNAUTHORIZED unless the request carries `Authorization: Bearer <secret>`. */
export function bearerGuard(secret: string, what: string): (request: EdgeRequest) => void {
  const matches = createSecretCheck(secret);
  return (request) => {
    const authorization = headerValue(request, 'authorization');
    if (authorization === undefined) {
      throw new LegimError('UNAUTHORIZED', `this endpoint needs the ${what}: send Authorization: Bearer <${what}>`);
    }
    if (!matches(authorization)) throw new LegimError('UNAUTHORIZED', `wrong ${what}`);
  };
}
