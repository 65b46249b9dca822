import { Type } from '@sinclair/typebox';
import { FileInfoSchema, UploadedFileSchema, VariantNameSchema } from '@legim/sdk/protocol';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import { noContent } from '../reply.js';
import { acceptUpload, UPLOAD_ERRORS, UPLOADED_TEXT, UploadOptions } from './accept-upload.js';
import { fileView } from './file-view.js';
import type { GatewayServices } from './gateway-services.js';

const FileId = Type.Object({ id: Type.String({ description: 'The file id (a UUID) from the upload' }) });

/** Upload, read, delete; previews. */
export function fileRoutes(s: GatewayServices): Route[] {
  return [
    route({
      id: 'uploadFile',
      method: 'POST',
      path: '/v1/files',
      summary: 'Upload an image (raw body, or multipart with a "file" part and option fields)',
      tag: 'files',
      auth: 'upload-key',
      query: Type.Object(UploadOptions, { additionalProperties: false }),
      body: {
        contentTypes: {
          'image/*': { description: 'The image bytes; the type is decided from the bytes' },
          'multipart/form-data': {
            description: 'A "file" part with the image; downloads, ttl and title as fields, before or after it',
            schema: Type.Object({ file: Type.String({ format: 'binary' }), ...UploadOptions }),
          },
        },
      },
      responses: {
        201: { description: 'Stored on the write quorum of nodes', json: UploadedFileSchema, text: UPLOADED_TEXT },
      },
      errors: UPLOAD_ERRORS,
    }).handle(({ request, query }) => acceptUpload(s, request, { fields: query, textByDefault: false })),
    route({
      id: 'getFile',
      method: 'GET',
      path: '/v1/files/:id',
      summary: 'The file object; never takes a download',
      tag: 'files',
      auth: 'public',
      params: FileId,
      responses: { 200: { description: 'The file', json: FileInfoSchema } },
      errors: ['FILE_NOT_FOUND', 'EXPIRED', 'DELETED', 'DOWNLOADS_EXHAUSTED'],
    }).handle(async ({ params }) => {
      const { file, replicas, variants } = await s.files.info(params.id);
      return { status: 200, json: fileView(file, s.publicUrl(), replicas, variants) };
    }),
    route({
      id: 'deleteFile',
      method: 'DELETE',
      path: '/v1/files/:id',
      summary: 'Delete a file at once (its delete token, or the admin key)',
      tag: 'files',
      auth: 'delete-token',
      params: FileId,
      query: Type.Object(
        {
          token: Type.Optional(Type.String({ description: 'The delete token, when no Authorization header is sent' })),
        },
        { additionalProperties: false },
      ),
      responses: { 204: { description: 'Deleted: every gateway refuses it from now on' } },
      errors: ['UNAUTHORIZED', 'FORBIDDEN', 'FILE_NOT_FOUND', 'EXPIRED', 'DELETED'],
    }).handle(async ({ params, query, bearer }) => {
      await s.files.delete(params.id, bearer ?? query.token);
      return noContent();
    }),
    ...(['GET', 'HEAD'] as const).map((method) =>
      route({
        id: method === 'GET' ? 'getVariant' : 'headVariant',
        method,
        path: '/v1/files/:id/variants/:name',
        summary: 'A preview (thumb, small, webp, avif, or full: the best encoding by Accept); never takes a download',
        tag: 'files',
        auth: 'public',
        params: Type.Object({
          id: FileId.properties.id,
          name: Type.String({
            description: `${VariantNameSchema.description}; or full: AVIF when Accept names image/avif and it was made, else WebP`,
          }),
        }),
        responses: {
          200: { description: 'The preview', contentType: 'image/*' },
          206: { description: 'The asked range of the preview (Range, If-Range)', contentType: 'image/*' },
          304: { description: 'The copy the client has (If-None-Match, If-Modified-Since) is current' },
        },
        errors: [
          'FILE_NOT_FOUND',
          'VARIANT_NOT_READY',
          'VARIANT_NOT_FOUND',
          'RANGE_NOT_SATISFIABLE',
          'EXPIRED',
          'DELETED',
          'UNAVAILABLE',
        ],
      }).handle(({ params, request }) =>
        s.variants.serve({
          id: params.id,
          name: params.name,
          head: method === 'HEAD',
          preconditions: {
            ifNoneMatch: headerValue(request, 'if-none-match'),
            ifModifiedSince: headerValue(request, 'if-modified-since'),
          },
          range: headerValue(request, 'range'),
          ifRange: headerValue(request, 'if-range'),
          accept: headerValue(request, 'accept'),
        }),
      ),
    ),
  ];
}
