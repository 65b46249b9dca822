import { Type } from '@sinclair/typebox';
import { FileInfoSchema, UploadedFileSchema, VariantNameSchema } from '@legim/sdk/protocol';
import { rateLimitHeaders } from '../../rate-limit/rate-limit-headers.js';
import { uploadSource } from '../../upload/upload-source.js';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import { noContent } from '../reply.js';
import { fileView } from './file-view.js';
import type { GatewayServices } from './gateway-services.js';

const FileId = Type.Object({ id: Type.String({ description: 'The file id (a UUID) from the upload' }) });

const UploadOptions = {
  downloads: Type.Optional(
    Type.String({ description: 'Downloads allowed, a whole number ≥ 1 (server default without)' }),
  ),
  ttl: Type.Optional(
    Type.String({ description: 'Time to live: seconds, or 90s, 30m, 1h, 7d (server default without)' }),
  ),
  title: Type.Optional(Type.String({ description: "A title; the file's name by default" })),
};

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
            description: 'A "file" part with the image; downloads, ttl and title as fields',
            schema: Type.Object({ file: Type.String({ format: 'binary' }), ...UploadOptions }),
          },
        },
      },
      responses: { 201: { description: 'Stored on the write quorum of nodes', json: UploadedFileSchema } },
      errors: [
        'UNAUTHORIZED',
        'KEY_REVOKED',
        'MISSING_SCOPE',
        'RATE_LIMITED',
        'QUOTA_FILE_TOO_LARGE',
        'QUOTA_BYTES_EXCEEDED',
        'QUOTA_FILES_EXCEEDED',
        'QUOTA_TTL_EXCEEDED',
        'QUOTA_DOWNLOADS_EXCEEDED',
        'INVALID_OPTION',
        'EMPTY_BODY',
        'INVALID_IMAGE',
        'UNSUPPORTED_MEDIA_TYPE',
        'IMAGE_TOO_LARGE',
        'PAYLOAD_TOO_LARGE',
        'INSUFFICIENT_STORAGE',
        'NO_STORAGE_NODES',
        'REPLICATION_FAILED',
      ],
    }).handle(async ({ request, query }) => {
      // Before the body is read: a refused upload costs its sender nothing but the headers.
      const { principal, rate } = await s.access.admit({
        action: 'upload',
        authorization: headerValue(request, 'authorization'),
        address: request.address,
      });
      const source = await uploadSource({ headers: request.headers, body: request.body, query }, s.maxUploadBytes);
      const result = await s.uploads.upload(source, principal);
      const view = fileView(result.file, s.publicUrl(), result.replicas);
      return {
        status: 201,
        headers: rate ? rateLimitHeaders(rate) : {},
        json: { ...view, deleteToken: result.deleteToken },
      };
    }),
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
        summary: 'A preview (thumbnail, small, webp); never takes a download',
        tag: 'files',
        auth: 'public',
        params: Type.Object({
          id: FileId.properties.id,
          name: Type.String({ description: VariantNameSchema.description }),
        }),
        responses: {
          200: { description: 'The preview', contentType: 'image/*' },
          304: { description: 'The copy the client has (If-None-Match) is current' },
        },
        errors: ['FILE_NOT_FOUND', 'VARIANT_NOT_READY', 'VARIANT_NOT_FOUND', 'EXPIRED', 'DELETED', 'UNAVAILABLE'],
      }).handle(({ params, request }) =>
        s.variants.serve(params.id, params.name, headerValue(request, 'if-none-match')),
      ),
    ),
  ];
}
