import { once } from 'node:events';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import type { Sharp, SharpOptions } from 'sharp';
import { invalidImage } from './errors.js';

/** An image to process: a stream of its bytes, the bytes, or a file path. */
export type ImageInput = Readable | Buffer | string;

/** The input opened as a sharp pipeline, plus what is needed to watch and stop a streamed input. */
export interface ImageSource {
  readonly image: Sharp;
  /**
   * Rejects with the input stream's own error if the stream fails before
   * sharp has received all of it; never settles otherwise. Race it with the
   * first sharp call, which would otherwise wait for the stream forever.
   */
  readonly failed: Promise<never>;
  /** Stops reading a streamed input and releases it (after a failure). A no-op for a path or bytes. */
  close(): void;
}

const NEVER = new Promise<never>(() => {});

/**
 * A stream is written into sharp as it arrives (with back-pressure); sharp
 * collects the compressed bytes itself and decodes once it has them all, so
 * we never hold a copy. A path is read by libvips directly.
 */
export function openSource(input: ImageInput, options: SharpOptions): ImageSource {
  if (typeof input === 'string') return { image: sharp(input, options), failed: NEVER, close() {} };
  if (Buffer.isBuffer(input)) {
    // sharp throws a bare `Error('Input Buffer is empty')` from its constructor for this.
    if (input.length === 0) throw invalidImage('empty', 'the image is empty (0 bytes): upload the image file again');
    return { image: sharp(input, options), failed: NEVER, close() {} };
  }
  return openStream(input, options);
}

function openStream(input: Readable, options: SharpOptions): ImageSource {
  const image = sharp(options);
  // Rejects if sharp's writable side emits an error; pump() then stops at its next 'drain' wait.
  const imageFailed = new Promise<never>((_, reject) => image.on('error', reject));
  const failed = Promise.race([pump(input, image).then(() => NEVER), imageFailed]);
  // Handled here too so that a failure after the caller's race is settled is not an unhandled rejection.
  failed.catch(() => {});
  return {
    image,
    failed,
    close() {
      if (!input.readableEnded) input.destroy();
      image.destroy();
    },
  };
}

/**
 * Like `input.pipe(image)`, but an input error rejects (pipe() would leave
 * sharp waiting forever) and a chunk that is not bytes is refused instead of
 * throwing inside pipe()'s 'data' handler, which would crash the process.
 */
async function pump(input: Readable, image: Sharp): Promise<void> {
  for await (const chunk of input as AsyncIterable<unknown>) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`the image stream must yield bytes (Buffer or Uint8Array), not ${typeof chunk} chunks`);
    }
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!image.write(bytes)) await once(image, 'drain');
  }
  image.end();
}
