import type { IncomingMessage } from 'node:http';
import { finished, PassThrough, type Readable } from 'node:stream';
import { LegimError } from '@legim/sdk';

/**
 * The request body as a stream that a consumer may destroy without killing
 * the connection. Destroying an unfinished `IncomingMessage` destroys its
 * socket, so a store that gives up mid-body (capacity reached) could not
 * answer 507; with this it can. A client that aborts still errors the stream.
 */
export function detachRequestBody(req: IncomingMessage, highWaterMark = 64 * 1024): Readable {
  const body = new PassThrough({ highWaterMark });
  req.pipe(body);
  finished(req, { writable: false }, (error) => {
    if (error) body.destroy(error);
  });
  return body;
}

/** After a failed upload, reads and drops whatever the client still sends, so it can read our answer. */
export function discardRestOfBody(req: IncomingMessage): void {
  req.unpipe();
  if (!req.complete && !req.destroyed) req.resume();
}

/**
 * Reads a small JSON body (`PAYLOAD_TOO_LARGE` past `limitBytes`, at once when
 * the declared length says so; `BAD_REQUEST` if not JSON). Listens for data
 * rather than iterating, because leaving a `for await` early would destroy
 * the request and with it the socket.
 */
export function readJsonBody(req: Readable, limitBytes: number, declaredLength?: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (declaredLength !== undefined && declaredLength > limitBytes) {
      reject(tooLarge(limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      req.resume();
      reject(tooLarge(limitBytes));
    };
    const onEnd = (): void => {
      cleanup();
      try {
        resolve(JSON.parse(Buffer.concat(chunks, length).toString('utf8')));
      } catch {
        reject(new LegimError('BAD_REQUEST', 'the request body must be JSON'));
      }
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function tooLarge(limitBytes: number): LegimError {
  return new LegimError('PAYLOAD_TOO_LARGE', `the request body must be at most ${limitBytes} bytes`);
}

/** `Content-Length` as a number, when the client sent one. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}
