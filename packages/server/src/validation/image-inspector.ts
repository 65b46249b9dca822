import { corrupt, emptyBody, tooManyBytes, tooManyPixels } from './errors.js';
import { detect, MARKUP_SNIFF_BYTES } from './formats.js';
import { DEFAULT_MAX_PIXELS } from './types.js';
import type { FormatParser, ImageFormat, ImageHeader, InspectedImage, InspectOptions } from './types.js';

/** Bytes kept while the type is undecided: enough for any signature, an `ftyp` box or an SVG prologue. */
const SNIFF_BYTES = MARKUP_SNIFF_BYTES;

/**
 * Validates an upload as it streams past, in O(1) memory and without
 * decoding pixels: the type comes from the magic bytes only, the size from
 * the header, and the structure is walked to its end marker.
 *
 * Feed every chunk in order to `push`, then call `finish`. `push` throws a
 * `LegimError` as soon as the bytes are refused (not an image, SVG, corrupt,
 * over `maxPixels` or `maxBytes`); `header()` is known once the leading bytes
 * that carry the size have passed (usually the first few KiB), so a caller
 * can hold back the first chunks until then. After a throw the inspector
 * keeps throwing the same error.
 *
 * @example
 * ```ts
 * const inspector = new ImageInspector({ maxPixels: 100_000_000 });
 * for await (const chunk of request) inspector.push(chunk);
 * const image = inspector.finish(); // { contentType: 'image/png', extension: 'png', width, height, bytes }
 * ```
 */
export class ImageInspector {
  readonly #maxPixels: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #sniff: Buffer | undefined = Buffer.allocUnsafe(SNIFF_BYTES);
  #sniffed = 0;
  #format: ImageFormat | undefined;
  #parser: FormatParser | undefined;
  #header: ImageHeader | undefined;
  #result: InspectedImage | undefined;
  #failure: { error: unknown } | undefined;

  constructor(options: InspectOptions = {}) {
    this.#maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes pushed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Type and stored size, once the bytes that carry them were pushed. */
  header(): ImageHeader | undefined {
    return this.#header;
  }

  push(chunk: Uint8Array): void {
    if (this.#result) throw new Error('ImageInspector.push() called after finish()');
    this.#guard(() => this.#push(asBuffer(chunk)));
  }

  /** Ends the upload: the inspected image, or the `LegimError` that refuses it. */
  finish(): InspectedImage {
    if (this.#result) return this.#result;
    return this.#guard(() => {
      if (this.#bytes === 0) throw emptyBody();
      if (!this.#parser) this.#decide(true);
      this.#parser!.finish();
      const header = this.#header;
      if (!header) throw corrupt(this.#format!.name, 'no image size was found in it');
      this.#result = { ...header, bytes: this.#bytes };
      return this.#result;
    });
  }

  #guard<T>(work: () => T): T {
    if (this.#failure) throw this.#failure.error;
    try {
      return work();
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
  }

  #push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) throw tooManyBytes(this.#maxBytes);
    if (this.#parser) return this.#parser.push(chunk);
    const taken = Math.min(chunk.length, SNIFF_BYTES - this.#sniffed);
    chunk.copy(this.#sniff!, this.#sniffed, 0, taken);
    this.#sniffed += taken;
    if (this.#decide(false) && taken < chunk.length) this.#parser!.push(chunk.subarray(taken));
  }

  /** Runs the type detection on the bytes kept so far; true once a parser took over. */
  #decide(ended: boolean): boolean {
    const prefix = this.#sniff!.subarray(0, this.#sniffed);
    const detection = detect(prefix, ended);
    if (detection.kind === 'refused') throw detection.error;
    if (detection.kind === 'more') {
      if (this.#sniffed === SNIFF_BYTES)
        throw new Error('internal error: image type still undecided after the sniff window');
      return false;
    }
    const format = detection.format;
    this.#format = format;
    this.#parser = format.createParser((width, height) => this.#onHeader(format, width, height));
    this.#sniff = undefined;
    this.#parser.push(prefix);
    return true;
  }

  #onHeader(format: ImageFormat, width: number, height: number): void {
    if (width === 0 || height === 0) throw corrupt(format.name, `its header declares a size of ${width}x${height}`);
    if (width * height > this.#maxPixels) throw tooManyPixels(width, height, this.#maxPixels);
    this.#header = { contentType: format.contentType, extension: format.extension, width, height };
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Consumes a whole stream (a `Readable`, any async iterable of bytes, or an
 * array of chunks) through an `ImageInspector`. For tests and tools; the
 * gateway drives the inspector itself while it forwards the chunks. On a
 * refusal the iteration stops at once, which destroys a `Readable` source.
 *
 * @example
 * ```ts
 * const image = await inspectStream(createReadStream(path), { maxPixels: 100_000_000, maxBytes: 200 * 2 ** 20 });
 * ```
 */
export async function inspectStream(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>,
  options: InspectOptions = {},
): Promise<InspectedImage> {
  const inspector = new ImageInspector(options);
  for await (const chunk of source) {
    if (typeof chunk === 'string')
      throw new TypeError('inspectStream() needs bytes: do not set an encoding on the stream');
    inspector.push(chunk);
  }
  return inspector.finish();
}
