import type { AvifOptions, WebpOptions } from 'sharp';

/** The variants a stored image can have. `avif` is opt-in: it is not in {@link DEFAULT_VARIANTS}. */
export type VariantName = 'thumb' | 'small' | 'webp' | 'avif';

export type VariantContentType = 'image/webp' | 'image/avif';

export type VariantExtension = 'webp' | 'avif';

/** How a variant is encoded: the sharp output format and its options. */
export type VariantEncoder = { format: 'webp'; options: WebpOptions } | { format: 'avif'; options: AvifOptions };

/**
 * One variant: the box it fits inside and how it is encoded. Every variant
 * keeps the aspect ratio, is never upscaled, is upright (EXIF orientation
 * applied), sRGB, 8 bits per channel, keeps alpha and carries no metadata.
 */
export interface VariantSpec {
  readonly name: VariantName;
  /**
   * Longest edge in pixels (fit inside `maxEdge` x `maxEdge`), or `'full'`
   * for the full size capped at `ProcessImageOptions.webpMaxEdge`.
   */
  readonly maxEdge: number | 'full';
  readonly contentType: VariantContentType;
  readonly extension: VariantExtension;
  readonly encoder: VariantEncoder;
}

/** Default cap on the longest edge of the full-size variants (`webp`, `avif`). */
export const DEFAULT_WEBP_MAX_EDGE = 4096;

/** WebP cannot encode an edge longer than this (libwebp's `WEBP_MAX_DIMENSION`). */
export const WEBP_MAX_DIMENSION = 16383;

/**
 * Encoder settings were chosen by measurement on this project's 2-core
 * machine; the numbers are in `README.md` beside this file. In short:
 * libwebp's effort (`method`) 3 and up switches on rate-distortion
 * optimisation, which doubles the encode time of a large image for 3-5 %
 * fewer bytes, so the full-size variant uses effort 2. At 1024 px and below
 * the encode is a small part of the job, so those use libwebp's default 4.
 */
export const VARIANTS: Readonly<Record<VariantName, VariantSpec>> = {
  thumb: {
    name: 'thumb',
    maxEdge: 256,
    contentType: 'image/webp',
    extension: 'webp',
    // Not effort 5-6: they save 2-6 % on photos but compress alpha at libwebp's slowest lossless
    // setting, measured at 2.2 s for a 256 px RGBA thumbnail (35 ms at effort 4).
    encoder: { format: 'webp', options: { quality: 80, effort: 4 } },
  },
  small: {
    name: 'small',
    maxEdge: 1024,
    contentType: 'image/webp',
    extension: 'webp',
    // WebP rather than JPEG: ~20 % fewer bytes than mozjpeg at the same PSNR, no slower to
    // encode, and it keeps alpha (a JPEG would have to flatten png-alpha onto a colour).
    encoder: { format: 'webp', options: { quality: 80, effort: 4 } },
  },
  webp: {
    name: 'webp',
    maxEdge: 'full',
    contentType: 'image/webp',
    extension: 'webp',
    // Effort 2: half the encode time of the default effort 4 for 3-5 % more bytes.
    // Quality 75: 15-25 % fewer bytes than 80; at full size the loss is rarely visible.
    encoder: { format: 'webp', options: { quality: 75, effort: 2 } },
  },
  avif: {
    name: 'avif',
    maxEdge: 'full',
    contentType: 'image/avif',
    extension: 'avif',
    // Effort 0 (aom's fastest speed): ~1 s for 8 MP instead of ~20 s at the default effort 4,
    // and still ~20 % fewer bytes than the webp variant at a similar PSNR.
    encoder: { format: 'avif', options: { quality: 55, effort: 0 } },
  },
};

/** The variants made for every upload unless configured otherwise. */
export const DEFAULT_VARIANTS: readonly VariantName[] = ['thumb', 'small', 'webp'];

export function isVariantName(value: unknown): value is VariantName {
  return typeof value === 'string' && Object.hasOwn(VARIANTS, value);
}

/** The longest edge a variant may have, with `'full'` resolved to the configured cap. */
export function variantMaxEdge(spec: VariantSpec, fullSizeMaxEdge: number): number {
  return spec.maxEdge === 'full' ? fullSizeMaxEdge : spec.maxEdge;
}
