import type { ResolvedByteRange } from '@legim/node';
import type { FileRecord } from '../metadata/types.js';

/** A file's entity tag: its SHA-256, strong (the bytes of a file id never change). */
export function entityTag(file: FileRecord): string {
  return `"${file.sha256}"`;
}

/**
 * Headers for an original. Limited files must never be served again by a
 * cache, and the bytes must never be sniffed into something executable.
 */
export function downloadHeaders(file: FileRecord, downloadsLeft: number): Record<string, string | number> {
  return {
    'Content-Type': file.contentType,
    'Content-Length': file.size,
    ETag: entityTag(file),
    'Accept-Ranges': 'bytes',
    'Legim-Downloads-Left': downloadsLeft,
    'Cache-Control': 'no-store, private',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Content-Disposition': contentDisposition(file),
  };
}

/** What a `206` adds: the part's length and where it lies in the file. */
export function partialHeaders(range: ResolvedByteRange, size: number): Record<string, string | number> {
  return {
    'Content-Length': range.end - range.start + 1,
    'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
  };
}

function contentDisposition(file: FileRecord): string {
  const base = file.title.replace(/\.[A-Za-z0-9]{1,5}$/, '') || file.id;
  const name = `${base}.${file.extension}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
