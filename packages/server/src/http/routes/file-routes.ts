import { Type } from '@sinclair/typebox';
import type { ErrorCode } from '@legim/sdk';
import { FileInfoSchema, FilePageSchema, UploadedFileSchema, VariantNameSchema } from '@legim/sdk/protocol';
import { MAX_LISTING_LIMIT, parseListingQuery } from '../../files/listing-query.js';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import { noContent } from '../reply.js';
import { acceptUpload, UPLOAD_ERRORS, UPLOADED_TEXT, UploadOptions } from './accept-upload.js';
import { fileView, listedFileView } from './file-view.js';
import type { GatewayServices } from './gateway-services.js';

const FileId = Type.Object({ id: Type.String({ description: 'The file id (a UUID) from the upload' }) });
const GONE: ErrorCode[] = ['FILE_NOT_FOUND', 'EXPIRED', 'DELETED', 'DOWNLOADS_EXHAUSTED'];
const EDIT_LIMIT = 4 * 1024;

const LimitsEditSchema = Type.Object(
  {
    ttl: Type.Optional(
      Type.Union([Type.String(), Type.Integer()], {
        description: 'The new time to live from now: 90s, 15m, 2h, 7d, or seconds (not with expiresAt)',
      }),
    ),
    expiresAt: Type.Optional(Type.String({ description: 'The new expiry, an ISO 8601 instant (not with ttl)' })),
    downloads: Type.Optional(
      Type.Integer({ description: 'The new total limit, downloads already taken included (as for an upload)' }),
    ),
  },
  { additionalProperties: false },
);

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
      id: 'listFiles',
      method: 'GET',
      path: '/v1/files',
      summary: 'Live files, a page at a time (the admin key: all; a key with the read scope: its own)',
      tag: 'files',
      auth: 'read-key',
      query: Type.Object(
        {
          cursor: Type.Optional(Type.String({ description: 'next from the previous page' })),
          limit: Type.Optional(Type.String({ description: `Files per page, 1 to ${MAX_LISTING_LIMIT} (default 100)` })),
          status: Type.Optional(Type.String({ description: 'processing, ready or failed' })),
          key: Type.Optional(Type.String({ description: 'Only files uploaded with this API key (its id)' })),
          expiringBefore: Type.Optional(
            Type.String({ description: 'Only files expiring before this ISO 8601 instant' }),
          ),
        },
        { additionalProperties: false },
      ),
      responses: { 200: { description: 'One page, in id order', json: FilePageSchema } },
      errors: ['UNAUTHORIZED', 'KEY_REVOKED', 'MISSING_SCOPE', 'FORBIDDEN', 'INVALID_OPTION'],
    }).handle(async ({ query, request }) => {
      const { principal } = await s.access.admit({
        action: 'read',
        authorization: headerValue(request, 'authorization'),
        address: request.address,
      });
      const { filter, cursor, limit } = parseListingQuery(query);
      const page = await s.files.list(principal, filter, cursor, limit);
      const files = page.files.map((file) => listedFileView(file, s.publicUrl()));
      return { status: 200, json: { files, next: page.next ?? null } };
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
      errors: GONE,
    }).handle(async ({ params }) => {
      const { file, replicas, variants } = await s.files.info(params.id);
      return { status: 200, json: fileView(file, s.publicUrl(), replicas, variants) };
    }),
    route({
      id: 'editFile',
      method: 'PATCH',
      path: '/v1/files/:id',
      summary: "Change a live file's download limit or expiry (its delete token, or the admin key)",
      tag: 'files',
      auth: 'delete-token',
      params: FileId,
      body: { json: LimitsEditSchema, limit: EDIT_LIMIT },
      responses: {
        200: { description: 'The file as changed: every gateway serves it so from now on', json: FileInfoSchema },
      },
      errors: [
        'UNAUTHORIZED',
        'FORBIDDEN',
        'INVALID_OPTION',
        'QUOTA_TTL_EXCEEDED',
        'QUOTA_DOWNLOADS_EXCEEDED',
        ...GONE,
      ],
    }).handle(async ({ params, body, bearer }) => {
      const { file, replicas, variants } = await s.files.edit(params.id, bearer, body);
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
