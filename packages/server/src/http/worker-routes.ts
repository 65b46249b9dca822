import type { IncomingMessage } from 'node:http';
import { readJsonBody, sendJson } from '@legim/node';
import { LegimError } from '@legim/sdk';
import type { FileReaping, WorkerFile, WorkerStore } from '../workers/worker-store.js';
import {
  WORKER_API,
  WORKER_BODY_LIMIT,
  parseBlobDeletes,
  parseBlobKey,
  parseFailed,
  parseFileId,
  parseIntent,
  parseVariants,
} from '../workers/worker-wire.js';
import type { Router } from './router.js';

/** What the internal worker API serves from: the gateway's metadata store and its reaper. */
export interface WorkerApi {
  store: WorkerStore;
  reaper: FileReaping;
}

/**
 * The internal API that lets `legim worker --gateway` run on any host
 * (docs/api.md, "Internal"): each route is one `WorkerStore` call, or the
 * gateway's own reaper for `expire`/`delete` jobs. Only holders of the
 * cluster secret get in. Blob bytes never pass here: workers read and write
 * them on the storage nodes directly.
 */
export function addWorkerRoutes(router: Router, api: WorkerApi, clusterMember: (req: IncomingMessage) => void): Router {
  const { store, reaper } = api;
  const body = (req: IncomingMessage) => readJsonBody(req, WORKER_BODY_LIMIT);
  return router
    .on('GET', `${WORKER_API}/nodes`, async (req, res) => {
      clusterMember(req);
      sendJson(res, 200, { nodes: await store.listNodes() });
    })
    .on('GET', `${WORKER_API}/files/:id`, async (req, res, params) => {
      clusterMember(req);
      const id = parseFileId(params['id']);
      const file = await store.getFile(id);
      if (!file) throw new LegimError('FILE_NOT_FOUND', `no file ${id}: it was deleted or never existed`);
      sendJson(res, 200, { file: withoutSecrets(file) });
    })
    .on('GET', `${WORKER_API}/blobs/:key/replicas`, async (req, res, params) => {
      clusterMember(req);
      sendJson(res, 200, { nodeIds: await store.replicaNodes(parseBlobKey(params['key'])) });
    })
    .on('POST', `${WORKER_API}/blobs/:key/intent`, async (req, res, params) => {
      clusterMember(req);
      const key = parseBlobKey(params['key']);
      const intent = parseIntent(await body(req));
      // The gateway's clock decides when the intent falls due, whatever the worker's says.
      await store.recordUploadIntent(key, intent.nodeIds, Date.now() + intent.forMs);
      res.writeHead(204).end();
    })
    .on('POST', `${WORKER_API}/files/:id/variants`, async (req, res, params) => {
      clusterMember(req);
      const id = parseFileId(params['id']);
      const { variants } = parseVariants(await body(req));
      sendJson(res, 200, { recorded: await store.recordVariants(id, variants, Date.now()) });
    })
    .on('POST', `${WORKER_API}/files/:id/failed`, async (req, res, params) => {
      clusterMember(req);
      const id = parseFileId(params['id']);
      await store.markFailed(id, parseFailed(await body(req)).reason);
      res.writeHead(204).end();
    })
    .on('POST', `${WORKER_API}/files/:id/reap`, async (req, res, params) => {
      clusterMember(req);
      await reaper.reap(parseFileId(params['id']));
      res.writeHead(204).end();
    })
    .on('POST', `${WORKER_API}/blob-deletes`, async (req, res) => {
      clusterMember(req);
      await store.queueBlobDeletes(parseBlobDeletes(await body(req)).locations, Date.now());
      res.writeHead(204).end();
    });
}

/** The record as stored carries the hash of the delete token: it stays in the gateway. */
function withoutSecrets(file: WorkerFile): WorkerFile {
  const { deleteTokenHash: _kept, ...view } = file as WorkerFile & { deleteTokenHash?: string };
  return view;
}
