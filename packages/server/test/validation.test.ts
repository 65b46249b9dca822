import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { LegimError } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureBytes } from '../../../test-support/fixtures.js';
import { ImageInspector, inspectStream } from '../src/validation/index.js';
import type { ImageContentType, InspectedImage, InspectOptions } from '../src/validation/index.js';

const MAX_PIXELS = 100_000_000;
const KiB = 1024;
const MiB = 1024 * KiB;

type Accepted = [file: string, contentType: ImageContentType, width: number, height: number];

/** Every "accept" row of test-support/fixtures/images/MANIFEST.md, with the stored size the table states. */
const ACCEPTED: Accepted[] = [
  ['photo-small-flower-1600x1203.jpg', 'image/jpeg', 1600, 1203],
  ['photo-portrait-drum-2560x3837.jpg', 'image/jpeg', 2560, 3837],
  ['photo-camera-exif-dune-1680x1050.jpg', 'image/jpeg', 1680, 1050],
  ['photo-mountains-3264x2448.jpg', 'image/jpeg', 3264, 2448],
  ['photo-large-bird-6028x3391.jpg', 'image/jpeg', 6028, 3391],
  ['jpeg-exif-orientation-6.jpg', 'image/jpeg', 800, 1200], // stored sideways; EXIF rotation is not applied
  ['jpeg-exif-gps.jpg', 'image/jpeg', 1024, 693],
  ['jpeg-cmyk.jpg', 'image/jpeg', 1024, 640],
  ['jpeg-progressive.jpg', 'image/jpeg', 1280, 800],
  ['png-alpha.png', 'image/png', 512, 512],
  ['png-16bit.png', 'image/png', 512, 256],
  ['png-palette.png', 'image/png', 800, 533],
  ['gif-animated-8-frames.gif', 'image/gif', 240, 160],
  ['webp-photo.webp', 'image/webp', 1024, 640],
  ['avif-photo.avif', 'image/avif', 1024, 640],
  ['tiff-lzw.tif', 'image/tiff', 480, 325],
  ['tiny-1x1.png', 'image/png', 1, 1],
  ['bad-trailing-garbage.jpg', 'image/jpeg', 800, 500], // bytes after EOI are ignored
  ['bad-polyglot-jpeg-zip.jpg', 'image/jpeg', 640, 481], // served as the JPEG it decodes as
];

const EXTENSIONS: Record<ImageContentType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/tiff': 'tif',
};

type Rejected = [file: string, code: string, status: number, message: RegExp];

/** Every "reject" row of MANIFEST.md, plus the SVGs: the API refuses SVG (it can carry scripts). */
const REJECTED: Rejected[] = [
  ['bad-empty-0-bytes.jpg', 'EMPTY_BODY', 400, /empty/],
  ['bad-truncated-half.jpg', 'INVALID_IMAGE', 422, /JPEG image is truncated.*end-of-image/],
  ['bad-text-named.jpg', 'UNSUPPORTED_MEDIA_TYPE', 415, /text.*JPEG, PNG, GIF, WebP, AVIF and TIFF/],
  ['bad-html-named.png', 'UNSUPPORTED_MEDIA_TYPE', 415, /HTML.*JPEG, PNG, GIF, WebP, AVIF and TIFF/],
  ['svg-harmless.svg', 'UNSUPPORTED_MEDIA_TYPE', 415, /SVG is refused because it can carry scripts/],
  ['svg-with-script.svg', 'UNSUPPORTED_MEDIA_TYPE', 415, /SVG is refused because it can carry scripts/],
  ['bad-png-bomb-30000x30000.png', 'IMAGE_TOO_LARGE', 413, /30000x30000/],
  ['bad-png-huge-declared-truncated.png', 'IMAGE_TOO_LARGE', 413, /16000x16000/],
];

type Outcome =
  | { ok: true; image: InspectedImage }
  | { ok: false; code: string; message: string; pushed: number; statusCode: number };

/** Pushes `bytes` in chunks of `nextSize()` bytes; a refusal must be a LegimError, anything else fails the test. */
function inspect(bytes: Buffer, nextSize: () => number, options: InspectOptions = { maxPixels: MAX_PIXELS }): Outcome {
  const inspector = new ImageInspector(options);
  let pushed = 0;
  try {
    while (pushed < bytes.length) {
      const chunk = bytes.subarray(pushed, pushed + Math.max(1, nextSize()));
      pushed += chunk.length;
      inspector.push(chunk);
    }
    return { ok: true, image: inspector.finish() };
  } catch (error) {
    if (!LegimError.is(error)) throw error;
    return { ok: false, code: error.code, message: error.message, pushed, statusCode: error.statusCode };
  }
}

const whole = () => Number.MAX_SAFE_INTEGER;
const oneByte = () => 1;

/** Deterministic chunk sizes mixing tiny splits (inside headers) and large ones. */
function randomSizes(seed: number): () => number {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return () => (next() < 0.5 ? 1 + Math.floor(next() * 16) : 1 + Math.floor(next() * 70_000));
}

function verdict(outcome: Outcome): unknown {
  return outcome.ok ? outcome.image : { code: outcome.code, message: outcome.message };
}

describe('ImageInspector on the shared fixtures', () => {
  it.each(ACCEPTED)('accepts %s as %s %ix%i', (file, contentType, width, height) => {
    const bytes = fixtureBytes(file);
    const outcome = inspect(bytes, whole);
    expect(outcome).toEqual({
      ok: true,
      image: { contentType, extension: EXTENSIONS[contentType], width, height, bytes: bytes.length },
    });
  });

  it.each(REJECTED)('refuses %s with %s %i', (file, code, statusCode, message) => {
    const outcome = inspect(fixtureBytes(file), whole);
    expect(outcome).toMatchObject({ ok: false, code, statusCode, message: expect.stringMatching(message) });
  });

  const everyFile = [...ACCEPTED.map(([file]) => file), ...REJECTED.map(([file]) => file)];

  it('gives the same verdicts when fed one byte at a time', () => {
    for (const file of everyFile) {
      const bytes = fixtureBytes(file);
      expect(verdict(inspect(bytes, oneByte)), file).toEqual(verdict(inspect(bytes, whole)));
    }
  });

  it.each([1, 2, 3, 42, 2026])('gives the same verdicts with random chunk sizes (seed %i)', (seed) => {
    const sizes = randomSizes(seed);
    for (const file of everyFile) {
      const bytes = fixtureBytes(file);
      expect(verdict(inspect(bytes, sizes)), file).toEqual(verdict(inspect(bytes, whole)));
    }
  });

  it.each(['bad-png-bomb-30000x30000.png', 'bad-png-huge-declared-truncated.png'])(
    'refuses %s from its header, before 64 KiB were pushed',
    (file) => {
      for (const size of [1, 4 * KiB, 64 * KiB]) {
        const outcome = inspect(fixtureBytes(file), () => size);
        expect(outcome).toMatchObject({ ok: false, code: 'IMAGE_TOO_LARGE', statusCode: 413 });
        expect(outcome.ok === false && outcome.pushed).toBeLessThanOrEqual(64 * KiB);
      }
    },
  );

  it('refuses the huge declared PNG as truncated when the pixel limit lets its header through', () => {
    const outcome = inspect(fixtureBytes('bad-png-huge-declared-truncated.png'), () => 4 * KiB, {
      maxPixels: 300_000_000,
    });
    expect(outcome).toMatchObject({
      ok: false,
      code: 'INVALID_IMAGE',
      message: expect.stringMatching(/truncated.*IEND/),
    });
  });

  it('knows the header within the first 64 KiB (TIFF: once IFD0 has passed)', () => {
    for (const [file, contentType, width, height] of ACCEPTED) {
      const bytes = fixtureBytes(file);
      const inspector = new ImageInspector({ maxPixels: MAX_PIXELS });
      let pushed = 0;
      while (inspector.header() === undefined && pushed < bytes.length) {
        inspector.push(bytes.subarray(pushed, pushed + KiB));
        pushed += KiB;
      }
      expect(inspector.header(), file).toEqual({ contentType, extension: EXTENSIONS[contentType], width, height });
      if (contentType !== 'image/tiff') expect(pushed, file).toBeLessThanOrEqual(64 * KiB);
    }
  });

  it.each(ACCEPTED.filter(([file, type]) => type !== 'image/tiff' && !file.startsWith('bad-')))(
    'refuses %s cut short as INVALID_IMAGE',
    (file) => {
      const bytes = fixtureBytes(file);
      for (const cut of [Math.floor(bytes.length / 2), bytes.length - 1]) {
        expect(inspect(bytes.subarray(0, cut), whole), `${file} cut at ${cut}`).toMatchObject({
          ok: false,
          code: 'INVALID_IMAGE',
          message: expect.stringMatching(/truncated/),
        });
      }
    },
  );

  it('inspects a file stream', async () => {
    const image = await inspectStream(createReadStream(fixture('jpeg-progressive.jpg'), { highWaterMark: 1000 }), {
      maxPixels: MAX_PIXELS,
    });
    expect(image).toEqual({ contentType: 'image/jpeg', extension: 'jpg', width: 1280, height: 800, bytes: 81535 });
  });
});

/** `count` chunks of 1 MiB pseudo-random bytes, each a fresh copy (so a parser that kept them would grow). */
async function* randomMiBs(block: Buffer, count: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.from(block);
}

/**
 * Heap plus Buffer memory. Without --expose-gc the discarded chunks linger
 * until V8 collects (it does so every ~64 MB of external memory), so "flat"
 * means well under the 200 MB a parser that kept its input would hold.
 */
function memory(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

describe('ImageInspector on 200 MB streams', () => {
  const jpeg = fixtureBytes('photo-small-flower-1600x1203.jpg');

  async function timed(source: AsyncIterable<Buffer>): Promise<{ image: InspectedImage; ms: number; grew: number }> {
    const started = performance.now();
    const before = memory();
    let peak = before;
    const sampled = (async function* () {
      for await (const chunk of source) {
        yield chunk;
        peak = Math.max(peak, memory());
      }
    })();
    const image = await inspectStream(sampled, { maxPixels: MAX_PIXELS });
    return { image, ms: performance.now() - started, grew: peak - before };
  }

  it('accepts a JPEG followed by 200 MB of pseudo-random bytes, fast and in flat memory', async () => {
    const block = randomBytes(MiB);
    const { image, ms, grew } = await timed(
      (async function* () {
        yield jpeg;
        yield* randomMiBs(block, 200);
      })(),
    );
    expect(image).toEqual({
      contentType: 'image/jpeg',
      extension: 'jpg',
      width: 1600,
      height: 1203,
      bytes: jpeg.length + 200 * MiB,
    });
    expect(ms).toBeLessThan(5_000);
    expect(grew).toBeLessThan(128 * MiB);
  });

  it('scans 200 MB of entropy-coded data (stuffed FF00 and RST markers) to the EOI, fast and in flat memory', async () => {
    const block = randomBytes(MiB);
    for (let at = block.indexOf(0xff); at !== -1; at = block.indexOf(0xff, at + 2)) {
      if (at + 1 === block.length) block[at] = 0x00;
      else block[at + 1] = at % 7 === 0 ? 0xd0 + (at % 8) : 0x00; // mostly stuffing, some RSTn
    }
    const eoi = jpeg.length - 2;
    expect(jpeg.readUInt16BE(eoi)).toBe(0xffd9);
    const { image, ms, grew } = await timed(
      (async function* () {
        yield jpeg.subarray(0, eoi);
        yield* randomMiBs(block, 200);
        yield jpeg.subarray(eoi);
      })(),
    );
    expect(image).toMatchObject({
      contentType: 'image/jpeg',
      width: 1600,
      height: 1203,
      bytes: jpeg.length + 200 * MiB,
    });
    expect(ms).toBeLessThan(5_000);
    expect(grew).toBeLessThan(128 * MiB);
  });

  it('stops reading a stream past maxBytes with PAYLOAD_TOO_LARGE', async () => {
    const block = randomBytes(MiB);
    let yielded = 0;
    const source = Readable.from(
      (async function* () {
        yield jpeg;
        for (; yielded < 200; yielded++) yield Buffer.from(block);
      })(),
    );
    await expect(inspectStream(source, { maxBytes: 10 * MiB })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
    });
    expect(yielded).toBeLessThan(20);
    expect(source.destroyed).toBe(true);
  });
});

function pngChunk(type: string, data: Buffer, crc?: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc ?? crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, tail]);
}

function pngOf(width: number, height: number, chunks?: Buffer[]): Buffer {
  const ihdr = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 8, 6, 0, 0, 0]);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  const body = chunks ?? [
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([1, 2, 3])),
    pngChunk('IEND', Buffer.alloc(0)),
  ];
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), ...body]);
}

function riff(...chunks: [fourcc: string, payload: Buffer][]): Buffer {
  const body = chunks.map(([fourcc, payload]) => {
    const head = Buffer.alloc(8);
    head.write(fourcc, 0, 'latin1');
    head.writeUInt32LE(payload.length, 4);
    return Buffer.concat([head, payload, Buffer.alloc(payload.length & 1)]);
  });
  const head = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
  const file = Buffer.concat([head, ...body]);
  file.writeUInt32LE(file.length - 8, 4);
  return file;
}

const vp8l = (width: number, height: number) => {
  const payload = Buffer.alloc(8);
  payload[0] = 0x2f;
  payload.writeUInt32LE(((width - 1) | ((height - 1) << 14)) >>> 0, 1);
  return payload;
};

/** The verdict must be the same whole and byte by byte; returns it. */
function judge(bytes: Buffer): unknown {
  const outcome = verdict(inspect(bytes, whole));
  expect(verdict(inspect(bytes, oneByte))).toEqual(outcome);
  return outcome;
}

describe('ImageInspector on crafted inputs', () => {
  const corrupt = (message: RegExp) => ({ code: 'INVALID_IMAGE', message: expect.stringMatching(message) });
  const refused = (message: RegExp) => ({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringMatching(message) });

  it('checks PNG structure: sizes, chunk order, IDAT and CRCs of critical chunks', () => {
    expect(judge(pngOf(0, 10))).toEqual(corrupt(/declares a size of 0x10/));
    expect(judge(pngOf(3, 2))).toMatchObject({ contentType: 'image/png', width: 3, height: 2, bytes: 60 });
    const ihdr = pngOf(3, 2).subarray(8, 33);
    const idat = pngChunk('IDAT', Buffer.from([1, 2, 3]));
    const iend = pngChunk('IEND', Buffer.alloc(0));
    const badIdat = pngChunk('IDAT', Buffer.from([1, 2, 3]), 1234);
    const badText = pngChunk('tEXt', Buffer.from('Comment\0hi'), 1234);
    expect(judge(pngOf(3, 2, [ihdr, badIdat, iend]))).toEqual(corrupt(/CRC of chunk IDAT/));
    expect(judge(pngOf(3, 2, [ihdr, badText, idat, iend]))).toMatchObject({ width: 3, height: 2 });
    expect(judge(pngOf(3, 2, [ihdr, iend]))).toEqual(corrupt(/before any image data/));
    expect(judge(pngOf(3, 2, [idat, ihdr, iend]))).toEqual(corrupt(/first chunk is not IHDR/));
    expect(judge(Buffer.concat([pngOf(3, 2), Buffer.from('trailing')]))).toMatchObject({ width: 3, bytes: 68 });
  });

  it('checks JPEG structure: an EOI inside a skipped segment does not end the image', () => {
    expect(judge(Buffer.from('ffd8ffd9', 'hex'))).toEqual(corrupt(/before any image data/));
    expect(judge(Buffer.from('ffd8ffe10006ffd9ffd9', 'hex'))).toEqual(corrupt(/truncated.*frame header/));
    const sof = 'ffc0000b080002000301011100';
    const sos = 'ffda0008010100003f00';
    expect(judge(Buffer.from(`ffd8${sof}${sos}12ff00ffd734ffd9`, 'hex'))).toMatchObject({ width: 3, height: 2 });
    expect(judge(Buffer.from(`ffd8${sof}${sos}12ff00ffd734`, 'hex'))).toEqual(corrupt(/truncated.*FFD9/));
    expect(judge(Buffer.from(`ffd8${sos}ffd9`, 'hex'))).toEqual(corrupt(/before the frame header/));
  });

  it('checks WebP containers: VP8L and VP8X sizes, image data present, RIFF size honoured', () => {
    expect(judge(riff(['VP8L', vp8l(300, 200)]))).toMatchObject({ contentType: 'image/webp', width: 300, height: 200 });
    const vp8x = Buffer.from('10000000' + 'ff0f00' + '1f0000', 'hex'); // canvas 4096x32
    expect(judge(riff(['VP8X', vp8x], ['VP8L', vp8l(4096, 32)]))).toMatchObject({ width: 4096, height: 32 });
    expect(judge(riff(['VP8X', vp8x], ['EXIF', Buffer.alloc(3)]))).toEqual(corrupt(/no image data/));
    expect(judge(riff(['JUNK', Buffer.alloc(10)]))).toEqual(corrupt(/first chunk is "JUNK"/));
    const photo = fixtureBytes('webp-photo.webp');
    expect(judge(Buffer.concat([photo, Buffer.alloc(100)]))).toMatchObject({ width: 1024, bytes: photo.length + 100 });
  });

  it('reads a big-endian TIFF and refuses one cut before its first directory', () => {
    const tiff = Buffer.from(
      [
        '4d4d002a 00000008', // MM\0*, IFD0 at offset 8
        '0002', // two entries
        '0100 0003 00000001 012c0000', // ImageWidth, SHORT, 1, 300 (left-justified)
        '0101 0004 00000001 000000c8', // ImageLength, LONG, 1, 200
        '00000000', // no next IFD
      ]
        .join('')
        .replaceAll(' ', ''),
      'hex',
    );
    expect(judge(tiff)).toMatchObject({ contentType: 'image/tiff', extension: 'tif', width: 300, height: 200 });
    expect(judge(fixtureBytes('tiff-lzw.tif').subarray(0, 1000))).toEqual(corrupt(/TIFF image is truncated/));
  });

  it('names what it refuses: SVG after a byte order mark, ZIP, other ISO media, short files', () => {
    const svg = Buffer.from('\ufeff\n  <!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(judge(svg)).toEqual(refused(/^SVG is refused because it can carry scripts/));
    expect(judge(Buffer.from('PK\x03\x04\x14\x00\x00\x00', 'latin1'))).toEqual(refused(/ZIP archive/));
    const heic = Buffer.from('00000018667479706865696300000000' + '6d69663168656963', 'hex');
    expect(judge(heic)).toEqual(refused(/ISO media file of brand "heic", not AVIF/));
    expect(judge(Buffer.from('ffd8', 'hex'))).toEqual(refused(/not an image/));
    expect(judge(Buffer.from('   \n', 'latin1'))).toEqual(refused(/looks like text/));
  });

  it('keeps refusing after a refusal, and takes plain Uint8Array chunks', () => {
    const inspector = new ImageInspector();
    const first = (() => {
      try {
        inspector.push(new TextEncoder().encode('hello'));
      } catch (error) {
        return error;
      }
    })();
    expect(first).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(() => inspector.push(new Uint8Array([0xff]))).toThrow(first as Error);
    expect(() => inspector.finish()).toThrow(first as Error);
    const tiny = fixtureBytes('tiny-1x1.png');
    const viaBytes = new ImageInspector();
    viaBytes.push(new Uint8Array(tiny));
    expect(viaBytes.finish()).toMatchObject({ width: 1, height: 1, bytes: tiny.length });
  });
});
