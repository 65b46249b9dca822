import type { IncomingMessage, ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { DownloadService } from '../download/download-service.js';
import type { FileService } from '../files/file-service.js';
import type { VariantService } from '../variants/variant-service.js';
import type { ClusterService } from '../cluster/cluster-service.js';
import type { UploadService } from '../upload/upload-service.js';
import { uploadSource } from '../upload/upload-source.js';
import { bearerGuard } from './auth.js';
import { fileView } from './file-view.js';
import { logToStderr, readJsonBody, sendError, sendJson } from '@legim/node';
import { Router } from './router.js';
import { addWorkerRoutes, type WorkerApi } from './worker-routes.js';
import { addOperationsRoutes } from './operations-routes.js';
import type { OperationsApi } from '../stats/gateway-operations.js';
import { addIndexRebuildRoutes } from './index-rebuild-routes.js';
import type { IndexRebuilder } from '../index-rebuild/index-rebuilder.js';
import { WebPage } from './web-page.js';

export interface GatewayServices {
  publicUrl: () => string;
  adminKey: string;
  clusterSecret: string;
  maxUploadBytes: number;
  uploads: UploadService;
  downloads: DownloadService;
  files: FileService;
  variants: VariantService;
  cluster: ClusterService;
  /** Serves the internal API of workers on other hosts (`legim worker --gateway`). */
  workers: WorkerApi;
  /** Stats, events and metrics for operators. */
  operations: OperationsApi;
  /** Rebuilds the index from the nodes' sidecars. */
  rebuilder: IndexRebuilder;
}

/** The gateway's HTTP surface (docs/api.md) as a request listener; listening happens elsewhere. */
export function createGateway(services: GatewayServices): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const router = routes(services);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const match = router.match(req.method ?? 'GET', url.pathname);
    if (match.kind !== 'found') {
      const error =
        match.kind === 'wrong-method'
          ? new LegimError('METHOD_NOT_ALLOWED', `use ${match.allowed.join(' or ')} on ${url.pathname}`, {
              details: { allow: match.allowed },
            })
          : new LegimError('NOT_FOUND', `no such endpoint: ${req.method} ${url.pathname}`);
      await drainAndAnswer(req, res, error);
      return;
    }
    try {
      await match.handler(req, res, { ...match.params, ...Object.fromEntries(url.searchParams) });
    } catch (error) {
      await drainAndAnswer(req, res, error);
    }
  };
}

function routes(s: GatewayServices): Router {
  const admin = bearerGuard(s.adminKey, 'admin key');
  const clusterMember = bearerGuard(s.clusterSecret, 'cluster secret');
  const page = WebPage.load({ maxUploadBytes: s.maxUploadBytes });
  const router = new Router()
    .on('GET', '/', page.handler('index.html'))
    .on('GET', '/assets/app.js', page.handler('app.js'))
    .on('GET', '/assets/app.css', page.handler('app.css'))
    .on('POST', '/v1/files', async (req, res) => {
      const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
      const source = await uploadSource(req, query, s.maxUploadBytes);
      const result = await s.uploads.upload(source);
      sendJson(res, 201, { ...fileView(result.file, s.publicUrl(), result.replicas), deleteToken: result.deleteToken });
    })
    .on('GET', '/v1/files/:id', async (_req, res, params) => {
      const { file, replicas, variants } = await s.files.info(params['id']!);
      sendJson(res, 200, fileView(file, s.publicUrl(), replicas, variants));
    })
    .on('GET', '/v1/files/:id/variants/:name', async (_req, res, params) => {
      await s.variants.serve(params['id']!, params['name']!, res);
    })
    .on('DELETE', '/v1/files/:id', async (req, res, params) => {
      await s.files.delete(params['id']!, req, params['token']);
      res.writeHead(204).end();
    })
    .on('GET', '/d/:id', (req, res, params) =>
      s.downloads
        .download(params['id']!, res, {
          range: req.headers.range,
          token: singleHeader(req.headers['legim-resume']),
        })
        .catch((error: unknown) => {
          s.operations.traffic.countRefusal(error);
          throw error;
        }),
    )
    .on('HEAD', '/d/:id', (_req, res, params) => s.downloads.head(params['id']!, res))
    .on('GET', '/v1/health', async (req, res) => {
      admin(req);
      sendJson(res, 200, await s.cluster.health());
    })
    .on('GET', '/v1/cluster', async (req, res) => {
      admin(req);
      sendJson(res, 200, await s.cluster.view(s.publicUrl()));
    })
    .on('POST', '/v1/cluster/nodes/:id/drain', async (req, res, params) => {
      admin(req);
      sendJson(res, 202, await s.cluster.drain(params['id']!));
    })
    .on('POST', '/join', async (req, res) => {
      clusterMember(req);
      sendJson(res, 200, await s.cluster.join(await readJsonBody(req, 64 * 1024)));
    })
    .on('POST', '/drain', async (req, res) => {
      clusterMember(req);
      const body = (await readJsonBody(req, 64 * 1024)) as { nodeId?: unknown } | undefined;
      if (typeof body?.nodeId !== 'string') throw new LegimError('BAD_REQUEST', 'drain needs the nodeId to drain');
      sendJson(res, 202, await s.cluster.drain(body.nodeId));
    });
  addIndexRebuildRoutes(router, s.rebuilder, admin);
  return addOperationsRoutes(addWorkerRoutes(router, s.workers, clusterMember), s.operations, admin);
}

/** A rejected request body up to this size is read to its end so the client can read the error. */
const DRAIN_LIMIT = 8 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 5000;

/**
 * Answers an error. A client still sending its body would see a broken pipe
 * instead of the answer if the connection closed under it, so a small rest
 * is read and dropped first; a large one is cut off (Connection: close).
 */
async function drainAndAnswer(req: IncomingMessage, res: ServerResponse, error: unknown): Promise<void> {
  if (!req.complete && !res.headersSent && !(await drained(req))) res.setHeader('Connection', 'close');
  sendError(req, res, error, logToStderr);
}

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
  return Array.isArray(value) ? value[0] : value;
}
