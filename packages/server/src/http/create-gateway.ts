import type { IncomingMessage, ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { DownloadService } from '../download/download-service.js';
import type { FileService } from '../files/file-service.js';
import type { ClusterService } from '../cluster/cluster-service.js';
import type { UploadService } from '../upload/upload-service.js';
import { uploadSource } from '../upload/upload-source.js';
import { bearerGuard } from './auth.js';
import { fileView } from './file-view.js';
import { logToStderr, readJsonBody, sendError, sendJson } from '@legim/node';
import { Router } from './router.js';

export interface GatewayServices {
  publicUrl: () => string;
  adminKey: string;
  clusterSecret: string;
  maxUploadBytes: number;
  uploads: UploadService;
  downloads: DownloadService;
  files: FileService;
  cluster: ClusterService;
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
      drainAndAnswer(req, res, error);
      return;
    }
    try {
      await match.handler(req, res, { ...match.params, ...Object.fromEntries(url.searchParams) });
    } catch (error) {
      drainAndAnswer(req, res, error);
    }
  };
}

function routes(s: GatewayServices): Router {
  const admin = bearerGuard(s.adminKey, 'admin key');
  const clusterMember = bearerGuard(s.clusterSecret, 'cluster secret');
  return new Router()
    .on('POST', '/v1/files', async (req, res) => {
      const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
      const source = await uploadSource(req, query, s.maxUploadBytes);
      const result = await s.uploads.upload(source);
      sendJson(res, 201, { ...fileView(result.file, s.publicUrl(), result.replicas), deleteToken: result.deleteToken });
    })
    .on('GET', '/v1/files/:id', async (_req, res, params) => {
      const { file, replicas } = await s.files.info(params['id']!);
      sendJson(res, 200, fileView(file, s.publicUrl(), replicas));
    })
    .on('DELETE', '/v1/files/:id', async (req, res, params) => {
      await s.files.delete(params['id']!, req, params['token']);
      res.writeHead(204).end();
    })
    .on('GET', '/d/:id', (_req, res, params) => s.downloads.download(params['id']!, res))
    .on('HEAD', '/d/:id', (_req, res, params) => s.downloads.head(params['id']!, res))
    .on('GET', '/v1/health', async (req, res) => {
      admin(req);
      sendJson(res, 200, await s.cluster.health());
    })
    .on('GET', '/v1/cluster', async (req, res) => {
      admin(req);
      sendJson(res, 200, await s.cluster.view(s.publicUrl()));
    })
    .on('POST', '/join', async (req, res) => {
      clusterMember(req);
      sendJson(res, 200, await s.cluster.join(await readJsonBody(req, 64 * 1024)));
    });
}

/**
 * Answers an error; when the request body was not read to its end the
 * connection is closed instead of reading (possibly gigabytes) on.
 */
function drainAndAnswer(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
  sendError(req, res, error, logToStderr);
}
