import type { BlobStore } from '../blob-store.js';
import { parseJoinRequest, type JoinRequest, type JoinResponse } from '../tree/join-message.js';
import { readJsonBody } from './request-body.js';
import { sendJson } from './responses.js';
import type { Router } from './router.js';

const JOIN_BODY_LIMIT = 64 * 1024;

export interface ClusterRouteDeps {
  store: BlobStore;
  nodeId: string;
  startedAt: number;
  heartbeatMs: number;
  onJoin: ((join: JoinRequest) => Promise<void> | void) | undefined;
}

/** `GET /health`, `GET /stats` and `POST /join`. */
export function registerClusterRoutes(router: Router, deps: ClusterRouteDeps): void {
  router
    .on('GET', '/health', async ({ res }) => {
      const uptimeSeconds = Math.floor((Date.now() - deps.startedAt) / 1000);
      sendJson(res, 200, { ok: true, nodeId: deps.nodeId, uptimeSeconds });
    })
    .on('GET', '/stats', async ({ res }) => {
      sendJson(res, 200, { nodeId: deps.nodeId, ...(await deps.store.stats()) });
    })
    .on('POST', '/join', async ({ req, res }) => {
      const join = parseJoinRequest(await readJsonBody(req, JOIN_BODY_LIMIT));
      await deps.onJoin?.(join);
      const reply: JoinResponse = { ok: true, heartbeatMs: deps.heartbeatMs };
      sendJson(res, 200, reply);
    });
}
