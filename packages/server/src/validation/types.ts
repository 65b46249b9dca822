/** Media types the gateway accepts, decided from the bytes alone. */
export type ImageContentType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp' | 'image/avif' | 'image/tiff';

/** File extension served with each accepted type (`Content-Disposition` file names). */
export type ImageExtension = 'jpg' | 'png' | 'gif' | 'webp' | 'avif' | 'tif';

/**
 * What the first bytes of an upload tell: its type and its stored pixel size
 * (for JPEG/TIFF this ignores EXIF orientation: an Orientation=6 photo stored
 * as 800x1200 reports 800x1200).
 */
export interface ImageHeader {
  contentType: ImageContentType;
  extension: ImageExtension;
  width: number;
  height: number;
}

/** A structurally complete upload: its header plus the number of bytes received. */
export interface InspectedImage extends ImageHeader {
  bytes: number;
}

/** Limits applied while inspecting an upload. */
export interface InspectOptions {
  /** Largest accepted `width * height`; more is `IMAGE_TOO_LARGE` (413). Default 100 megapixels. */
  maxPixels?: number;
  /** Largest accepted upload in bytes; more is `PAYLOAD_TOO_LARGE` (413). Default: no limit. */
  maxBytes?: number;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Answer of a format's signature check on the first bytes of an upload. */
export type SniffResult = 'yes' | 'no' | 'more';

/** Called by a parser once it has read the stored dimensions; may throw to stop the upload. */
export type HeaderSink = (width: number, height: number) => void;

/**
 * One streaming parser per upload. `push` sees every byte in order (from the
 * first byte of the file), in chunks split anywhere; `finish` throws a
 * `LegimError` when the structure is incomplete. Memory must stay bounded
 * whatever the upload size.
 */
export interface FormatParser {
  push(chunk: Buffer): void;
  finish(): void;
}

/**
 * A supported image format: its signature test and a parser factory. Adding
 * a format is one file exporting one of these plus a line in `formats.ts`.
 */
export interface ImageFormat {
  /** Human name used in error messages, e.g. `JPEG`. */
  readonly name: string;
  readonly contentType: ImageContentType;
  readonly extension: ImageExtension;
  /** Judges the first bytes (a prefix of the upload, possibly shorter than the signature). */
  sniff(prefix: Buffer): SniffResult;
  createParser(onHeader: HeaderSink): FormatParser;
}
