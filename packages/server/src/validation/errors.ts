import { LegimError } from '@legim/sdk';

/** Error builders shared by the format parsers, so every message has the same shape. */

export const ACCEPTED_TYPES = 'JPEG, PNG, GIF, WebP, AVIF and TIFF';

export function emptyBody(): LegimError {
  return new LegimError('EMPTY_BODY', 'the upload is empty: send the image bytes as the request body');
}

export function unsupported(what: string): LegimError {
  return new LegimError(
    'UNSUPPORTED_MEDIA_TYPE',
    `${what}: accepted types are ${ACCEPTED_TYPES}, recognised from the file's bytes (its name and Content-Type are ignored)`,
  );
}

export function svgRefused(): LegimError {
  return new LegimError(
    'UNSUPPORTED_MEDIA_TYPE',
    `SVG is refused because it can carry scripts: convert it to PNG or WebP first (accepted types are ${ACCEPTED_TYPES})`,
  );
}

/** The bytes break the format's structure. */
export function corrupt(format: string, problem: string): LegimError {
  return new LegimError(
    'INVALID_IMAGE',
    `the ${format} image is corrupt: ${problem}; re-export the image and upload it again`,
  );
}

/** The structure is sound so far but the upload stopped early. */
export function truncated(format: string, problem: string): LegimError {
  return new LegimError('INVALID_IMAGE', `the ${format} image is truncated: ${problem}; upload the complete file`);
}

export function tooManyPixels(width: number, height: number, maxPixels: number): LegimError {
  return new LegimError(
    'IMAGE_TOO_LARGE',
    `the image is ${width}x${height} (${width * height} pixels), more than the limit of ${maxPixels} pixels: downscale it before uploading`,
    { details: { width, height, maxPixels } },
  );
}

export function tooManyBytes(maxBytes: number): LegimError {
  return new LegimError('PAYLOAD_TOO_LARGE', `the upload is larger than the limit of ${maxBytes} bytes`, {
    details: { maxBytes },
  });
}
