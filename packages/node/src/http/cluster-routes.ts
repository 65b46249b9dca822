import { LegimError } from '@legim/sdk';
import type { ScrubStats } from '../blob-scrubber.js';
import type { BlobStore } from '../blob-store.js';
import {
  parseDrainRequest,
  parseJoinRequest,
  type DrainRequest,
  type JoinRequest,
  type JoinResponse,
} from '../tree/join-message.js';
import { declaredLength, readJsonBody } from './request-body.js';
import { sendJson } from './responses.js';
import type { Router } from './router.js';

const JOIN_BODY_LIMIT = 64 * 1024;

export interface ClusterRouteDeps {
  store: BlobStore;
  nodeId: string;
  startedAt: number;
  heartbeatMs: number;
  /** Relays a child's join up the tree; the parent's answer may say the child was removed. */
  onJoin: ((join: JoinRequest) => Promise<JoinResponse | undefined>) | undefined;
  /** Relays a drain request up the tree; throws when it cannot. */
  onDrain: ((request: DrainRequest) => Promise<void>) | undefined;
  /** The scrubber's counts, shown as `scrub` in `GET /stats` when given. */
  scrubStats: (() => ScrubStats) | undefined;
}

/** `GET /health`, `GET /stats`, `POST /join` and `POST /drain`. */
export function registerClusterRoutes(router: Router, deps: ClusterRouteDeps): void {
  router
    .on('GET', '/health', async ({ res }) => {
      const uptimeSeconds = Math.floor((Date.now() - deps.startedAt) / 1000);
      sendJson(res, 200, { ok: true, nodeId: deps.nodeId, uptimeSeconds });
    })
    .on('GET', '/stats', async ({ res }) => {
      const scrub = deps.scrubStats?.();
      sendJson(res, 200, { nodeId: deps.nodeId, ...(await deps.store.stats()), ...(scrub && { scrub }) });
    })
    .on('POST', '/join', async ({ req, res }) => {
      const join = parseJoinRequest(await readJsonBody(req, JOIN_BODY_LIMIT, declaredLength(req)));
      const upstream = await deps.onJoin?.(join);
      const reply: JoinResponse = { ok: true, heartbeatMs: deps.heartbeatMs };
      if (upstream?.removed) reply.removed = true;
      if (upstream?.corruptReceived) reply.corruptReceived = true;
      sendJson(res, 200, reply);
    })
    .on('POST', '/drain', async ({ req, res }) => {
      const request = parseDrainRequest(await readJsonBody(req, JOIN_BODY_LIMIT, declaredLength(req)));
      if (!deps.onDrain) throw new LegimError('NOT_FOUND', 'this node has no parent to drain into');
      await deps.onDrain(request);
      sendJson(res, 202, { ok: true, nodeId: request.nodeId });
    });
}
