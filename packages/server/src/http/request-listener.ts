import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { requestId, type Logger } from '@legim/node';
import { clientAddress, type TrustedProxies } from '../access/trusted-proxies.js';
import type { EdgeRequest } from './edge-request.js';
import type { GatewayApp } from './gateway-app.js';
import type { Reply, StreamBody } from './reply.js';

export interface RequestListenerOptions {
  logger: Logger;
  /** Proxies whose `X-Forwarded-For` names the client. */
  trustedProxies: TrustedProxies;
  /** Called once per request when its answer is over (sent, or cut), with its route pattern. */
  observe: (route: string, method: string, status: number, seconds: number) => void;
}

/**
 * The app on a Node HTTP server: the one place that reads `req` and writes
 * `res`. Each request gets an id (the client's `Legim-Request-Id` if it sent
 * a sane one), sent back on every answer and on every log line about it.
 */
export function createRequestListener(
  app: GatewayApp,
  { logger, observe, trustedProxies }: RequestListenerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const started = performance.now();
    const aborted = new AbortController();
    const request: EdgeRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: req,
      signal: aborted.signal,
      id: requestId(req.headers),
      address: clientAddress(req.socket.remoteAddress, singleHeader(req.headers['x-forwarded-for']), trustedProxies),
    };
    let route = 'unmatched';
    res.once('close', () => {
      aborted.abort();
      const seconds = (performance.now() - started) / 1000;
      observe(route, request.method, res.statusCode, seconds);
      logger.debug(
        { reqId: request.id, method: request.method, url: request.url, status: res.statusCode, ms: seconds * 1000 },
        'request done',
      );
    });
    const bodyGate = continueOnRead(req, res);
    const handled = await app.handle(request);
    route = handled.route ?? route;
    const { reply } = handled;
    bodyGate.close();
    // A client still waiting for `100 Continue` has sent no body: the connection cannot carry another request.
    if (bodyGate.waiting()) res.setHeader('Connection', 'close');
    else if (reply.status >= 400 && !req.complete && !(await drained(req))) res.setHeader('Connection', 'close');
    await send(res, reply, request);
  };
}

/** Whether a client asking `Expect: 100-continue` still waits for it; `close` stops watching. */
interface BodyGate {
  waiting(): boolean;
  close(): void;
}

/**
 * Node sends `100 Continue` at once unless the server listens to
 * 'checkContinue', which it does with this listener: the interim answer goes
 * out only when the app starts reading the body (a stream, a pipe or the JSON
 * reader attaching to it), so a request refused on its headers (no key, bad
 * options, too large a declared length) gets its error instead, and its body
 * is never sent.
 */
function continueOnRead(req: IncomingMessage, res: ServerResponse): BodyGate {
  let waiting = /^100-continue$/i.test(req.headers.expect ?? '');
  const onListener = (event: string | symbol) => {
    if (event !== 'data' && event !== 'readable') return;
    req.off('newListener', onListener);
    if (waiting && !res.headersSent) res.writeContinue();
    waiting = false;
  };
  if (waiting) req.on('newListener', onListener);
  return {
    waiting: () => waiting,
    close: () => req.off('newListener', onListener),
  };
}

async function send(res: ServerResponse, reply: Reply, request: EdgeRequest): Promise<void> {
  const headers: OutgoingHttpHeaders = { ...reply.headers, 'Legim-Request-Id': request.id };
  const withBody = request.method !== 'HEAD';
  if (reply.stream) return sendStream(res, reply.status, headers, reply.stream, withBody);
  if (res.destroyed) return;
  if (reply.json !== undefined) {
    const payload = Buffer.from(JSON.stringify(reply.json), 'utf8');
    res.writeHead(reply.status, {
      // JSON answers describe live state (downloads left, health): never cache them unless a route says so.
      'Cache-Control': 'no-store',
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': payload.length,
    });
    res.end(withBody ? payload : undefined);
    return;
  }
  if (reply.bytes) {
    res.writeHead(reply.status, { ...headers, 'Content-Length': reply.bytes.length });
    res.end(withBody ? reply.bytes : undefined);
    return;
  }
  res.writeHead(reply.status, headers).end();
}

async function sendStream(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: StreamBody,
  withBody: boolean,
): Promise<void> {
  if (res.destroyed) {
    await body.abandoned?.();
    return;
  }
  res.writeHead(status, headers);
  if (!withBody) {
    res.end();
    await body.abandoned?.();
    return;
  }
  // Taken now: a response lets go of its socket once finished, and the socket tells whether the client reset it.
  const socket = res.socket;
  let bytes = 0;
  let whole = false;
  try {
    for await (const chunk of body.chunks) {
      if (res.destroyed) break;
      bytes += chunk.length;
      if (!res.write(chunk)) await writable(res);
    }
    whole = !res.destroyed;
    res.end();
  } catch {
    // The body failed mid-way (every replica did): a short body must not look complete.
    res.destroy();
  } finally {
    body.sent?.(bytes);
  }
  if (body.cut && !(whole && socket && (await delivered(res, socket)))) body.cut();
}

/** How long after an answer is flushed a reset of its connection still means the client did not get it all. */
const DELIVERY_WATCH_MS = 10_000;

/**
 * Whether the client got the whole answer, as far as the gateway can
 * tell: it was flushed to the connection, and the connection was not reset
 * soon after. Flushed bytes may still sit in the kernel's buffers (several
 * MB); a client that goes away before reading them all resets the
 * connection (TCP RST: it closes with bytes unread, or gets bytes after
 * closing), which Node reports as a close with an error.
 */
function delivered(res: ServerResponse, socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (result: boolean) => {
      clearTimeout(timer);
      res.off('finish', onFinish).off('close', onResponseClose);
      socket.off('close', onSocketClose);
      resolve(result);
    };
    const onSocketClose = (hadError: boolean) => done(!hadError);
    const onFinish = () => {
      if (socket.destroyed) done(!socket.errored);
      else socket.once('close', onSocketClose);
    };
    const onResponseClose = () => {
      if (!res.writableFinished) done(false);
    };
    const timer = setTimeout(() => done(true), DELIVERY_WATCH_MS);
    timer.unref();
    if (res.writableFinished) onFinish();
    else res.once('finish', onFinish).once('close', onResponseClose);
  });
}

function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** A rejected request body up to this size is read to its end so the client can read the error. */
const DRAIN_LIMIT = 8 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 5000;

/**
 * A client still sending its body would see a broken pipe instead of the
 * answer if the connection closed under it, so a small rest is read and
 * dropped first; a large one is cut off (the caller sets Connection: close).
 */
function drained(req: IncomingMessage): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (req.readableEnded) return Promise.resolve(true);
  if (declared > DRAIN_LIMIT || req.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (result: boolean) => {
      clearTimeout(timer);
      req.off('readable', onReadable).off('end', onEnd).off('error', onEnd).off('close', onEnd);
      resolve(result);
    };
    // read() rather than resume(): an abandoned async iterator leaves a
    // 'readable' listener behind, and with one attached resume() does nothing.
    const onReadable = () => {
      for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
        bytes += chunk.length;
        if (bytes > DRAIN_LIMIT) return finish(false);
      }
    };
    const onEnd = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
    req.unpipe();
    req.on('readable', onReadable).on('end', onEnd).on('error', onEnd).on('close', onEnd);
    onReadable();
  });
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
