import type { IncomingMessage } from 'node:http';
import { sendJson } from '@legim/node';
import type { OperationsApi } from '../stats/gateway-operations.js';
import { METRICS_CONTENT_TYPE } from '../stats/prometheus.js';
import type { Router } from './router.js';

/**
 * `GET /v1/stats`, `GET /v1/events` (Server-Sent Events) and `GET /metrics`
 * (Prometheus), all behind the admin key (docs/api.md, "Operations").
 */
export function addOperationsRoutes(router: Router, api: OperationsApi, admin: (req: IncomingMessage) => void): Router {
  return router
    .on('GET', '/v1/stats', async (req, res) => {
      admin(req);
      sendJson(res, 200, await api.stats.read());
    })
    .on('GET', '/v1/events', (req, res) => {
      admin(req);
      api.events.serve(req, res);
    })
    .on('GET', '/metrics', async (req, res) => {
      admin(req);
      const body = await api.stats.exposition();
      res.writeHead(200, {
        'content-type': METRICS_CONTENT_TYPE,
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
}
