import { corrupt, truncated } from './errors.js';
import { sniffMagic, StreamParser } from './stream-parser.js';
import type { HeaderSink, ImageFormat, SniffResult } from './types.js';

const LITTLE = Buffer.from([0x49, 0x49, 0x2a, 0x00]); // II*\0
const BIG = Buffer.from([0x4d, 0x4d, 0x00, 0x2a]); // MM\0*
const IMAGE_WIDTH = 256;
const IMAGE_LENGTH = 257;
const SHORT = 3;
const LONG = 4;

/**
 * Reads the size from the first image directory (IFD0) wherever it lies:
 * writers often put it after the strips, at the end of the file, so the
 * parser skips to its offset (keeping nothing) and reads its 12-byte entries
 * one by one for ImageWidth and ImageLength. This is a header check: strips
 * and tiles are not followed, so a file cut after IFD0 is not detected.
 */
class TiffParser extends StreamParser {
  readonly #onHeader: HeaderSink;
  #little = true;
  #ifd = 0;
  #width: number | undefined;
  #height: number | undefined;

  constructor(onHeader: HeaderSink) {
    super();
    this.#onHeader = onHeader;
    this.read(8, (head) => {
      this.#little = head[0] === 0x49;
      this.#ifd = this.#little ? head.readUInt32LE(4) : head.readUInt32BE(4);
      if (this.#ifd < 8) throw corrupt('TIFF', `its first directory offset ${this.#ifd} points into the header`);
      this.skip(this.#ifd - 8, () => this.read(2, (count) => this.#entries(this.#u16(count, 0))));
    });
  }

  #entries(left: number): void {
    if (left === 0) return this.#done();
    this.read(12, (entry) => {
      const tag = this.#u16(entry, 0);
      if (tag === IMAGE_WIDTH || tag === IMAGE_LENGTH) {
        const value = this.#value(entry);
        if (tag === IMAGE_WIDTH) this.#width = value;
        else this.#height = value;
      }
      // Entries are sorted by tag: nothing useful after ImageLength.
      if (tag >= IMAGE_LENGTH && this.#width !== undefined && this.#height !== undefined) return this.#done();
      this.#entries(left - 1);
    });
  }

  /** A SHORT or LONG with count 1 lives in the entry itself (left-justified). */
  #value(entry: Buffer): number {
    const type = this.#u16(entry, 2);
    const count = this.#little ? entry.readUInt32LE(4) : entry.readUInt32BE(4);
    if (count !== 1 || (type !== SHORT && type !== LONG)) {
      throw corrupt('TIFF', 'its ImageWidth or ImageLength field is not a single SHORT or LONG');
    }
    if (type === SHORT) return this.#u16(entry, 8);
    return this.#little ? entry.readUInt32LE(8) : entry.readUInt32BE(8);
  }

  #u16(buf: Buffer, at: number): number {
    return this.#little ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }

  #done(): void {
    if (this.#width === undefined || this.#height === undefined) {
      throw corrupt('TIFF', 'its first directory has no ImageWidth or ImageLength');
    }
    this.#onHeader(this.#width, this.#height);
    this.rest();
  }

  finish(): void {
    if (this.complete) return;
    const where =
      this.#ifd === 0 ? 'inside the header' : `before the end of its first directory (at offset ${this.#ifd})`;
    throw truncated('TIFF', `the file ends ${where}`);
  }
}

function sniffTiff(prefix: Buffer): SniffResult {
  const little = sniffMagic(prefix, LITTLE);
  return little === 'no' ? sniffMagic(prefix, BIG) : little;
}

export const tiff: ImageFormat = {
  name: 'TIFF',
  contentType: 'image/tiff',
  extension: 'tif',
  sniff: sniffTiff,
  createParser: (onHeader) => new TiffParser(onHeader),
};
