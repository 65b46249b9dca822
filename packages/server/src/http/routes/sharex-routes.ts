import type { ShareXUploader } from '@legim/sdk';
import { ShareXUploaderSchema } from '@legim/sdk/protocol';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

/** The ShareX version whose custom-uploader syntax (`{json:…}`) the file uses. */
const SHAREX_VERSION = '15.0.0';

/** Uploader integrations: a ShareX custom uploader for this gateway. */
export function sharexRoutes(s: GatewayServices): Route[] {
  return [
    route({
      id: 'getShareX',
      method: 'GET',
      path: '/v1/sharex',
      summary: 'A ShareX custom uploader (.sxcu) for this gateway, with the API key sent (never the admin key)',
      tag: 'files',
      auth: 'upload-key',
      responses: { 200: { description: 'Save it as legim.sxcu and open it with ShareX', json: ShareXUploaderSchema } },
      errors: ['UNAUTHORIZED', 'KEY_REVOKED', 'MISSING_SCOPE', 'FORBIDDEN', 'RATE_LIMITED'],
    }).handle(async ({ request, bearer }) => {
      const principal = await s.access.admitUploader(headerValue(request, 'authorization'), request.address);
      const uploader = shareXUploader(s.publicUrl(), principal.kind === 'key' ? bearer : undefined);
      return {
        status: 200,
        headers: { 'Content-Disposition': 'attachment; filename="legim.sxcu"', 'Cache-Control': 'no-store' },
        json: uploader,
      };
    }),
  ];
}

/**
 * The uploader: a multipart POST of the image to `/v1/files`, the link from
 * the JSON answer, the thumbnail from its preview route (never `/d/`, which
 * would take a download), and the URL that deletes the file with its token
 * (a `DELETE` request; see docs/api.md).
 */
function shareXUploader(publicUrl: string, key: string | undefined): ShareXUploader {
  return {
    Version: SHAREX_VERSION,
    Name: `Legim (${new URL(publicUrl).host})`,
    DestinationType: 'ImageUploader, FileUploader',
    RequestMethod: 'POST',
    RequestURL: `${publicUrl}/v1/files`,
    ...(key !== undefined && { Headers: { Authorization: `Bearer ${key}` } }),
    Body: 'MultipartFormData',
    FileFormName: 'file',
    URL: '{json:url}',
    ThumbnailURL: `${publicUrl}/v1/files/{json:id}/variants/thumb`,
    DeletionURL: `${publicUrl}/v1/files/{json:id}?token={json:deleteToken}`,
    ErrorMessage: '{json:error.message}',
  };
}
