import { crc32 } from 'node:zlib';
import { fixtureBytes } from './fixtures.js';

/**
 * A PNG that passes the upload check (sound chunks, CRCs and IEND) but whose
 * pixel data cannot be inflated: accepted at upload, fails in processing.
 */
export function poisonPng(): Buffer<ArrayBuffer> {
  const png = Buffer.from(fixtureBytes('png-palette.png'));
  for (let offset = 8; offset < png.length;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT') {
      png.fill(0x5a, offset + 8, offset + 8 + length);
      png.writeUInt32BE(crc32(png.subarray(offset + 4, offset + 8 + length)), offset + 8 + length);
    }
    offset += length + 12;
  }
  return png;
}
