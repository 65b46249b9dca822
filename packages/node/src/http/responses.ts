import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';

/** Where the node reports failures that are bugs or disk trouble, never sent to clients. */
export type NodeLogger = (message: string, error?: unknown) => void;

/** The default {@link NodeLogger}: one line to stderr, plus the error's stack if there is one. */
export const logToStderr: NodeLogger = (message, error) => {
  if (error === undefined) console.error(message);
  else console.error(message, error);
};

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
 * status and `{error: {code, message}}`; anything else is logged with its
 * stack and answered with a generic 500. If the response has already started
 * (a failed read mid-stream) the connection is cut, so the client sees a
 * truncated body rather than a wrong one.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, log: NodeLogger): void {
  const clientGone = req.socket.destroyed;
  if (!LegimError.is(error) && !clientGone) log(`${req.method} ${req.url} failed`, error);
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
