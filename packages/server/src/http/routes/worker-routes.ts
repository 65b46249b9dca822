import { Type, type TSchema } from '@sinclair/typebox';
import { LegimError } from '@legim/sdk';
import {
  WORKER_API,
  WORKER_BODY_LIMIT,
  parseBlobDeletes,
  parseBlobKey,
  parseFailed,
  parseFileId,
  parseIntent,
  parseVariants,
} from '../../workers/worker-wire.js';
import type { WorkerFile } from '../../workers/worker-store.js';
import { noContent } from '../reply.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

// The worker's bodies are checked by the parsers it shares with the gateway (workers/worker-wire.ts);
// the schemas here only name them in the API document.
const wireBody = (description: string) => ({
  json: Type.Object({}, { additionalProperties: true, description }),
  limit: WORKER_BODY_LIMIT,
});
const wireAnswer = (description: string): { description: string; json: TSchema } => ({
  description,
  json: Type.Object({}, { additionalProperties: true }),
});
const FileId = Type.Object({ id: Type.String() });
const BlobKey = Type.Object({ key: Type.String({ description: '<file id> or <file id>.<variant>' }) });
const done = { 204: { description: 'Done' } };

/**
 * The internal API that lets `legim worker --gateway` run on any host
 * (docs/api.md, "Internal"): each route is one `WorkerStore` call, or the
 * gateway's own reaper. Only holders of the cluster secret get in. Blob
 * bytes never pass here: workers read and write them on the nodes directly.
 */
export function workerRoutes(s: GatewayServices): Route[] {
  const { store, reaper, keys } = s.workers;
  const common = { tag: 'internal', auth: 'cluster' } as const;
  return [
    route({
      ...common,
      id: 'workerListNodes',
      method: 'GET',
      path: `${WORKER_API}/nodes`,
      summary: 'The storage nodes, for a worker',
      responses: { 200: wireAnswer('{nodes}') },
    }).handle(async () => ({ status: 200, json: { nodes: await store.listNodes() } })),
    route({
      ...common,
      id: 'workerGetFile',
      method: 'GET',
      path: `${WORKER_API}/files/:id`,
      summary: 'A file record, for a worker',
      params: FileId,
      responses: { 200: wireAnswer('{file}') },
      errors: ['FILE_NOT_FOUND'],
    }).handle(async ({ params }) => {
      const id = parseFileId(params.id);
      const file = await store.getFile(id);
      if (!file) throw new LegimError('FILE_NOT_FOUND', `no file ${id}: it was deleted or never existed`);
      return { status: 200, json: { file: withoutSecrets(file) } };
    }),
    route({
      ...common,
      id: 'workerGetFileKey',
      method: 'GET',
      path: `${WORKER_API}/files/:id/key`,
      summary: "An encrypted file's data key, for a worker making its variants",
      params: FileId,
      responses: { 200: wireAnswer('{key}: base64, or null once destroyed') },
      errors: ['MASTER_KEY_MISSING'],
    }).handle(async ({ params }) => {
      const id = parseFileId(params.id);
      if (!keys) throw new LegimError('MASTER_KEY_MISSING', 'this gateway has no master key to unwrap file keys with');
      const key = await keys.dataKey(id);
      return { status: 200, json: { key: key?.toString('base64') ?? null } };
    }),
    route({
      ...common,
      id: 'workerGetReplicas',
      method: 'GET',
      path: `${WORKER_API}/blobs/:key/replicas`,
      summary: 'The nodes holding a blob',
      params: BlobKey,
      responses: { 200: wireAnswer('{nodeIds}') },
    }).handle(async ({ params }) => ({
      status: 200,
      json: { nodeIds: await store.replicaNodes(parseBlobKey(params.key)) },
    })),
    route({
      ...common,
      id: 'workerRecordIntent',
      method: 'POST',
      path: `${WORKER_API}/blobs/:key/intent`,
      summary: 'A worker is about to write a blob to these nodes',
      params: BlobKey,
      body: wireBody('{nodeIds, forMs}'),
      responses: done,
    }).handle(async ({ params, body }) => {
      const intent = parseIntent(body);
      // The gateway's clock decides when the intent falls due, whatever the worker's says.
      await store.recordUploadIntent(parseBlobKey(params.key), intent.nodeIds, Date.now() + intent.forMs);
      return noContent();
    }),
    route({
      ...common,
      id: 'workerRecordVariants',
      method: 'POST',
      path: `${WORKER_API}/files/:id/variants`,
      summary: 'Record the variants a worker made',
      params: FileId,
      body: wireBody('{variants}'),
      responses: { 200: wireAnswer('{recorded}') },
    }).handle(async ({ params, body }) => {
      const { variants } = parseVariants(body);
      return {
        status: 200,
        json: { recorded: await store.recordVariants(parseFileId(params.id), variants, Date.now()) },
      };
    }),
    route({
      ...common,
      id: 'workerMarkFailed',
      method: 'POST',
      path: `${WORKER_API}/files/:id/failed`,
      summary: 'The image cannot be processed',
      params: FileId,
      body: wireBody('{reason}'),
      responses: done,
    }).handle(async ({ params, body }) => {
      await store.markFailed(parseFileId(params.id), parseFailed(body).reason);
      return noContent();
    }),
    route({
      ...common,
      id: 'workerReap',
      method: 'POST',
      path: `${WORKER_API}/files/:id/reap`,
      summary: "Run the gateway's reaper on a file (expire and delete jobs)",
      params: FileId,
      responses: done,
    }).handle(async ({ params }) => {
      await reaper.reap(parseFileId(params.id));
      return noContent();
    }),
    route({
      ...common,
      id: 'workerQueueBlobDeletes',
      method: 'POST',
      path: `${WORKER_API}/blob-deletes`,
      summary: 'Queue the removal of blob copies',
      body: wireBody('{locations}'),
      responses: done,
    }).handle(async ({ body }) => {
      await store.queueBlobDeletes(parseBlobDeletes(body).locations, Date.now());
      return noContent();
    }),
  ];
}

/** The record as stored carries the hash of the delete token: it stays in the gateway. */
function withoutSecrets(file: WorkerFile): WorkerFile {
  const { deleteTokenHash: _kept, ...view } = file as WorkerFile & { deleteTokenHash?: string };
  return view;
}
