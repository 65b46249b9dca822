import type { Readable, Writable } from 'node:stream';

/**
 * `source.pipe(sink)` as a promise: resolves once `sink` has finished;
 * rejects, destroying `sink`, when either fails or `source` closes before
 * its end (a dropped connection). `stream/promises` pipeline does the same,
 * but it aborts an AbortController at the end of every call, and building
 * that DOMException's stack trace is a visible share of a write's CPU.
 */
export function pipeInto(source: Readable, sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let ended = false;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      source.unpipe(sink);
      sink.destroy();
      reject(error);
    };
    const premature = () => Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    // A source that closed while the caller was still getting ready (opening the file) has emitted its
    // 'close' already: waiting for it would wait forever, and leave the temporary file behind.
    if (source.destroyed) {
      fail(premature());
      return;
    }
    source.on('end', () => {
      ended = true;
    });
    source.on('error', fail);
    source.on('close', () => {
      if (!ended) fail(premature());
    });
    sink.on('error', fail);
    sink.on('finish', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    source.pipe(sink);
  });
}
