import { Type } from '@sinclair/typebox';
import { rateLimitHeaders } from '../../rate-limit/rate-limit-headers.js';
import { isLinkPreviewAgent } from '../../download/link-preview-agents.js';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';
import type { SharePreview } from './share-routes.js';

const FileId = Type.Object({ id: Type.String({ description: 'The file id (a UUID)' }) });
const REFUSALS = ['FILE_NOT_FOUND', 'DOWNLOADS_EXHAUSTED', 'EXPIRED', 'DELETED'] as const;

/** The answer depends on the User-Agent (a link-preview bot gets the share page): caches must know. */
const VARY = { Vary: 'User-Agent' };

/**
 * `/d/:id`: the download link; GET takes one download, except for a
 * link-preview bot (which gets the share page) and the rest of a cut
 * download; HEAD never does.
 */
export function downloadRoutes(s: GatewayServices, preview: SharePreview): Route[] {
  return [
    route({
      id: 'download',
      method: 'GET',
      path: '/d/:id',
      summary:
        'Download the original: takes one download (the rest of a cut download takes none; a link-preview bot gets the share page)',
      tag: 'downloads',
      auth: 'public',
      params: FileId,
      responses: {
        200: {
          description:
            'The original, with Legim-Downloads-Left and Legim-Resume; to a link-preview bot, the share page (text/html)',
          contentType: 'image/*',
        },
        206: {
          description: 'The range asked for: the rest of a cut download (no download taken), or a counted download',
          contentType: 'image/*',
        },
      },
      errors: [
        ...REFUSALS,
        'FORBIDDEN',
        'RANGE_NOT_SATISFIABLE',
        'COUNTER_UNAVAILABLE',
        'CHECKPOINT_FAILED',
        'UNAVAILABLE',
      ],
    }).handle(async ({ params, request }) => {
      if (isLinkPreviewAgent(headerValue(request, 'user-agent'))) {
        const page = await preview(params.id);
        return { ...page, headers: { ...page.headers, ...VARY } };
      }
      try {
        const { rate } = await s.access.admit({
          action: 'download',
          authorization: headerValue(request, 'authorization'),
          address: request.address,
        });
        const answer = await s.downloads.download(params.id, {
          range: headerValue(request, 'range'),
          ifRange: headerValue(request, 'if-range'),
          token: headerValue(request, 'legim-resume'),
          client: request.address,
        });
        return { ...answer, headers: { ...answer.headers, ...VARY, ...(rate && rateLimitHeaders(rate)) } };
      } catch (error) {
        s.operations.traffic.countRefusal(error);
        throw error;
      }
    }),
    route({
      id: 'headDownload',
      method: 'HEAD',
      path: '/d/:id',
      summary: 'The download headers (size, type, downloads left); takes no download',
      tag: 'downloads',
      auth: 'public',
      params: FileId,
      responses: { 200: { description: 'Headers only' } },
      errors: [...REFUSALS],
    }).handle(async ({ params }) => {
      const answer = await s.downloads.head(params.id);
      return { ...answer, headers: { ...answer.headers, ...VARY } };
    }),
  ];
}
