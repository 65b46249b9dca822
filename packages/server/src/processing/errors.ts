import { LegimError } from '@legim/sdk';

/** Why an image can never be processed; in `details.reason` of a permanent `INVALID_IMAGE`. */
export type InvalidImageReason = 'empty' | 'unsupported-format' | 'too-many-pixels' | 'truncated' | 'corrupt';

/**
 * An input that will never succeed, however often it is retried: the queue
 * dead-letters it at once. Recognise it with {@link isPermanentProcessingError}.
 */
export function invalidImage(
  reason: InvalidImageReason,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): LegimError {
  return new LegimError('INVALID_IMAGE', message, {
    cause: options.cause,
    details: { ...options.details, permanent: true, reason },
  });
}

/** True for the errors that retrying cannot fix (a bad image); false for transient ones (I/O, memory). */
export function isPermanentProcessingError(error: unknown): error is LegimError {
  return LegimError.is(error) && error.details?.['permanent'] === true;
}

export function tooManyPixels(width: number, height: number, maxPixels: number): LegimError {
  return invalidImage(
    'too-many-pixels',
    `the image is ${width}x${height} (${width * height} pixels), more than the processing limit of ${maxPixels} pixels: downscale it and upload it again`,
    { details: { width, height, maxPixels } },
  );
}

export function unsupportedFormat(format: string): LegimError {
  return invalidImage(
    'unsupported-format',
    `variants are not made from ${format} images: upload a JPEG, PNG, GIF, WebP, AVIF or TIFF image`,
  );
}

/** Resource and I/O failures: the same image may well succeed on a retry. */
const TRANSIENT =
  /out of memory|cannot allocate|ENOMEM|EMFILE|ENFILE|EAGAIN|EIO\b|Input file is missing|unable to open|permission denied|timeout/i;
const TRUNCATED = /premature end|truncat|unexpected end|end of (file|data|stream)/i;
const PIXEL_LIMIT = /exceeds pixel limit/i;
const NOT_AN_IMAGE = /unsupported image format|is empty/i;

/**
 * Classifies an error raised by sharp while it read the header or decoded the
 * pixels of the input. Decoding is deterministic, so a decoder error means
 * the bytes are bad (permanent) unless it is a resource or I/O failure.
 * Encoding, by contrast, starts from pixels we produced ourselves, so its
 * errors are never blamed on the image (see `process-image.ts`).
 */
export function decodeFailure(error: unknown, maxPixels: number): Error {
  if (!(error instanceof Error)) return new Error(`decoding the image failed: ${String(error)}`, { cause: error });
  if (LegimError.is(error)) return error;
  const problem = summary(error.message);
  if (TRANSIENT.test(error.message)) return error;
  if (PIXEL_LIMIT.test(error.message)) {
    return invalidImage(
      'too-many-pixels',
      `the image has more than the processing limit of ${maxPixels} pixels: downscale it and upload it again`,
      { cause: error, details: { maxPixels } },
    );
  }
  if (NOT_AN_IMAGE.test(error.message)) {
    return invalidImage('unsupported-format', `the bytes are not an image that can be decoded (${problem})`, {
      cause: error,
    });
  }
  if (TRUNCATED.test(error.message)) {
    return invalidImage('truncated', `the image is truncated (${problem}): upload the complete file again`, {
      cause: error,
    });
  }
  return invalidImage('corrupt', `the image cannot be decoded (${problem}): re-export it and upload it again`, {
    cause: error,
  });
}

/** libvips stacks one line per failed step (e.g. a run of "bad seek" lines before the loader's verdict): keep the verdict. */
function summary(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const line = lines.find((l) => !/^source: bad seek/i.test(l)) ?? lines[0] ?? message;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
