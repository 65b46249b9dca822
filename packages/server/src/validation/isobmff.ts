import { corrupt, truncated } from './errors.js';
import { readAvifSize } from './avif-meta.js';
import { sniffMagic, StreamParser } from './stream-parser.js';
import type { HeaderSink, ImageFormat, SniffResult } from './types.js';

const FTYP = Buffer.from('ftyp', 'latin1');
const AVIF_BRANDS = new Set(['avif', 'avis']);
/** Largest `ftyp` box judged by the sniffer, and largest `meta` box read into memory. */
const MAX_FTYP = 4096;
export const MAX_META = 64 * 1024;

/**
 * AVIF (HEIF/ISO-BMFF): the file is a sequence of boxes (size, type, body).
 * The top-level boxes are walked by their sizes, so a file that ends inside a
 * box is reported as truncated; the `meta` box (at most 64 KiB, wherever it
 * lies) is read whole and its primary item's `ispe` gives the size. The AV1
 * data in `mdat` is not checked: this is a header check, not a decode.
 */
class IsobmffParser extends StreamParser {
  readonly #onHeader: HeaderSink;
  #sawMeta = false;
  #openEnded = false;
  /** True while waiting for the first byte of a top-level box: the only place the file may end. */
  #betweenBoxes = false;

  constructor(onHeader: HeaderSink) {
    super();
    this.#onHeader = onHeader;
    this.#box();
  }

  #box(): void {
    this.#betweenBoxes = true;
    this.read(8, (head) => {
      this.#betweenBoxes = false;
      const size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) return this.read(8, (large) => this.#body(type, Number(large.readBigUInt64BE(0)) - 16));
      if (size === 0) return this.#body(type, undefined);
      if (size < 8) throw corrupt('AVIF', `box ${JSON.stringify(type)} declares an impossible size ${size}`);
      this.#body(type, size - 8);
    });
  }

  /** `length` is undefined for a box that runs to the end of the file (size 0). */
  #body(type: string, length: number | undefined): void {
    if (length !== undefined && (length < 0 || !Number.isSafeInteger(length))) {
      throw corrupt('AVIF', `box ${JSON.stringify(type)} declares an impossible size`);
    }
    if (type !== 'meta') {
      if (length !== undefined) return this.skip(length, () => this.#box());
      this.#openEnded = true;
      return this.rest();
    }
    if (this.#sawMeta) throw corrupt('AVIF', 'it has two top-level meta boxes');
    if (length === undefined || length > MAX_META) {
      throw corrupt('AVIF', `its meta box is larger than ${MAX_META} bytes, which is not accepted`);
    }
    this.read(length, (meta) => {
      this.#sawMeta = true;
      const size = readAvifSize(meta);
      if (!size) throw corrupt('AVIF', 'its meta box gives no image size (ispe) for the primary image');
      this.#onHeader(size.width, size.height);
      this.#box();
    });
  }

  finish(): void {
    if (!this.#openEnded && !(this.#betweenBoxes && this.atBoundary))
      throw truncated('AVIF', 'the file ends inside a box');
    if (!this.#sawMeta) throw corrupt('AVIF', 'it has no meta box describing the image');
  }
}

/** `ftyp` first, with `avif` or `avis` as major or compatible brand. */
function sniffAvif(prefix: Buffer): SniffResult {
  const box = sniffMagic(prefix, FTYP, 4);
  if (box !== 'yes') return box;
  const size = prefix.readUInt32BE(0);
  if (size < 16 || size > MAX_FTYP || size % 4 !== 0) return 'no';
  if (prefix.length < size) return 'more';
  const brands = [prefix.toString('latin1', 8, 12)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(prefix.toString('latin1', at, at + 4));
  return brands.some((brand) => AVIF_BRANDS.has(brand)) ? 'yes' : 'no';
}

export const avif: ImageFormat = {
  name: 'AVIF',
  contentType: 'image/avif',
  extension: 'avif',
  sniff: sniffAvif,
  createParser: (onHeader) => new IsobmffParser(onHeader),
};
