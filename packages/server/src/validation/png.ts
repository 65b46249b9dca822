import { crc32 } from 'node:zlib';
import { corrupt, truncated } from './errors.js';
import { sniffMagic, StreamParser } from './stream-parser.js';
import type { HeaderSink, ImageFormat } from './types.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_CHUNK_LENGTH = 0x7fffffff;

/**
 * Walks the chunks (length, type, data, CRC) without keeping their data:
 * IHDR must come first, at least one IDAT, and IEND ends the image (bytes
 * after IEND are ignored, as libpng does). CRCs are checked with
 * `zlib.crc32`, incrementally; like libpng, a bad CRC is fatal only in a
 * critical chunk (uppercase first letter), ancillary ones are let through.
 */
class PngParser extends StreamParser {
  readonly #onHeader: HeaderSink;
  #crc = 0;
  #type = '';
  #chunks = 0;
  #sawData = false;

  constructor(onHeader: HeaderSink) {
    super();
    this.#onHeader = onHeader;
    this.read(8, () => this.#chunkHeader());
  }

  #chunkHeader(): void {
    this.read(8, (field) => {
      const length = field.readUInt32BE(0);
      const type = field.toString('latin1', 4, 8);
      if (!/^[A-Za-z]{4}$/.test(type)) throw corrupt('PNG', `chunk ${this.#chunks + 1} has an invalid type`);
      if (length > MAX_CHUNK_LENGTH) throw corrupt('PNG', `chunk ${type} declares an impossible length`);
      if (this.#chunks === 0 && type !== 'IHDR') throw corrupt('PNG', 'the first chunk is not IHDR');
      this.#chunks += 1;
      this.#type = type;
      this.#crc = crc32(field.subarray(4, 8));
      if (type === 'IHDR') return this.#header(length);
      if (type === 'IDAT') this.#sawData = true;
      if (type === 'IEND' && !this.#sawData) throw corrupt('PNG', 'it ends (IEND) before any image data (IDAT)');
      this.skip(
        length,
        () => this.#checkCrc(),
        (bytes) => {
          this.#crc = crc32(bytes, this.#crc);
        },
      );
    });
  }

  #header(length: number): void {
    if (this.#chunks !== 1) throw corrupt('PNG', 'it has a second IHDR chunk');
    if (length !== 13) throw corrupt('PNG', `its IHDR chunk is ${length} bytes instead of 13`);
    this.read(13, (ihdr) => {
      this.#crc = crc32(ihdr, this.#crc);
      this.#onHeader(ihdr.readUInt32BE(0), ihdr.readUInt32BE(4));
      this.#checkCrc();
    });
  }

  #checkCrc(): void {
    this.read(4, (field) => {
      const critical = this.#type.charCodeAt(0) < 0x61;
      if (critical && field.readUInt32BE(0) !== this.#crc >>> 0) {
        throw corrupt('PNG', `the CRC of chunk ${this.#type} does not match its data`);
      }
      if (this.#type === 'IEND') return this.rest();
      this.#chunkHeader();
    });
  }

  finish(): void {
    if (this.complete) return;
    const where = this.#type === '' ? 'before its first chunk' : `inside or after chunk ${this.#type}`;
    throw truncated('PNG', `the file ends ${where}, without the IEND chunk`);
  }
}

export const png: ImageFormat = {
  name: 'PNG',
  contentType: 'image/png',
  extension: 'png',
  sniff: (prefix) => sniffMagic(prefix, SIGNATURE),
  createParser: (onHeader) => new PngParser(onHeader),
};
