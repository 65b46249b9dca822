import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { LegimError } from '@legim/sdk';

/** The option fields an upload may carry, in the query, in headers or as multipart fields. */
export const UPLOAD_FIELDS: readonly string[] = ['downloads', 'ttl', 'title'];

export interface UploadSource {
  /** The image bytes, streamed. */
  body: Readable;
  /** Options known before the body is read: the query, and multipart fields sent before the file. */
  fields: Record<string, string>;
  /**
   * Every option, once the whole body is read: a multipart form may send
   * fields after its file. Rejects when a field cannot be honoured.
   */
  finalFields: Promise<Record<string, string>>;
  /** The client's file name, if it sent one (used as a default title). */
  fileName: string | undefined;
  /** Declared length, when the client sent one (raw bodies only). */
  declaredLength: number | undefined;
}

/** An upload request as it arrived: its headers, its unread body and its options from outside the body. */
export interface UploadRequest {
  headers: IncomingHttpHeaders;
  body: Readable;
  query: Record<string, string>;
  /** The name the client gave the raw body (`PUT /photo.jpg`); a multipart form names its file itself. */
  fileName?: string;
}

/** Accepts a raw body or a multipart form with a `file` part, without buffering either. */
export function uploadSource(request: UploadRequest, maxBytes: number): Promise<UploadSource> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    const length = request.headers['content-length'];
    const declaredLength = length === undefined ? undefined : Number(length);
    const fields = { ...request.query };
    return Promise.resolve({
      body: request.body,
      fields,
      finalFields: Promise.resolve(fields),
      fileName: request.fileName,
      declaredLength,
    });
  }
  return multipartSource(request, maxBytes);
}

/**
 * Resolves at the `file` part, with the fields sent before it; the fields
 * after it arrive in `finalFields` once busboy has read the whole form.
 */
function multipartSource({ headers, body, query }: UploadRequest, maxBytes: number): Promise<UploadSource> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers,
        limits: { files: 1, fields: 20, fieldSize: 4096, fileSize: maxBytes + 1 },
      });
    } catch (error) {
      reject(unreadable(error as Error));
      return;
    }
    const fields = { ...query };
    const formFields = new Set<string>();
    let settleFinal: { resolve(fields: Record<string, string>): void; reject(error: LegimError): void };
    const finalFields = new Promise<Record<string, string>>((resolveFinal, rejectFinal) => {
      settleFinal = { resolve: resolveFinal, reject: rejectFinal };
    });
    // Awaited by the upload service; a form refused before its file never gets that far.
    finalFields.catch(() => {});
    let gotFile = false;
    const fail = (error: LegimError) => {
      settleFinal.reject(error);
      reject(error);
      body.unpipe(parser);
    };
    parser.on('field', (name, value) => {
      const refusal = fieldRefusal(name, value, fields, formFields);
      if (refusal) return fail(refusal);
      formFields.add(name);
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        return fail(badForm(`the form has a file part "${name}"; name it "file"`));
      }
      gotFile = true;
      resolve({ body: stream, fields, finalFields, fileName: info.filename || undefined, declaredLength: undefined });
    });
    // busboy skips the parts past `limits.files` and says so here.
    parser.on('filesLimit', () => fail(badForm('the form has a second file part; send one image per upload')));
    parser.on('fieldsLimit', () => fail(badForm('the form has too many fields')));
    parser.on('error', (error: Error) => fail(unreadable(error)));
    parser.on('close', () => {
      if (!gotFile) fail(new LegimError('EMPTY_BODY', 'the multipart body has no "file" part'));
      else settleFinal.resolve(fields);
    });
    body.pipe(parser);
  });
}

/** Why a form field cannot be honoured, if it cannot: unknown, given twice, or against the query. */
function fieldRefusal(
  name: string,
  value: string,
  fields: Record<string, string>,
  formFields: Set<string>,
): LegimError | undefined {
  if (!UPLOAD_FIELDS.includes(name)) {
    return badForm(`unknown field "${name}"; the fields are file, ${UPLOAD_FIELDS.join(', ')}`);
  }
  if (formFields.has(name)) return badForm(`field "${name}" is given twice`);
  if (Object.hasOwn(fields, name) && fields[name] !== value) {
    return badForm(`"${name}" is given in the query and as a field with different values; give it once`);
  }
  return undefined;
}

function badForm(message: string): LegimError {
  return new LegimError('INVALID_OPTION', message);
}

function unreadable(error: Error): LegimError {
  return new LegimError('BAD_REQUEST', `unreadable multipart body: ${error.message}`);
}
