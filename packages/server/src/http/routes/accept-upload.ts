import { Type } from '@sinclair/typebox';
import type { ErrorCode, UploadedFile } from '@legim/sdk';
import { rateLimitHeaders } from '../../rate-limit/rate-limit-headers.js';
import { uploadSource } from '../../upload/upload-source.js';
import { headerValue, type EdgeRequest } from '../edge-request.js';
import type { ReplyHeaders } from '../reply.js';
import { fileView } from './file-view.js';
import type { GatewayServices } from './gateway-services.js';
import { prefersText, uploadText } from './upload-text.js';

/** The options every upload route takes in its query. */
export const UploadOptions = {
  downloads: Type.Optional(
    Type.String({ description: 'Downloads allowed, a whole number ≥ 1 (server default without)' }),
  ),
  ttl: Type.Optional(
    Type.String({ description: 'Time to live: seconds, or 90s, 30m, 1h, 7d (server default without)' }),
  ),
  title: Type.Optional(Type.String({ description: "A title; the file's name by default" })),
};

/** What every upload route may answer besides 201. */
export const UPLOAD_ERRORS: ErrorCode[] = [
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
];

export const UPLOADED_TEXT = {
  description:
    'The link on the first line, then id, downloads, expires, delete-token and delete, one `key: value` a line',
};

/** Where an upload route found its options, and what name the client gave the body. */
export interface UploadInput {
  fields: Record<string, string>;
  fileName?: string;
  /** Answer text unless the client's `Accept` prefers JSON. */
  textByDefault: boolean;
}

export type UploadReply =
  { status: 201; headers: ReplyHeaders; json: UploadedFile } | { status: 201; headers: ReplyHeaders; bytes: Buffer };

/** Admits, stores and answers an upload: the same gate, limits and errors on every upload route. */
export async function acceptUpload(s: GatewayServices, request: EdgeRequest, input: UploadInput): Promise<UploadReply> {
  // Before the body is read: a refused upload costs its sender nothing but the headers.
  const { principal, rate } = await s.access.admit({
    action: 'upload',
    authorization: headerValue(request, 'authorization'),
    address: request.address,
  });
  const source = await uploadSource(
    { headers: request.headers, body: request.body, query: input.fields, fileName: input.fileName },
    s.maxUploadBytes,
  );
  const result = await s.uploads.upload(source, principal);
  const uploaded = { ...fileView(result.file, s.publicUrl(), result.replicas), deleteToken: result.deleteToken };
  const headers = rate ? rateLimitHeaders(rate) : {};
  if (!prefersText(headerValue(request, 'accept'), input.textByDefault))
    return { status: 201, headers, json: uploaded };
  const text = Buffer.from(uploadText(uploaded, s.publicUrl()), 'utf8');
  return { status: 201, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, bytes: text };
}
