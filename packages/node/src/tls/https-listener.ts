import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { ServerIdentity } from './tls-settings.js';
import { answerPlainHttp } from './plain-http-refusal.js';

/** A gateway's or node's server: `node:http`, or `node:https` when it has a certificate. */
export type Listener = HttpServer | HttpsServer;

/** The `node:http` server options both kinds take. */
export interface ListenerOptions {
  requestTimeout?: number;
  headersTimeout?: number;
  keepAliveTimeout?: number;
}

/**
 * An HTTP server, or an HTTPS one (HTTP/1.1) with `identity`. The HTTPS one
 * answers a client that speaks plain HTTP to it with a 400 that says to use
 * https://, rather than a connection closed without a word.
 */
export function createListener(
  identity: ServerIdentity | undefined,
  options: ListenerOptions,
  handler: RequestListener,
): Listener {
  if (identity === undefined) return createHttpServer(options, handler);
  const server = createHttpsServer({ ...options, cert: identity.cert, key: identity.key }, handler);
  answerPlainHttp(server);
  return server;
}

/** `https` when the process serves TLS. */
export function schemeOf(identity: ServerIdentity | undefined): 'http' | 'https' {
  return identity === undefined ? 'http' : 'https';
}
