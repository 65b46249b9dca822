import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { Logger } from '../logging/create-logger.js';
import { REQUEST_ID_HEADER, requestId } from '../logging/request-id.js';
import type { ScrubStats } from '../blob-scrubber.js';
import type { BlobStore } from '../blob-store.js';
import type { DrainRequest, JoinRequest, JoinResponse } from '../tree/join-message.js';
import { createSecretCheck } from './auth.js';
import { registerBlobRoutes } from './blob-routes.js';
import { registerClusterRoutes } from './cluster-routes.js';
import { sendError, sendJson } from './responses.js';
import { Router, splitRequestTarget } from './router.js';

/** Answers without the cluster secret, and says only that the process is up. */
const LIVENESS_PATH = '/livez';
/**
 * On every answer, so that a client given a node's URL instead of a
 * gateway's (`legim --server`, the SDK) can say so rather than "unauthorized".
 */
const ROLE_HEADER = 'legim-role';
/** What the storage node's HTTP API is built from; see docs/node-api.md. */
export interface NodeServerDeps {
  /** An initialised store (`await store.init()` first). */
  store: BlobStore;
  /** The cluster secret every request must carry as `Authorization: Bearer <secret>`. */
  secret: string;
  nodeId: string;
  /** `Date.now()` when the node started, for `uptimeSeconds`; defaults to now. */
  startedAt?: number;
  /** Told to children in the `POST /join` answer (default 1000). */
  heartbeatMs?: number;
  /** Called with each validated child join, to relay it up the tree; resolves with the parent's answer. */
  onJoin?: (join: JoinRequest) => Promise<JoinResponse | undefined>;
  /** Called with each validated drain request from a child, to relay it up the tree. */
  onDrain?: (request: DrainRequest) => Promise<void>;
  /** The scrubber's counts, for `GET /stats` (`scrub`). */
  scrubStats?: () => ScrubStats;
  /** Each request logs on a child of it, tagged with the request id. */
  logger: Logger;
}

/**
 * Builds the storage node's request handler. It does not listen: pass it to
 * `http.createServer()` (as `startNode` does) or call it from a test.
 *
 * @example
 * const server = http.createServer(createNodeServer({ store, secret, nodeId, logger }));
 * server.listen(8888);
 */
export function createNodeServer(deps: NodeServerDeps): RequestListener {
  const isAuthorized = createSecretCheck(deps.secret);

  const router = new Router();
  registerBlobRoutes(router, deps.store);
  registerClusterRoutes(router, {
    store: deps.store,
    nodeId: deps.nodeId,
    startedAt: deps.startedAt ?? Date.now(),
    heartbeatMs: deps.heartbeatMs ?? 1000,
    onJoin: deps.onJoin,
    onDrain: deps.onDrain,
    scrubStats: deps.scrubStats,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> => {
    try {
      // The one route without the secret: probes of orchestrators and uptime checkers carry none.
      if (req.url === LIVENESS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
        sendJson(res, 200, { status: 'ok' });
        return;
      }
      if (!isAuthorized(req.headers.authorization)) {
        throw new LegimError(
          'UNAUTHORIZED',
          'this storage node needs the cluster secret: send Authorization: Bearer <secret>',
        );
      }
      const method = req.method ?? 'GET';
      const { path, query } = splitRequestTarget(req.url ?? '/');
      const match = router.match(method, path);
      if (match === undefined)
        throw new LegimError('NOT_FOUND', `no endpoint ${path} on a storage node; see docs/node-api.md`);
      if ('allowedMethods' in match) {
        throw new LegimError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, {
          details: { allow: match.allowedMethods },
        });
      }
      await match.handler({ req, res, path, query, param: match.param });
    } catch (error) {
      sendError(req, res, error, log);
    }
  };
  return (req, res) => {
    const reqId = requestId(req.headers);
    // Set before any answer is written, so every answer carries it, errors included.
    res.setHeader(REQUEST_ID_HEADER, reqId);
    res.setHeader(ROLE_HEADER, 'storage-node');
    const log = deps.logger.child({ reqId, method: req.method, url: req.url });
    logCompletion(res, log);
    void handle(req, res, log);
  };
}

/** One debug line per request, once its answer is sent or the connection is gone. */
function logCompletion(res: ServerResponse, log: Logger): void {
  const startedAt = performance.now();
  res.once('close', () => {
    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    log.debug({ status: res.statusCode, durationMs, completed: res.writableFinished }, 'request done');
  });
}
