import { createHash } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import sharp from 'sharp';
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { decodeFailure, tooManyPixels, unsupportedFormat } from './errors.js';
import { openSource } from './source.js';
import type { ImageInput } from './source.js';
import { DEFAULT_WEBP_MAX_EDGE, VARIANTS, WEBP_MAX_DIMENSION, isVariantName, variantMaxEdge } from './variants.js';
import type { VariantContentType, VariantExtension, VariantName, VariantSpec } from './variants.js';

/** Options of {@link processImage}. */
export interface ProcessImageOptions {
  /** Variants to make, e.g. `DEFAULT_VARIANTS`. Results come back in this order. */
  variants: readonly VariantName[];
  /**
   * Largest `width * height` decoded (one frame). Checked from the header
   * before any pixel is decoded, so a decompression bomb fails fast.
   */
  maxPixels: number;
  /** Cap on the longest edge of the full-size variants (`webp`, `avif`). Default 4096, at most 16383. */
  webpMaxEdge?: number;
}

/** One encoded variant, small enough to hold in memory. */
export interface ProcessedVariant {
  name: VariantName;
  contentType: VariantContentType;
  extension: VariantExtension;
  width: number;
  height: number;
  /** Bytes in `data`. */
  size: number;
  /** Hex SHA-256 of `data`. */
  sha256: string;
  data: Buffer;
}

/** Decoded, upright, sRGB, 8-bit pixels (3 channels, or 4 with alpha). */
interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Input formats we decode (libvips has more loaders; the rest is attack surface we do not need). */
const DECODED_FORMATS = new Set(['jpeg', 'png', 'gif', 'webp', 'tiff', 'heif']);

/**
 * Makes the variants of an image: a pure function of the bytes.
 *
 * The input is decoded once, to raw pixels at the size of the largest
 * variant asked for (JPEG shrink-on-load makes that cheap when no full-size
 * variant is wanted); each smaller variant is then resized from the next
 * larger one and encoded from raw pixels, so no metadata can reach a variant.
 * EXIF orientation is applied, colour goes to sRGB (CMYK and ICC profiles
 * converted), 16-bit goes to 8-bit, alpha is kept, and only the first frame
 * of an animated or multi-page image is used (see README.md).
 *
 * A streamed input is piped into sharp, never buffered here; on failure the
 * stream is destroyed.
 *
 * @throws LegimError `INVALID_IMAGE` with `details: { permanent: true, reason }`
 *   when the bytes can never be processed (not an image, truncated, corrupt,
 *   over `maxPixels`, SVG...): dead-letter, do not retry.
 * @throws LegimError `INVALID_OPTION` for bad options.
 * @throws Error anything else (the input stream failed, out of memory...): transient, retry.
 *
 * @example
 * ```ts
 * const variants = await processImage(createReadStream(path), { variants: DEFAULT_VARIANTS, maxPixels: 100_000_000 });
 * for (const v of variants) await store.put(`${id}/${v.name}.${v.extension}`, v.data);
 * ```
 */
export async function processImage(input: ImageInput, options: ProcessImageOptions): Promise<ProcessedVariant[]> {
  const specs = resolveVariants(options.variants);
  const maxPixels = checkMaxPixels(options.maxPixels);
  const fullEdge = checkFullEdge(options.webpMaxEdge ?? DEFAULT_WEBP_MAX_EDGE);
  const box = Math.max(...specs.map((spec) => variantMaxEdge(spec, fullEdge)));

  const source = openSource(input, {
    limitInputPixels: maxPixels,
    // 'truncated' rejects a partial image instead of publishing a half-grey one; the stricter
    // 'error'/'warning' (sharp's default) also reject complete photos that every browser shows,
    // e.g. JPEGs with "extraneous bytes before marker" warnings.
    failOn: 'truncated',
    autoOrient: true,
    pages: 1,
  });
  try {
    const metadata = await Promise.race([
      source.image.metadata().catch((error: unknown) => Promise.reject(decodeFailure(error, maxPixels))),
      source.failed,
    ]);
    checkDecodable(metadata, maxPixels);
    const pixels = await decode(source.image, box, maxPixels);
    return await encodeAll(pixels, specs, fullEdge);
  } catch (error) {
    source.close();
    throw error;
  }
}

function resolveVariants(names: readonly VariantName[]): VariantSpec[] {
  const unique = [...new Set(names)];
  const unknown = unique.filter((name) => !isVariantName(name));
  if (unique.length === 0 || unknown.length > 0) {
    throw new LegimError(
      'INVALID_OPTION',
      `variants must name one or more of ${Object.keys(VARIANTS).join(', ')}` +
        (unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''),
    );
  }
  return unique.map((name) => VARIANTS[name]);
}

function checkMaxPixels(maxPixels: number): number {
  // sharp reads 0 as "no limit": refuse it rather than process a bomb.
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) {
    throw new LegimError('INVALID_OPTION', `maxPixels must be a whole number of pixels >= 1, not ${maxPixels}`);
  }
  return maxPixels;
}

function checkFullEdge(edge: number): number {
  if (!Number.isSafeInteger(edge) || edge < 1 || edge > WEBP_MAX_DIMENSION) {
    throw new LegimError(
      'INVALID_OPTION',
      `webpMaxEdge must be a whole number from 1 to ${WEBP_MAX_DIMENSION}, not ${edge}`,
    );
  }
  return edge;
}

/** Refuses, from the header alone, what we will not decode. */
function checkDecodable(metadata: Metadata, maxPixels: number): void {
  const format = String(metadata.format);
  if (!DECODED_FORMATS.has(format)) throw unsupportedFormat(format.toUpperCase());
  // Prebuilt libvips decodes AV1 HEIF (AVIF) only; HEVC (HEIC) would fail later with a vaguer error.
  if (format === 'heif' && metadata.compression !== 'av1') throw unsupportedFormat('HEIC');
  // sharp enforces limitInputPixels too; this check only gives the better message.
  if (metadata.width * metadata.height > maxPixels) throw tooManyPixels(metadata.width, metadata.height, maxPixels);
}

/** The one decode: upright, sRGB, 8-bit pixels that fit inside `box` (never enlarged). */
async function decode(image: Sharp, box: number, maxPixels: number): Promise<Pixels> {
  try {
    const { data, info } = await image
      .resize(box, box, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    throw decodeFailure(error, maxPixels);
  }
}

/**
 * Largest first, each variant resized from the previous level (a 256 px
 * thumbnail from the 1024 px pixels, not from the 20 MP ones). Encodes run
 * while the next level is resized.
 */
async function encodeAll(base: Pixels, specs: VariantSpec[], fullEdge: number): Promise<ProcessedVariant[]> {
  const largestFirst = [...specs].sort((a, b) => variantMaxEdge(b, fullEdge) - variantMaxEdge(a, fullEdge));
  const encodings = new Map<VariantName, Promise<ProcessedVariant>>();
  let level = base;
  for (const spec of largestFirst) {
    const edge = variantMaxEdge(spec, fullEdge);
    if (Math.max(level.width, level.height) > edge) level = await resize(level, edge);
    const encoding = encode(level, spec);
    // Rejections are collected below; this keeps one from counting as unhandled while a resize is awaited.
    encoding.catch(() => {});
    encodings.set(spec.name, encoding);
  }
  return Promise.all(specs.map((spec) => encodings.get(spec.name)!));
}

function fromPixels(pixels: Pixels): Sharp {
  return sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
}

async function resize(pixels: Pixels, edge: number): Promise<Pixels> {
  try {
    const { data, info } = await fromPixels(pixels)
      .resize(edge, edge, { fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    // Our own pixels: whatever failed, it is not the image's fault.
    throw new Error(`resizing the decoded image to ${edge} px failed: ${(error as Error).message}`, { cause: error });
  }
}

async function encode(pixels: Pixels, spec: VariantSpec): Promise<ProcessedVariant> {
  const image = fromPixels(pixels);
  const encoder = spec.encoder;
  const output = encoder.format === 'webp' ? image.webp(encoder.options) : image.avif(encoder.options);
  let result: { data: Buffer; info: OutputInfo };
  try {
    result = await output.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new Error(`encoding the ${spec.name} variant failed: ${(error as Error).message}`, { cause: error });
  }
  const { data, info } = result;
  return {
    name: spec.name,
    contentType: spec.contentType,
    extension: spec.extension,
    width: info.width,
    height: info.height,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    data,
  };
}
