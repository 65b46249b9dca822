import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Pipes a file stream into a response; resolves when the response is done
 * (sent or cut off by the client, which is normal), rejects if the file
 * fails, which is a disk problem worth logging. `stream/promises` pipeline
 * would do the same, but it builds an AbortController per call and aborts it
 * at the end, and that DOMException (with its stack trace) costs more than the
 * rest of a small response.
 */
export function streamToResponse(stream: Readable, res: ServerResponse): Promise<void> {
  if (res.destroyed) {
    // The client left while the blob was being opened: 'close' has fired already and will not again.
    stream.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error && !res.destroyed) reject(error);
      else resolve();
    };
    stream.on('error', (error) => {
      stream.unpipe(res);
      settle(error);
    });
    res.once('close', () => {
      // Also closes the file when the client hung up early.
      stream.destroy();
      settle();
    });
    stream.pipe(res);
  });
}
