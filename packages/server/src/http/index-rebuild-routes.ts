import type { IncomingMessage } from 'node:http';
import { sendJson } from '@legim/node';
import type { IndexRebuilder } from '../index-rebuild/index-rebuilder.js';
import type { Router } from './router.js';

/**
 * `POST /v1/index/rebuild` (starts one: 202 with its progress, 409
 * `REBUILD_RUNNING` if one runs) and `GET /v1/index/rebuild` (its progress),
 * behind the admin key (docs/api.md, "Rebuilding the index").
 */
export function addIndexRebuildRoutes(
  router: Router,
  rebuilder: IndexRebuilder,
  admin: (req: IncomingMessage) => void,
): Router {
  return router
    .on('POST', '/v1/index/rebuild', async (req, res) => {
      admin(req);
      sendJson(res, 202, await rebuilder.start());
    })
    .on('GET', '/v1/index/rebuild', (req, res) => {
      admin(req);
      sendJson(res, 200, rebuilder.status());
    });
}
