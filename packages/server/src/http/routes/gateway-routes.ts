import { Type } from '@sinclair/typebox';
import { openApiDocument } from '../openapi.js';
import type { Route } from '../route.js';
import { route } from '../route.js';
import { clusterRoutes } from './cluster-routes.js';
import { curlUploadRoutes } from './curl-upload-routes.js';
import { downloadRoutes } from './download-routes.js';
import { fileRoutes } from './file-routes.js';
import { keyRoutes } from './key-routes.js';
import { probeRoutes } from './probe-routes.js';
import { sharexRoutes } from './sharex-routes.js';
import type { GatewayServices } from './gateway-services.js';
import { operationsRoutes } from './operations-routes.js';
import { pageRoutes } from './page-routes.js';
import { sharePreview, shareRoutes } from './share-routes.js';
import { WebPage } from '../web-page.js';
import { workerRoutes } from './worker-routes.js';

/** Every route of the gateway, declared once; the router, the checks and `GET /v1/openapi.json` come from it. */
export function gatewayRoutes(s: GatewayServices, version: string): Route[] {
  const page = WebPage.load({ maxUploadBytes: s.maxUploadBytes });
  const preview = sharePreview(s, page);
  const routes = [
    ...pageRoutes(page),
    ...fileRoutes(s),
    ...curlUploadRoutes(s),
    ...downloadRoutes(s, preview),
    ...shareRoutes(preview),
    ...sharexRoutes(s),
    ...keyRoutes(s),
    ...probeRoutes(s),
    ...clusterRoutes(s),
    ...operationsRoutes(s),
    ...workerRoutes(s),
  ];
  const withDocument = [...routes, documentRoute(() => document)];
  const document = openApiDocument(withDocument, version);
  return withDocument;
}

function documentRoute(document: () => unknown): Route {
  return route({
    id: 'getOpenApi',
    method: 'GET',
    path: '/v1/openapi.json',
    summary: 'This document',
    tag: 'operations',
    auth: 'public',
    responses: {
      200: {
        description: 'OpenAPI 3.1',
        json: Type.Object({ openapi: Type.Literal('3.1.0') }, { additionalProperties: true }),
      },
    },
  }).handle(async () => ({
    status: 200,
    headers: { 'Cache-Control': 'no-cache' },
    json: document() as { openapi: '3.1.0' },
  }));
}
