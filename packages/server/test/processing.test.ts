import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { LegimError } from '@legim/sdk';
import sharp from 'sharp';
import type { Sharp, Stats } from 'sharp';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import {
  DEFAULT_VARIANTS,
  DEFAULT_WEBP_MAX_EDGE,
  VARIANTS,
  isPermanentProcessingError,
  processImage,
} from '../src/processing/index.js';
import type { ImageInput, ProcessedVariant, VariantName } from '../src/processing/index.js';

const MAX_PIXELS = 100_000_000;
const DEFAULTS = { variants: DEFAULT_VARIANTS, maxPixels: MAX_PIXELS };
/** Longest edge of each default variant for an image of any size. */
const EDGES: Record<VariantName, number> = {
  thumb: 256,
  small: 1024,
  webp: DEFAULT_WEBP_MAX_EDGE,
  avif: DEFAULT_WEBP_MAX_EDGE,
};

type Accepted = [file: string, width: number, height: number];

/** Every "accept" row of test-support/fixtures/images/MANIFEST.md, with its size as displayed (EXIF orientation applied). */
const ACCEPTED: Accepted[] = [
  ['photo-small-flower-1600x1203.jpg', 1600, 1203],
  ['photo-portrait-drum-2560x3837.jpg', 2560, 3837],
  ['photo-camera-exif-dune-1680x1050.jpg', 1680, 1050],
  ['photo-mountains-3264x2448.jpg', 3264, 2448],
  ['photo-large-bird-6028x3391.jpg', 6028, 3391],
  ['jpeg-exif-orientation-6.jpg', 1200, 800], // stored 800x1200, Orientation=6
  ['jpeg-exif-gps.jpg', 1024, 693],
  ['jpeg-cmyk.jpg', 1024, 640],
  ['jpeg-progressive.jpg', 1280, 800],
  ['png-alpha.png', 512, 512],
  ['png-16bit.png', 512, 256],
  ['png-palette.png', 800, 533],
  ['gif-animated-8-frames.gif', 240, 160],
  ['webp-photo.webp', 1024, 640],
  ['avif-photo.avif', 1024, 640],
  ['tiff-lzw.tif', 480, 325],
  ['tiny-1x1.png', 1, 1],
  ['bad-trailing-garbage.jpg', 800, 500],
  ['bad-polyglot-jpeg-zip.jpg', 640, 481],
];

/** Size, aspect ratio and "never upscaled", against the displayed size of the source. */
function expectFits(variant: ProcessedVariant, width: number, height: number, maxEdge: number): void {
  const longest = Math.min(maxEdge, Math.max(width, height));
  const idealShortest = (longest * Math.min(width, height)) / Math.max(width, height);
  expect(Math.max(variant.width, variant.height), `${variant.name} longest edge`).toBe(longest);
  expect(
    Math.abs(Math.min(variant.width, variant.height) - idealShortest),
    `${variant.name} aspect`,
  ).toBeLessThanOrEqual(1);
  expect(Math.min(variant.width, variant.height)).toBeGreaterThanOrEqual(1);
  expect(variant.width >= variant.height, `${variant.name} orientation`).toBe(width >= height);
  expect(variant.width).toBeLessThanOrEqual(width);
  expect(variant.height).toBeLessThanOrEqual(height);
}

/** The RIFF chunk types of a WebP file, e.g. `['VP8X', 'ALPH', 'VP8 ']`. */
function webpChunks(data: Buffer): string[] {
  expect(data.toString('latin1', 0, 4)).toBe('RIFF');
  expect(data.toString('latin1', 8, 12)).toBe('WEBP');
  const chunks: string[] = [];
  for (let offset = 12; offset + 8 <= data.length;) {
    const size = data.readUInt32LE(offset + 4);
    chunks.push(data.toString('latin1', offset, offset + 4));
    offset += 8 + size + (size % 2);
  }
  return chunks;
}

/** Reads a variant back and checks it is a clean, upright, 8-bit sRGB image of the stated size. */
async function expectClean(variant: ProcessedVariant): Promise<void> {
  expect(variant.size).toBe(variant.data.length);
  expect(variant.sha256).toBe(sha256(variant.data));
  const metadata = await sharp(variant.data).metadata();
  expect(metadata.format).toBe(variant.extension === 'avif' ? 'heif' : 'webp');
  expect([metadata.width, metadata.height]).toEqual([variant.width, variant.height]);
  expect(metadata.exif).toBeUndefined();
  expect(metadata.xmp).toBeUndefined();
  expect(metadata.iptc).toBeUndefined();
  expect(metadata.icc).toBeUndefined();
  expect(metadata.orientation ?? 1).toBe(1);
  expect(metadata.depth).toBe('uchar');
  expect(metadata.space).toBe('srgb');
  expect(metadata.pages ?? 1).toBe(1);
  if (variant.extension === 'webp') {
    for (const chunk of webpChunks(variant.data)) expect(['VP8 ', 'VP8L', 'VP8X', 'ALPH']).toContain(chunk);
  }
}

/** Mean absolute difference per channel between two images resized to the same size. */
async function meanDifference(a: Buffer, b: Sharp | Buffer, width: number, height: number): Promise<number> {
  const raw = async (image: Sharp) =>
    image.resize(width, height, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  const [pa, pb] = await Promise.all([raw(sharp(a)), raw(Buffer.isBuffer(b) ? sharp(b) : b)]);
  let sum = 0;
  for (let i = 0; i < pa.length; i++) sum += Math.abs(pa[i]! - pb[i]!);
  return sum / pa.length;
}

/** Channel statistics of sharp's own 8-bit sRGB decode (`stats()` reads the input, so materialise it first). */
async function referenceStats(file: string): Promise<Stats> {
  return sharp(await sharp(file).toColourspace('srgb').png().toBuffer()).stats();
}

function byName(variants: ProcessedVariant[], name: VariantName): ProcessedVariant {
  const variant = variants.find((v) => v.name === name);
  if (!variant) throw new Error(`no ${name} variant`);
  return variant;
}

/** Runs `work`, expects a permanent INVALID_IMAGE, and returns it with the time taken. */
async function expectPermanent(work: Promise<unknown>): Promise<{ error: LegimError; ms: number }> {
  const started = performance.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(LegimError.is(error), String(error)).toBe(true);
  const legim = error as LegimError;
  expect(legim.code).toBe('INVALID_IMAGE');
  expect(legim.details).toMatchObject({ permanent: true });
  expect(isPermanentProcessingError(legim)).toBe(true);
  expect(legim.message).not.toMatch(/^\s*$/);
  return { error: legim, ms };
}

describe('processImage: accepted images', () => {
  it.each(ACCEPTED)('%s gives thumb, small and webp of the right size, clean', async (file, width, height) => {
    const variants = await processImage(fixture(file), DEFAULTS);
    expect(variants.map((v) => v.name)).toEqual(['thumb', 'small', 'webp']);
    for (const variant of variants) {
      expect(variant.contentType).toBe('image/webp');
      expect(variant.extension).toBe('webp');
      expectFits(variant, width, height, EDGES[variant.name]);
      await expectClean(variant);
    }
  });

  it('tiny-1x1.png gives 1x1 variants', async () => {
    const variants = await processImage(fixture('tiny-1x1.png'), DEFAULTS);
    expect(variants.map((v) => [v.width, v.height])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
  });

  it('caps the webp variant at webpMaxEdge', async () => {
    const variants = await processImage(fixture('photo-large-bird-6028x3391.jpg'), {
      variants: ['webp'],
      maxPixels: MAX_PIXELS,
      webpMaxEdge: 2000,
    });
    expect(variants).toHaveLength(1);
    expectFits(variants[0]!, 6028, 3391, 2000);
    expect([variants[0]!.width, variants[0]!.height]).toEqual([2000, 1125]);
  });

  it('makes AVIF only when asked, in the order asked', async () => {
    expect(DEFAULT_VARIANTS).not.toContain('avif');
    const variants = await processImage(fixture('jpeg-exif-gps.jpg'), {
      variants: ['avif', 'thumb'],
      maxPixels: MAX_PIXELS,
    });
    expect(variants.map((v) => v.name)).toEqual(['avif', 'thumb']);
    const avif = variants[0]!;
    expect([avif.contentType, avif.extension]).toEqual(['image/avif', 'avif']);
    expectFits(avif, 1024, 693, DEFAULT_WEBP_MAX_EDGE);
    await expectClean(avif);
    expect((await sharp(avif.data).metadata()).compression).toBe('av1');
    expect(avif.data.includes('LGM-SN-0001')).toBe(false);
  });

  it('is deterministic: the same bytes give the same variants (idempotent jobs)', async () => {
    const [a, b] = await Promise.all([
      processImage(fixture('jpeg-progressive.jpg'), DEFAULTS),
      processImage(fixtureBytes('jpeg-progressive.jpg'), DEFAULTS),
    ]);
    expect(a.map((v) => v.sha256)).toEqual(b.map((v) => v.sha256));
  });
});

describe('processImage: input is streamed', () => {
  it('takes a fs.createReadStream and gives the same variants as the file path', async () => {
    const file = fixture('photo-mountains-3264x2448.jpg');
    const fromStream = await processImage(createReadStream(file, { highWaterMark: 16 * 1024 }), DEFAULTS);
    const fromPath = await processImage(file, DEFAULTS);
    expect(fromStream.map((v) => [v.name, v.width, v.height, v.sha256])).toEqual(
      fromPath.map((v) => [v.name, v.width, v.height, v.sha256]),
    );
  });

  it('rejects with the stream’s own (transient) error when the input stream fails', async () => {
    const broken = new Error('connection to the storage node was reset');
    const bytes = fixtureBytes('photo-small-flower-1600x1203.jpg');
    const input = new Readable({ read() {} });
    input.push(bytes.subarray(0, 20_000));
    setTimeout(() => input.destroy(broken), 20);
    const error = await processImage(input, DEFAULTS).catch((e: unknown) => e);
    expect(error).toBe(broken);
    expect(isPermanentProcessingError(error)).toBe(false);
  });

  it('takes any byte stream, e.g. Readable.from(chunks of Uint8Array)', async () => {
    const bytes = fixtureBytes('jpeg-progressive.jpg');
    const chunks = [new Uint8Array(bytes.subarray(0, 1000)), bytes.subarray(1000, 50_000), bytes.subarray(50_000)];
    const [fromChunks, fromPath] = await Promise.all([
      processImage(Readable.from(chunks), DEFAULTS),
      processImage(fixture('jpeg-progressive.jpg'), DEFAULTS),
    ]);
    expect(fromChunks.map((v) => v.sha256)).toEqual(fromPath.map((v) => v.sha256));
  });

  it('refuses a stream of objects with a plain error instead of crashing the process', async () => {
    const error = await processImage(Readable.from([{ not: 'bytes' }]), DEFAULTS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/must yield bytes/);
  });

  it('refuses a stream that is not an image', async () => {
    const input = createReadStream(fixture('bad-html-named.png'));
    const { error } = await expectPermanent(processImage(input, DEFAULTS));
    expect(error.details).toMatchObject({ reason: 'unsupported-format' });
  });
});

describe('processImage: orientation', () => {
  it('applies EXIF Orientation=6: an 800x1200 stored photo gives upright landscape variants', async () => {
    const file = fixture('jpeg-exif-orientation-6.jpg');
    const variants = await processImage(file, DEFAULTS);
    expect(variants.map((v) => [v.name, v.width, v.height])).toEqual([
      ['thumb', 256, 171],
      ['small', 1024, 683],
      ['webp', 1200, 800],
    ]);
    // Upright: the pixels match the rotated reference, not the same rotated the other way.
    const thumb = byName(variants, 'thumb');
    const upright = await meanDifference(thumb.data, sharp(file).rotate(90), thumb.width, thumb.height);
    const upsideDown = await meanDifference(thumb.data, sharp(file).rotate(270), thumb.width, thumb.height);
    expect(upright).toBeLessThan(6);
    expect(upsideDown).toBeGreaterThan(upright * 3);
  });
});

describe('processImage: metadata is stripped', () => {
  /** Printable runs of 6+ characters in the source's EXIF and XMP: make, model, serial, artist, dates, GPS... */
  async function privateStrings(file: string): Promise<string[]> {
    const { exif, xmp } = await sharp(fixture(file)).metadata();
    const text = Buffer.concat([exif ?? Buffer.alloc(0), xmp ?? Buffer.alloc(0)]).toString('latin1');
    return [...new Set(text.match(/[\x20-\x7e]{6,}/g) ?? [])].filter((s) => s.trim().length >= 6);
  }

  it.each(['jpeg-exif-gps.jpg', 'photo-camera-exif-dune-1680x1050.jpg'])(
    '%s: no EXIF, GPS, XMP, serial, artist or camera in any variant',
    async (file) => {
      const secrets = await privateStrings(file);
      if (file === 'jpeg-exif-gps.jpg') {
        expect(secrets.join('\n')).toContain('LGM-SN-0001'); // the check below is not vacuous
        secrets.push('LGM-SN-0001', 'LegimTestCam', 'GPS Fixture 1', 'Legim fixture (public)', 'GPSLatitude');
      } else {
        expect(secrets.join('\n')).toContain('Canon');
      }
      const variants = await processImage(fixture(file), { ...DEFAULTS, variants: ['thumb', 'small', 'webp', 'avif'] });
      for (const variant of variants) {
        await expectClean(variant);
        for (const secret of secrets) expect(variant.data.includes(secret), `${variant.name}: ${secret}`).toBe(false);
        expect(variant.data.includes('Exif\0')).toBe(false);
        expect(variant.data.includes('ns.adobe.com')).toBe(false);
      }
    },
  );

  it.each(['bad-polyglot-jpeg-zip.jpg', 'bad-trailing-garbage.jpg'])(
    '%s: bytes after the image never reach a variant',
    async (file) => {
      const bytes = fixtureBytes(file);
      const tail = bytes.subarray(bytes.length - 64, bytes.length - 32);
      for (const variant of await processImage(fixture(file), DEFAULTS)) {
        expect(variant.data.includes(Buffer.from('PK\x03\x04', 'latin1'))).toBe(false);
        expect(variant.data.includes(tail)).toBe(false);
      }
    },
  );
});

describe('processImage: colour, depth and alpha', () => {
  it('keeps alpha: png-alpha variants have 4 channels and real transparency', async () => {
    const started = performance.now();
    const variants = await processImage(fixture('png-alpha.png'), DEFAULTS);
    // ~0.1 s; WebP effort 6 would spend 2 s compressing the alpha plane of the thumbnail alone.
    expect(performance.now() - started).toBeLessThan(1000);
    for (const variant of variants) {
      const metadata = await sharp(variant.data).metadata();
      expect(metadata.channels).toBe(4);
      expect(metadata.hasAlpha).toBe(true);
      const alpha = (await sharp(variant.data).stats()).channels[3]!;
      expect(alpha.min).toBe(0); // fully transparent edges
      expect(alpha.max).toBe(255); // opaque centre
    }
  });

  it('converts CMYK to 3-channel sRGB with natural colours (not inverted, not blank)', async () => {
    const file = fixture('jpeg-cmyk.jpg');
    const variants = await processImage(file, DEFAULTS);
    const reference = await referenceStats(file);
    for (const variant of variants) {
      const metadata = await sharp(variant.data).metadata();
      expect([metadata.channels, metadata.space]).toEqual([3, 'srgb']);
      const stats = await sharp(variant.data).stats();
      for (const c of [0, 1, 2]) {
        expect(Math.abs(stats.channels[c]!.mean - reference.channels[c]!.mean)).toBeLessThan(6);
        expect(stats.channels[c]!.stdev).toBeGreaterThan(10); // not blank
      }
      // A ladybird: red dominates blue; an inverted decode would be cyan-blue.
      expect(stats.channels[0]!.mean).toBeGreaterThan(stats.channels[2]!.mean);
    }
    const thumb = byName(variants, 'thumb');
    const natural = await meanDifference(thumb.data, sharp(file), thumb.width, thumb.height);
    const inverted = await meanDifference(thumb.data, sharp(file).negate(), thumb.width, thumb.height);
    expect(natural).toBeLessThan(6);
    expect(inverted).toBeGreaterThan(40);
  });

  it('turns 16-bit PNG into 8-bit variants with the same colours', async () => {
    const file = fixture('png-16bit.png');
    expect((await sharp(file).metadata()).depth).toBe('ushort');
    const reference = await referenceStats(file);
    for (const variant of await processImage(file, DEFAULTS)) {
      const metadata = await sharp(variant.data).metadata();
      expect([metadata.depth, metadata.channels]).toEqual(['uchar', 3]);
      const stats = await sharp(variant.data).stats();
      for (const c of [0, 1, 2])
        expect(Math.abs(stats.channels[c]!.mean - reference.channels[c]!.mean)).toBeLessThan(4);
    }
  });

  it('turns a 64-colour palette PNG into full colour', async () => {
    const variants = await processImage(fixture('png-palette.png'), DEFAULTS);
    const thumb = byName(variants, 'thumb');
    const { data, info } = await sharp(thumb.data).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 3) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    expect(colours.size).toBeGreaterThan(256); // resized in RGB, not in the 64-entry palette
  });
});

describe('processImage: animated images give the first frame (README.md)', () => {
  it('gif-animated-8-frames: still variants of frame 1, not upscaled', async () => {
    const file = fixture('gif-animated-8-frames.gif');
    expect((await sharp(file).metadata()).pages).toBe(8);
    const variants = await processImage(file, DEFAULTS);
    for (const variant of variants) {
      expect([variant.width, variant.height]).toEqual([240, 160]);
      expect((await sharp(variant.data).metadata()).pages ?? 1).toBe(1);
      expect(webpChunks(variant.data)).not.toContain('ANIM');
      const first = await meanDifference(variant.data, sharp(file, { page: 0 }), 240, 160);
      const second = await meanDifference(variant.data, sharp(file, { page: 1 }), 240, 160);
      expect(first).toBeLessThan(4);
      expect(second).toBeGreaterThan(first + 10);
    }
  });
});

describe('processImage: refused inputs fail fast and permanently', () => {
  it.each(['bad-png-bomb-30000x30000.png', 'bad-png-huge-declared-truncated.png'])(
    '%s: over maxPixels, refused from the header in < 2 s',
    async (file) => {
      for (const input of [fixture(file), createReadStream(fixture(file))] as ImageInput[]) {
        const { error, ms } = await expectPermanent(processImage(input, DEFAULTS));
        expect(error.details).toMatchObject({ reason: 'too-many-pixels' });
        expect(error.message).toContain(String(MAX_PIXELS));
        expect(ms).toBeLessThan(2000);
      }
    },
  );

  it('bad-png-huge-declared-truncated.png under a higher limit: fails on the missing data in < 2 s', async () => {
    const { error, ms } = await expectPermanent(
      processImage(fixture('bad-png-huge-declared-truncated.png'), { ...DEFAULTS, maxPixels: 300_000_000 }),
    );
    expect(error.details?.['reason']).toMatch(/^(truncated|corrupt)$/);
    expect(ms).toBeLessThan(2000);
  });

  it('a legitimate photo over maxPixels is refused too', async () => {
    const { error } = await expectPermanent(
      processImage(fixture('photo-large-bird-6028x3391.jpg'), { ...DEFAULTS, maxPixels: 10_000_000 }),
    );
    expect(error.details).toMatchObject({ reason: 'too-many-pixels', maxPixels: 10_000_000 });
  });

  it('bad-truncated-half.jpg: a clear permanent error in < 2 s, never a half-grey thumbnail', async () => {
    for (const input of [fixture('bad-truncated-half.jpg'), createReadStream(fixture('bad-truncated-half.jpg'))]) {
      const { error, ms } = await expectPermanent(processImage(input, DEFAULTS));
      expect(error.details).toMatchObject({ reason: 'truncated' });
      expect(error.message).toMatch(/truncated/);
      expect(ms).toBeLessThan(2000);
    }
  });

  it.each([
    ['jpeg-progressive.jpg', 0.6],
    ['photo-small-flower-1600x1203.jpg', 0.9],
    ['png-palette.png', 0.5],
    ['png-alpha.png', 0.9],
    ['webp-photo.webp', 0.7],
    ['avif-photo.avif', 0.7],
    ['tiff-lzw.tif', 0.5],
  ])('%s cut to %d of its bytes is refused permanently', async (file, fraction) => {
    const bytes = fixtureBytes(file);
    const { ms } = await expectPermanent(
      processImage(bytes.subarray(0, Math.floor(bytes.length * fraction)), DEFAULTS),
    );
    expect(ms).toBeLessThan(2000);
  });

  it.each(['bad-empty-0-bytes.jpg', 'bad-text-named.jpg', 'bad-html-named.png'])(
    '%s: not an image, as a path, bytes or stream',
    async (file) => {
      for (const input of [fixture(file), fixtureBytes(file), createReadStream(fixture(file))] as ImageInput[]) {
        const { error } = await expectPermanent(processImage(input, DEFAULTS));
        expect(error.details?.['reason']).toMatch(/^(empty|unsupported-format)$/);
      }
    },
  );

  it.each(['svg-harmless.svg', 'svg-with-script.svg'])(
    '%s: SVG is not rasterised (the store refuses SVG)',
    async (file) => {
      const { error } = await expectPermanent(processImage(fixture(file), DEFAULTS));
      expect(error.details).toMatchObject({ reason: 'unsupported-format' });
      expect(error.message).toContain('SVG');
    },
  );

  it('a missing file is a transient error, not a bad image', async () => {
    const error = await processImage(fixture('no-such-file.jpg'), DEFAULTS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isPermanentProcessingError(error)).toBe(false);
  });
});

describe('processImage: options', () => {
  it.each([
    [{ variants: [] }, /variants/],
    [{ variants: ['huge' as VariantName] }, /unknown: huge/],
    [{ maxPixels: 0 }, /maxPixels/],
    [{ maxPixels: Number.NaN }, /maxPixels/],
    [{ webpMaxEdge: 20_000 }, /webpMaxEdge/],
  ])('refuses %j', async (override, message) => {
    const error = await processImage(fixture('tiny-1x1.png'), { ...DEFAULTS, ...override }).catch((e: unknown) => e);
    expect(LegimError.is(error) && error.code).toBe('INVALID_OPTION');
    expect((error as Error).message).toMatch(message);
    expect(isPermanentProcessingError(error)).toBe(false);
  });

  it('names every variant in VARIANTS with its own spec', () => {
    for (const [name, spec] of Object.entries(VARIANTS)) expect(spec.name).toBe(name);
  });
});
