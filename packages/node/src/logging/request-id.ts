import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The header that carries a request's id, both ways: a caller may send one, every answer has one. */
export const REQUEST_ID_HEADER = 'legim-request-id';

/** Short enough for a log line, and nothing a log reader or a header could misread. */
const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The id of a request: the caller's `Legim-Request-Id` if it is a safe token
 * (so a gateway and the nodes it calls log one request under one id), else a
 * new UUID.
 */
export function requestId(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  const candidate = Array.isArray(given) ? given[0] : given;
  return candidate !== undefined && SAFE_ID.test(candidate) ? candidate : randomUUID();
}
