import type { LegimError } from '@legim/sdk';
import { svgRefused, unsupported } from './errors.js';
import { gif } from './gif.js';
import { avif } from './isobmff.js';
import { jpeg } from './jpeg.js';
import { png } from './png.js';
import { tiff } from './tiff.js';
import type { ImageFormat } from './types.js';
import { webp } from './webp.js';

/** Every accepted format; the upload's first bytes pick one. */
export const IMAGE_FORMATS: readonly ImageFormat[] = [jpeg, png, gif, webp, avif, tiff];

/** How far a markup document is read looking for `<svg`, to give the SVG-specific refusal. */
export const MARKUP_SNIFF_BYTES = 4096;

export type Detection =
  { kind: 'format'; format: ImageFormat } | { kind: 'refused'; error: LegimError } | { kind: 'more' };

/**
 * Decides the type of an upload from its first bytes. `ended` says no more
 * bytes will come, so `more` is no longer an answer. The same bytes give the
 * same answer however they were split into chunks.
 */
export function detect(prefix: Buffer, ended: boolean): Detection {
  let undecided = false;
  for (const format of IMAGE_FORMATS) {
    const answer = format.sniff(prefix);
    if (answer === 'yes') return { kind: 'format', format };
    if (answer === 'more') undecided = true;
  }
  if (undecided && !ended) return { kind: 'more' };
  const text = prefix.toString('latin1');
  if (!ended && prefix.length < MARKUP_SNIFF_BYTES && /^(\xef\xbb\xbf\s*|\xef\xbb|\xef|\s*)$/.test(text)) {
    return { kind: 'more' }; // only a byte order mark or whitespace so far: markup may follow
  }
  if (isMarkup(text)) {
    if (/<svg[\s>]/i.test(text)) return { kind: 'refused', error: svgRefused() };
    if (!ended && prefix.length < MARKUP_SNIFF_BYTES) return { kind: 'more' };
    return { kind: 'refused', error: unsupported('the upload looks like HTML or XML, not an image') };
  }
  return { kind: 'refused', error: unsupported(describe(prefix, text)) };
}

/** Optional UTF-8 byte order mark and whitespace, then `<`. */
function isMarkup(text: string): boolean {
  return /^(\xef\xbb\xbf)?\s*</.test(text);
}

function describe(prefix: Buffer, text: string): string {
  if (text.startsWith('PK\x03\x04')) return 'the upload looks like a ZIP archive, not an image';
  if (text.startsWith('%PDF')) return 'the upload looks like a PDF document, not an image';
  if (text.startsWith('\x1f\x8b')) return 'the upload looks like gzip data, not an image';
  if (text.slice(4, 8) === 'ftyp') {
    return `the upload is an ISO media file of brand ${JSON.stringify(text.slice(8, 12))}, not AVIF`;
  }
  if (prefix.length > 0 && isText(prefix)) return 'the upload looks like text, not an image';
  return 'the upload is not an image of a known type';
}

/**
 * Printable ASCII/UTF-8 and common whitespace only. Only the first 8 bytes
 * count: the type can be decided that early, and the message must not depend
 * on how the upload was split into chunks.
 */
function isText(prefix: Buffer): boolean {
  for (const byte of prefix.subarray(0, 8)) {
    if (byte < 0x09 || (byte > 0x0d && byte < 0x20) || byte === 0x7f) return false;
  }
  return true;
}
