import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { LegimError } from '@legim/sdk';

export interface UploadSource {
  /** The image bytes, streamed. */
  body: Readable;
  /** Options: query parameters, overridden by multipart fields sent before the file. */
  fields: Record<string, string>;
  /** The client's file name, if it sent one (used as a default title). */
  fileName: string | undefined;
  /** Declared length, when the client sent one (raw bodies only). */
  declaredLength: number | undefined;
}

/** An upload request as it arrived: its headers, its unread body and its query. */
export interface UploadRequest {
  headers: IncomingHttpHeaders;
  body: Readable;
  query: Record<string, string>;
}

/** Accepts a raw body or a multipart form with a `file` part, without buffering either. */
export function uploadSource(request: UploadRequest, maxBytes: number): Promise<UploadSource> {
  const fields = { ...request.query };
  const contentType = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    const length = request.headers['content-length'];
    const declaredLength = length === undefined ? undefined : Number(length);
    return Promise.resolve({ body: request.body, fields, fileName: undefined, declaredLength });
  }
  return multipartSource(request, fields, maxBytes);
}

function multipartSource(
  { headers, body }: UploadRequest,
  fields: Record<string, string>,
  maxBytes: number,
): Promise<UploadSource> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers,
        limits: { files: 1, fields: 20, fieldSize: 4096, fileSize: maxBytes + 1 },
      });
    } catch (error) {
      reject(new LegimError('BAD_REQUEST', `unreadable multipart body: ${(error as Error).message}`));
      return;
    }
    let gotFile = false;
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || gotFile) {
        stream.resume();
        return;
      }
      gotFile = true;
      resolve({ body: stream, fields, fileName: info.filename || undefined, declaredLength: undefined });
    });
    parser.on('error', (error: Error) =>
      reject(new LegimError('BAD_REQUEST', `unreadable multipart body: ${error.message}`)),
    );
    parser.on('close', () => {
      if (!gotFile) reject(new LegimError('EMPTY_BODY', 'the multipart body has no "file" part'));
    });
    body.pipe(parser);
  });
}
