import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { LegimError } from './errors.js';

/** What `Legim.upload` accepts: a file path, bytes in memory, or a stream. */
export type UploadInput = string | Buffer | Uint8Array | Readable;

/** Upload progress: bytes handed to the connection so far, of `total` when known. */
export interface UploadProgress {
  sent: number;
  total?: number;
}

/** Download progress: bytes received so far, of `total` when known. */
export interface DownloadProgress {
  received: number;
  total?: number;
}

/** An upload input turned into a request body. */
export interface UploadBody {
  body: Buffer | Uint8Array | Readable;
  /** Sent as `Content-Length`; a stream of unknown length goes chunked. */
  length: number | undefined;
  /** The file name without extension, for a path input. */
  name: string | undefined;
  /** The stream the bytes are read from; its errors are local read errors. */
  source: Readable | undefined;
}

/** Buffers are sliced into chunks of this size when progress is wanted. */
const SLICE = 64 * 1024;

/**
 * Opens an upload input as a body. A path is streamed from disk with its
 * size known; bytes in memory are sent as they are, or sliced into a stream
 * when progress is wanted; a stream goes chunked.
 */
export async function openUploadBody(
  input: UploadInput,
  onProgress: ((progress: UploadProgress) => void) | undefined,
): Promise<UploadBody> {
  if (typeof input === 'string') {
    const size = await fileSize(input);
    const source = createReadStream(input);
    const body = onProgress ? meter(source, size, onProgress) : source;
    return { body, length: size, name: basename(input, extname(input)), source };
  }
  if (input instanceof Uint8Array) {
    if (!onProgress) return { body: input, length: input.byteLength, name: undefined, source: undefined };
    const source = Readable.from(slices(input), { objectMode: false });
    return { body: meter(source, input.byteLength, onProgress), length: input.byteLength, name: undefined, source };
  }
  if (isReadable(input)) {
    const body = onProgress ? meter(input, undefined, onProgress) : input;
    return { body, length: undefined, name: undefined, source: input };
  }
  throw new LegimError('INVALID_OPTION', 'upload takes a file path, a Buffer or Uint8Array, or a Readable stream');
}

/**
 * Re-emits `source` with its errors passed through `map`, so a consumer sees
 * the SDK's errors. Destroying the result releases the source (and with it
 * the connection).
 */
export function mapErrors(source: Readable, map: (error: unknown) => unknown): Readable {
  const out = new PassThrough();
  source.once('error', (error) => out.destroy(map(error) as Error));
  out.once('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(out);
  return out;
}

/** Counts the bytes flowing from `source` and reports them after each chunk. */
function meter(source: Readable, total: number | undefined, onProgress: (progress: UploadProgress) => void): Readable {
  let sent = 0;
  let reported = false;
  const report = (): void => {
    reported = true;
    onProgress(total === undefined ? { sent } : { sent, total });
  };
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      callback(null, chunk);
      report();
    },
    flush(callback) {
      if (!reported) report(); // an empty input still reports { sent: 0 }
      callback();
    },
  });
  // pipe() rather than pipeline(): the error must reach `counter` (and so the
  // request) unchanged, and the caller tells read errors apart by `source`.
  source.once('error', (error) => counter.destroy(error));
  counter.once('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  return source.pipe(counter);
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += SLICE) {
    yield bytes.subarray(offset, offset + SLICE);
  }
}

async function fileSize(path: string): Promise<number> {
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    throw readError(path, error);
  }
  if (!stats.isFile()) throw new LegimError('IO_ERROR', `cannot upload ${path}: it is not a regular file`);
  return stats.size;
}

/** A local file or stream could not be read. */
export function readError(what: string, error: unknown): LegimError {
  const code = (error as { code?: unknown }).code;
  const reason =
    code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  return new LegimError('IO_ERROR', `cannot read ${what}: ${reason}`, { cause: error });
}

function isReadable(value: unknown): value is Readable {
  return (
    value instanceof Readable ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Readable).pipe === 'function' &&
      typeof (value as Readable).on === 'function' &&
      typeof (value as Readable).read === 'function')
  );
}

/**
 * Fails an upload body that makes no progress for `ms`: undici's own timers
 * start only once the whole body is sent, so a source (or a server) that
 * stalls mid-body would otherwise hang the upload forever.
 */
export function guardStall(body: Readable, ms: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      guarded.destroy(
        new LegimError('NETWORK_ERROR', `the upload made no progress for ${ms} ms; check the network and the source`),
      );
    }, ms);
    timer.unref();
  };
  const guarded = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      arm();
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      callback();
    },
  });
  guarded.once('close', () => clearTimeout(timer));
  body.once('error', (error) => guarded.destroy(error));
  arm();
  return body.pipe(guarded);
}
