import { Type } from '@sinclair/typebox';
import { rateLimitHeaders } from '../../rate-limit/rate-limit-headers.js';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

const FileId = Type.Object({ id: Type.String({ description: 'The file id (a UUID)' }) });
const REFUSALS = ['FILE_NOT_FOUND', 'DOWNLOADS_EXHAUSTED', 'EXPIRED', 'DELETED'] as const;

/** `/d/:id`: the download link; GET takes one download, HEAD never does. */
export function downloadRoutes(s: GatewayServices): Route[] {
  return [
    route({
      id: 'download',
      method: 'GET',
      path: '/d/:id',
      summary: 'Download the original: takes one download (a resume with Legim-Resume and Range takes none)',
      tag: 'downloads',
      auth: 'public',
      params: FileId,
      responses: {
        200: { description: 'The original; Legim-Downloads-Left and Legim-Resume headers', contentType: 'image/*' },
        206: { description: 'The rest of a resumed download', contentType: 'image/*' },
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
      try {
        const { rate } = await s.access.admit({
          action: 'download',
          authorization: headerValue(request, 'authorization'),
          address: request.address,
        });
        const answer = await s.downloads.download(params.id, {
          range: headerValue(request, 'range'),
          token: headerValue(request, 'legim-resume'),
        });
        return rate ? { ...answer, headers: { ...answer.headers, ...rateLimitHeaders(rate) } } : answer;
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
    }).handle(({ params }) => s.downloads.head(params.id)),
  ];
}
