import { Type } from '@sinclair/typebox';
import { UploadedFileSchema } from '@legim/sdk/protocol';
import { optionsWithHeaders } from '../../upload/header-options.js';
import { route, type Route } from '../route.js';
import { acceptUpload, UPLOAD_ERRORS, UPLOADED_TEXT, UploadOptions } from './accept-upload.js';
import type { GatewayServices } from './gateway-services.js';

const HEADER_OPTIONS =
  'Options also come as headers: Max-Downloads and Max-Days (as transfer.sh), Legim-Downloads and Legim-TTL; ' +
  'an option given twice must have the same value';

/**
 * `curl -T photo.jpg https://host/` and `…/photo.jpg`: the upload a shell
 * user types, answered with text by default (the link on the first line).
 */
export function curlUploadRoutes(s: GatewayServices): Route[] {
  const responses = {
    201: { description: 'Stored on the write quorum of nodes', json: UploadedFileSchema, text: UPLOADED_TEXT },
  };
  const body = { contentTypes: { 'image/*': { description: 'The image bytes; the type is decided from the bytes' } } };
  const query = Type.Object(UploadOptions, { additionalProperties: false });
  return [
    route({
      id: 'putFile',
      method: 'PUT',
      path: '/',
      summary: `Upload an image as the raw body (curl -T); text answer unless JSON is asked for. ${HEADER_OPTIONS}`,
      tag: 'files',
      auth: 'upload-key',
      query,
      body,
      responses,
      errors: UPLOAD_ERRORS,
    }).handle(({ request, query }) =>
      acceptUpload(s, request, { fields: optionsWithHeaders(query, request.headers), textByDefault: true }),
    ),
    route({
      id: 'putNamedFile',
      method: 'PUT',
      path: '/:name',
      summary: `Upload an image named by the path, the name becoming its title (curl -T photo.jpg host/). ${HEADER_OPTIONS}`,
      tag: 'files',
      auth: 'upload-key',
      params: Type.Object({ name: Type.String({ description: "The file's name: its title unless title is given" }) }),
      query,
      body,
      responses,
      errors: UPLOAD_ERRORS,
    }).handle(({ request, params, query }) =>
      acceptUpload(s, request, {
        fields: optionsWithHeaders(query, request.headers),
        fileName: params.name,
        textByDefault: true,
      }),
    ),
  ];
}
