import { corrupt, truncated } from './errors.js';
import { sniffMagic, StreamParser } from './stream-parser.js';
import type { HeaderSink, ImageFormat, SniffResult } from './types.js';

const SOI = Buffer.from([0xff, 0xd8, 0xff]);
const EOI = 0xd9;
const SOS = 0xda;

/** SOF0–SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC). */
function isStartOfFrame(code: number): boolean {
  return code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;
}

/**
 * Walks the marker segments by their lengths and scans the entropy-coded
 * data after each SOS for the next marker (skipping FF00 stuffing, RSTn and
 * fill bytes) with `indexOf`, never byte by byte. The image is complete at
 * EOI; what follows is trailing data (a JPEG/ZIP polyglot, MPF pictures) and
 * is ignored, as every decoder does. Bytes that are not a marker between
 * segments are skipped, as libjpeg does ("extraneous bytes before marker").
 */
class JpegParser extends StreamParser {
  readonly #onHeader: HeaderSink;
  #sawFF = false;
  #sawFrame = false;
  #sawScan = false;

  constructor(onHeader: HeaderSink) {
    super();
    this.#onHeader = onHeader;
    this.read(2, () => this.#nextMarker());
  }

  #nextMarker(): void {
    this.scan(this.#scanForMarker);
  }

  readonly #scanForMarker = (chunk: Buffer, start: number): number => {
    const end = chunk.length;
    let pos = start;
    while (pos < end) {
      if (!this.#sawFF) {
        const ff = chunk.indexOf(0xff, pos);
        if (ff === -1) return end;
        this.#sawFF = true;
        pos = ff + 1;
        continue;
      }
      const code = chunk[pos++]!;
      if (code === 0xff) continue; // fill byte before a marker
      this.#sawFF = false;
      // FF00 is a stuffed data byte; RSTn (D0–D7) and TEM (01) stand alone.
      if (code === 0x00 || code === 0x01 || (code >= 0xd0 && code <= 0xd7)) continue;
      this.#onMarker(code);
      return pos;
    }
    return end;
  };

  #onMarker(code: number): void {
    if (code === EOI) {
      if (!this.#sawScan) throw corrupt('JPEG', 'it ends (EOI) before any image data');
      return this.rest();
    }
    if (code === 0xd8) throw corrupt('JPEG', 'a second start-of-image marker appears before the end of the image');
    this.read(2, (field) => {
      const length = field.readUInt16BE(0);
      if (length < 2) throw corrupt('JPEG', `marker FF${hex(code)} has an impossible length ${length}`);
      this.#segment(code, length - 2);
    });
  }

  #segment(code: number, body: number): void {
    const next = () => this.#nextMarker();
    if (isStartOfFrame(code) && !this.#sawFrame) {
      if (body < 6) throw corrupt('JPEG', 'the frame header (SOF) is too short');
      this.#sawFrame = true;
      return this.read(5, (sof) => {
        this.#onHeader(sof.readUInt16BE(3), sof.readUInt16BE(1));
        this.skip(body - 5, next);
      });
    }
    if (code === SOS) {
      if (!this.#sawFrame) throw corrupt('JPEG', 'image data (SOS) comes before the frame header (SOF)');
      this.#sawScan = true;
    }
    this.skip(body, next);
  }

  finish(): void {
    if (this.complete) return;
    if (!this.#sawFrame) throw truncated('JPEG', 'the file ends before the frame header (SOF) that gives its size');
    throw truncated('JPEG', 'the file ends before the end-of-image marker (FFD9)');
  }
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

export const jpeg: ImageFormat = {
  name: 'JPEG',
  contentType: 'image/jpeg',
  extension: 'jpg',
  sniff: (prefix: Buffer): SniffResult => sniffMagic(prefix, SOI),
  createParser: (onHeader) => new JpegParser(onHeader),
};
