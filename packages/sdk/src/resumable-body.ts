import { PassThrough, type Readable } from 'node:stream';
import { LegimError } from './errors.js';
import { failure, headerValue, send, type HttpContext } from './http.js';

/** Times a broken download is continued before the error is passed on. */
const MAX_RESUMES = 3;

export interface ResumableBodyOptions {
  /** The download's path, `/d/<id>`. */
  path: string;
  body: Readable;
  /** `Content-Length` of the whole file; -1 if unknown (then nothing is resumed). */
  size: number;
  /** `Legim-Resume` from the answer that took the download. */
  token: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * The body of a download that continues by itself when the connection
 * breaks mid-transfer: it asks again from the next byte with the resume
 * token (the server takes no further download), up to {@link MAX_RESUMES}
 * times. Any other failure, or one with nothing to resume from, fails the
 * stream with the SDK's error.
 */
export function resumableBody(ctx: HttpContext, options: ResumableBodyOptions): Readable {
  const out = new PassThrough();
  let current: Readable | undefined;
  let received = 0;
  let resumes = 0;

  const follow = (body: Readable): void => {
    current = body;
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!out.write(chunk)) body.pause();
    });
    body.once('end', () => out.end());
    body.once('error', (error) => void recover(error));
  };

  const recover = async (error: unknown): Promise<void> => {
    const broken = failure(ctx, error, options.signal, 'response');
    const resumable =
      LegimError.is(broken) &&
      broken.code === 'NETWORK_ERROR' &&
      options.token !== undefined &&
      options.size >= 0 &&
      received < options.size &&
      resumes < MAX_RESUMES;
    if (!resumable || out.destroyed) return void out.destroy(broken as Error);
    resumes++;
    try {
      follow(await resumeFrom(ctx, options, received));
    } catch (resumeError) {
      // The server's answer (gone, expired) says more than a second network failure, which repeats the first.
      const answered = LegimError.is(resumeError) && resumeError.code !== 'NETWORK_ERROR';
      out.destroy(answered ? resumeError : broken);
    }
  };

  out.on('drain', () => current?.resume());
  out.once('close', () => {
    if (current && !current.readableEnded) current.destroy();
  });
  follow(options.body);
  return out;
}

async function resumeFrom(ctx: HttpContext, options: ResumableBodyOptions, start: number): Promise<Readable> {
  const response = await send(ctx, {
    method: 'GET',
    path: options.path,
    headers: { accept: '*/*', range: `bytes=${start}-`, 'legim-resume': options.token! },
    signal: options.signal,
  });
  const range = headerValue(response.headers['content-range']);
  if (response.statusCode !== 206 || !range?.startsWith(`bytes ${start}-`)) {
    response.body.destroy();
    throw new LegimError('NETWORK_ERROR', `the server did not continue the download at byte ${start}`);
  }
  return response.body;
}
