import { corrupt, truncated } from './errors.js';
import { all, sniffMagic, StreamParser } from './stream-parser.js';
import type { HeaderSink, ImageFormat } from './types.js';

const GIF8 = Buffer.from('GIF8', 'latin1');
const VERSION_TAIL = Buffer.from('a', 'latin1');
const IMAGE = 0x2c;
const EXTENSION = 0x21;
const TRAILER = 0x3b;

/**
 * Walks the block structure: header and logical screen, global colour table,
 * then image descriptors (with local colour table and LZW sub-blocks) and
 * extensions (sub-blocks) until the trailer byte 0x3B. Only block lengths are
 * read; no pixel data is decoded. Bytes after the trailer are ignored.
 */
class GifParser extends StreamParser {
  readonly #onHeader: HeaderSink;
  #frames = 0;

  constructor(onHeader: HeaderSink) {
    super();
    this.#onHeader = onHeader;
    this.read(13, (head) => {
      this.#onHeader(head.readUInt16LE(6), head.readUInt16LE(8));
      this.skip(colorTableSize(head[10]!), () => this.#block());
    });
  }

  #block(): void {
    this.read(1, (field) => {
      const introducer = field[0]!;
      if (introducer === TRAILER) {
        if (this.#frames === 0) throw corrupt('GIF', 'it ends (trailer) before any image');
        return this.rest();
      }
      if (introducer === EXTENSION) return this.read(1, () => this.#subBlocks());
      if (introducer !== IMAGE) {
        throw corrupt('GIF', `unknown block 0x${introducer.toString(16)} at offset ${this.offset - 1}`);
      }
      this.#frames += 1;
      // Descriptor: left, top, width, height (2 bytes each), packed flags.
      this.read(9, (descriptor) => {
        // Then the local colour table and the LZW minimum code size byte.
        this.skip(colorTableSize(descriptor[8]!) + 1, () => this.#subBlocks());
      });
    });
  }

  /** A run of sub-blocks (length byte + data) ended by a zero length, then the next block. */
  #subBlocks(): void {
    this.read(1, (field) => {
      const length = field[0]!;
      if (length === 0) return this.#block();
      this.skip(length, () => this.#subBlocks());
    });
  }

  finish(): void {
    if (this.complete) return;
    throw truncated('GIF', `the file ends after ${this.#frames} frame(s) without the trailer byte (0x3B)`);
  }
}

function colorTableSize(flags: number): number {
  return flags & 0x80 ? 3 << ((flags & 0x07) + 1) : 0;
}

export const gif: ImageFormat = {
  name: 'GIF',
  contentType: 'image/gif',
  extension: 'gif',
  // GIF87a or GIF89a.
  sniff: (prefix) => {
    const version = prefix.length > 4 ? prefix[4] : undefined;
    return all(
      sniffMagic(prefix, GIF8),
      version === undefined ? 'more' : version === 0x37 || version === 0x39 ? 'yes' : 'no',
      sniffMagic(prefix, VERSION_TAIL, 5),
    );
  },
  createParser: (onHeader) => new GifParser(onHeader),
};
