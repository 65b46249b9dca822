import type { IncomingMessage, ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/**
 * The one place where a failure becomes an HTTP answer. Expected failures are
 * LegimErrors and go out as they are; anything else is a bug, logged with its
 * stack and answered with a generic 500.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const legimError = LegimError.is(error) ? error : undefined;
  if (!legimError) {
    console.error(`legim: unexpected error on ${req.method} ${req.url}:`, error);
  }
  const answer = legimError ?? new LegimError('INTERNAL', 'internal error; the server log has the details');
  if (res.headersSent) {
    // Too late for a status: cut the connection so the client sees a failed transfer, not a short file.
    res.destroy();
    return;
  }
  const retryAfter = answer.details?.['retryAfter'];
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
  if (answer.statusCode === 413) headers['Connection'] = 'close';
  sendJson(res, answer.statusCode, answer.toJSON(), headers);
}

/** Reads a small JSON request body; refuses anything over `limit` bytes. */
export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new LegimError('PAYLOAD_TOO_LARGE', `JSON body over ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new LegimError('BAD_REQUEST', 'the request body is not valid JSON');
  }
}
