import type { FileRecord } from '../metadata/types.js';

/**
 * Headers for an original. Limited files must never be served again by a
 * cache, and the bytes must never be sniffed into something executable.
 */
export function downloadHeaders(file: FileRecord, downloadsLeft: number): Record<string, string | number> {
  return {
    'Content-Type': file.contentType,
    'Content-Length': file.size,
    ETag: `"${file.sha256}"`,
    'Legim-Downloads-Left': downloadsLeft,
    'Cache-Control': 'no-store, private',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Content-Disposition': contentDisposition(file),
  };
}

function contentDisposition(file: FileRecord): string {
  const base = file.title.replace(/\.[A-Za-z0-9]{1,5}$/, '') || file.id;
  const name = `${base}.${file.extension}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
