import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { Logger } from '../logging/create-logger.js';

export function sendJson(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    // JSON answers describe live state (downloads left, health): never cache them.
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/**
 * The one place errors become HTTP: a `LegimError` answers with its own
 * status and `{error: {code, message}}`; anything else answers a generic 500.
 * Each failure is one log line on `logger` (the request's child logger, so
 * it carries the request id): 5xx at `error` with the error and its stack,
 * 4xx at `info`. If the response has already started (a failed read
 * mid-stream) the connection is cut, so the client sees a truncated body
 * rather than a wrong one.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, logger: Logger): void {
  const clientGone = req.socket.destroyed;
  logFailure(req, error, clientGone, logger);
  if (res.headersSent || clientGone) {
    res.destroy();
    return;
  }
  if (!LegimError.is(error)) {
    sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error on the storage node; see its log' } });
    return;
  }
  sendJson(res, error.statusCode, { error: { code: error.code, message: error.message } }, headersFor(error));
}

function logFailure(req: IncomingMessage, error: unknown, clientGone: boolean, logger: Logger): void {
  const what = `${req.method} ${req.url}`;
  if (clientGone) logger.debug({ err: error }, `${what}: the client went away`);
  else if (!LegimError.is(error)) logger.error({ err: error, status: 500 }, `${what} failed`);
  else if (error.statusCode >= 500) logger.error({ err: error, status: error.statusCode }, `${what} failed`);
  else logger.info({ status: error.statusCode, code: error.code }, `${what} refused: ${error.message}`);
}

function headersFor(error: LegimError): OutgoingHttpHeaders {
  if (typeof error.details?.retryAfter === 'number') return { 'retry-after': String(error.details.retryAfter) };
  switch (error.code) {
    case 'UNAUTHORIZED':
      return { 'www-authenticate': 'Bearer' };
    case 'RANGE_NOT_SATISFIABLE':
      return typeof error.details?.size === 'number' ? { 'content-range': `bytes */${error.details.size}` } : {};
    case 'METHOD_NOT_ALLOWED':
      return Array.isArray(error.details?.allow) ? { allow: error.details.allow.join(', ') } : {};
    default:
      return {};
  }
}
