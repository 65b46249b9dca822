import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { matchesEntityTag } from '../../download/conditional-request.js';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import type { ReplyHeaders } from '../reply.js';
import { sharePage } from '../share-page.js';
import type { WebPage } from '../web-page.js';
import { fileView } from './file-view.js';
import type { GatewayServices } from './gateway-services.js';

const FileId = Type.Object({ id: Type.String({ description: 'The file id (a UUID)' }) });
const REFUSALS = ['FILE_NOT_FOUND', 'DOWNLOADS_EXHAUSTED', 'EXPIRED', 'DELETED'] as const;

/** The share page of a file, as `/s/:id` serves it and link-preview bots get it on `/d/:id`. */
export type SharePreview = (
  id: string,
) => Promise<{ status: 200; headers: ReplyHeaders & { ETag: string }; bytes: Buffer }>;

export function sharePreview(s: GatewayServices, page: WebPage): SharePreview {
  const assets = { styleVersion: page.version('app.css'), scriptVersion: page.version('share.js') };
  return async (id) => {
    const { file, replicas, variants } = await s.files.info(id);
    const view = fileView(file, s.publicUrl(), replicas, variants);
    const links = { share: view.shareUrl, thumb: `${s.publicUrl()}/v1/files/${file.id}/variants/thumb` };
    const page = sharePage(view, links, assets, Date.now());
    // Weak: the same page, not the same bytes forever (the countdown moves each minute, downloads left with each download).
    const etag = `W/"${createHash('sha256').update(page.bytes).digest('hex').slice(0, 32)}"`;
    return { status: 200, headers: { ...page.headers, ETag: etag }, bytes: page.bytes };
  };
}

/** `/s/:id`: the page to paste where people (and their link-preview bots) read; it never takes a download. */
export function shareRoutes(preview: SharePreview): Route[] {
  return (['GET', 'HEAD'] as const).map((method) =>
    route({
      id: method === 'GET' ? 'getSharePage' : 'headSharePage',
      method,
      path: '/s/:id',
      summary: 'The share page: thumbnail, size, expiry, downloads left, a Download button; takes no download',
      tag: 'downloads',
      auth: 'public',
      params: FileId,
      responses: {
        200: { description: 'The page, with Open Graph and Twitter card tags', contentType: 'text/html' },
        304: { description: 'The page the client has (If-None-Match) is the current one' },
      },
      errors: [...REFUSALS],
    }).handle(async ({ params, request }) => {
      const page = await preview(params.id);
      const current = matchesEntityTag(headerValue(request, 'if-none-match'), page.headers.ETag);
      return current ? { status: 304 as const, headers: page.headers } : page;
    }),
  );
}
