import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A request as routes see it: what came in, never the socket's response side. */
export interface EdgeRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body, unread: routes that take a stream read it themselves, the edge reads JSON ones. */
  body: Readable;
  /** Aborted when the client goes away, so long answers stop producing. */
  signal: AbortSignal;
  /** Set by the edge to the id in `Legim-Request-Id`. */
  id: string;
  /** The client's address: the socket's peer, or what a trusted proxy says (`--trusted-proxy`). */
  address: string;
}

/** One value of a header that may repeat. */
export function headerValue(request: EdgeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The token of `Authorization: Bearer <token>`. */
export function bearerToken(request: EdgeRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(headerValue(request, 'authorization') ?? '')?.[1];
}
