import { LegimError } from '@legim/sdk';
import type { Reply, ReplyHeaders } from './reply.js';

/**
 * The gateway's one mapping from errors to HTTP: a `LegimError` answers with
 * its status and `{error: {code, message}}`; anything else is a bug or an
 * outage of ours, answered 500 without its details (the log has them).
 */
export function errorReply(error: unknown): Reply {
  if (!LegimError.is(error)) {
    return {
      status: 500,
      json: { error: { code: 'INTERNAL', message: 'internal error in the gateway; its log has the details' } },
    };
  }
  // A finished file's final state (file-lookup.ts) is the one detail the body carries.
  const gone = error.details?.gone;
  return {
    status: error.statusCode,
    headers: headersFor(error),
    json: { error: { code: error.code, message: error.message, ...(gone !== undefined && { gone }) } },
  };
}

function headersFor(error: LegimError): ReplyHeaders {
  const rateLimit = error.details?.rateLimit as { limit: number; remaining: number; reset: number } | undefined;
  if (rateLimit) {
    return {
      'RateLimit-Limit': String(rateLimit.limit),
      'RateLimit-Remaining': String(rateLimit.remaining),
      'RateLimit-Reset': String(rateLimit.reset),
      ...(typeof error.details?.retryAfter === 'number' && { 'Retry-After': String(error.details.retryAfter) }),
    };
  }
  if (typeof error.details?.retryAfter === 'number') return { 'Retry-After': String(error.details.retryAfter) };
  if (typeof error.details?.keyDestroyedAt === 'string') {
    return { 'Legim-Key-Destroyed-At': error.details.keyDestroyedAt };
  }
  switch (error.code) {
    case 'UNAUTHORIZED':
    case 'KEY_REVOKED':
      return { 'WWW-Authenticate': 'Bearer' };
    case 'RANGE_NOT_SATISFIABLE':
      return typeof error.details?.size === 'number' ? { 'Content-Range': `bytes */${error.details.size}` } : {};
    case 'METHOD_NOT_ALLOWED':
      return Array.isArray(error.details?.allow) ? { Allow: error.details.allow.join(', ') } : {};
    default:
      return {};
  }
}
