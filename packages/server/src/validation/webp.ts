import { corrupt, truncated } from './errors.js';
import { all, sniffMagic, StreamParser } from './stream-parser.js';
import type { HeaderSink, ImageFormat } from './types.js';

const RIFF = Buffer.from('RIFF', 'latin1');
const WEBP = Buffer.from('WEBP', 'latin1');
/** Bytes of the first chunk's payload needed for the size, per chunk kind. */
const HEADER_BYTES: Record<string, number> = { 'VP8 ': 10, VP8L: 5, VP8X: 10 };
/** Chunks that carry coded pixels (a still image or animation frames). */
const BITSTREAMS = new Set(['VP8 ', 'VP8L', 'ANMF']);

/**
 * Checks the RIFF container: the chunks (fourcc, size, padded payload) must
 * tile exactly the size the RIFF header declares, and all of it must arrive
 * (fewer bytes: truncated). The first chunk is VP8, VP8L or VP8X and gives the
 * canvas size, and some chunk must carry image data. Bytes after the RIFF end are ignored, as libwebp does.
 */
class WebpParser extends StreamParser {
  readonly #onHeader: HeaderSink;
  #end = 0;
  #chunks = 0;
  #sawBitstream = false;

  constructor(onHeader: HeaderSink) {
    super();
    this.#onHeader = onHeader;
    this.read(12, (head) => {
      this.#end = 8 + head.readUInt32LE(4);
      if (this.#end < 12 + 8) throw corrupt('WebP', 'the RIFF header declares a size too small for any image');
      this.#chunk();
    });
  }

  #chunk(): void {
    if (this.offset === this.#end) {
      if (!this.#sawBitstream) throw corrupt('WebP', 'it holds no image data (VP8, VP8L or ANMF chunk)');
      return this.rest();
    }
    if (this.offset + 8 > this.#end) throw corrupt('WebP', 'a chunk header runs past the end the RIFF header declares');
    this.read(8, (field) => {
      const fourcc = field.toString('latin1', 0, 4);
      const size = field.readUInt32LE(4);
      // Payloads are padded to an even length; tolerate a missing pad on the last chunk.
      const padded = Math.min(size + (size & 1), this.#end - this.offset);
      if (size > padded) throw corrupt('WebP', `chunk ${fourcc} runs past the end the RIFF header declares`);
      this.#chunks += 1;
      if (BITSTREAMS.has(fourcc)) this.#sawBitstream = true;
      if (this.#chunks > 1) return this.skip(padded, () => this.#chunk());
      const needed = HEADER_BYTES[fourcc];
      if (needed === undefined)
        throw corrupt('WebP', `the first chunk is ${JSON.stringify(fourcc)}, not VP8, VP8L or VP8X`);
      if (size < needed) throw corrupt('WebP', `its ${fourcc.trim()} chunk is too short`);
      this.read(needed, (payload) => {
        this.#canvas(fourcc, payload);
        this.skip(padded - needed, () => this.#chunk());
      });
    });
  }

  #canvas(fourcc: string, data: Buffer): void {
    if (fourcc === 'VP8 ') {
      // Frame tag (3 bytes, bit 0 clear on a key frame), start code 9D 01 2A, 14-bit sizes.
      if ((data[0]! & 1) !== 0 || data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a) {
        throw corrupt('WebP', 'its VP8 chunk does not start with a key frame');
      }
      return this.#onHeader(data.readUInt16LE(6) & 0x3fff, data.readUInt16LE(8) & 0x3fff);
    }
    if (fourcc === 'VP8L') {
      if (data[0] !== 0x2f) throw corrupt('WebP', 'its VP8L chunk has a wrong signature');
      const bits = data.readUInt32LE(1);
      return this.#onHeader((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    // VP8X: flags (1), reserved (3), canvas width - 1 and height - 1 (24 bits each).
    this.#onHeader(data.readUIntLE(4, 3) + 1, data.readUIntLE(7, 3) + 1);
  }

  finish(): void {
    if (this.complete) return;
    if (this.#end === 0) throw truncated('WebP', 'the file ends inside the RIFF header');
    throw truncated('WebP', `the RIFF header declares ${this.#end} bytes but only ${this.offset} arrived`);
  }
}

export const webp: ImageFormat = {
  name: 'WebP',
  contentType: 'image/webp',
  extension: 'webp',
  sniff: (prefix) => all(sniffMagic(prefix, RIFF), sniffMagic(prefix, WEBP, 8)),
  createParser: (onHeader) => new WebpParser(onHeader),
};
