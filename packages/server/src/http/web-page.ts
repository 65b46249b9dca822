import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { matchesEntityTag } from '../download/conditional-request.js';
import type { ReplyHeaders } from './reply.js';

/** The page's files live in `web/`, beside both `src/` and `dist/`. */
const WEB_DIR = new URL('../../web/', import.meta.url);

export type WebFile = 'index.html' | 'app.js' | 'app.css' | 'share.js';

/** Scripts and styles come only from the gateway itself; the thumbnail is shown from a blob URL. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: ReplyHeaders = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

// The page links its assets with their version in the URL, so a short
// max-age never mixes a new page with an old script.
const PAGE_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=300';

interface Asset {
  body: Buffer;
  etag: string;
  contentType: string;
  cacheControl: string;
}

export interface WebPageOptions {
  /** Written into the page so the browser refuses a too-large file before sending it. */
  maxUploadBytes: number;
  /** Where the files are; the package's `web/` by default. */
  dir?: URL;
}

/** The browser upload page served at `/` and the share page's assets (docs/api.md): read once at startup, served from memory. */
export class WebPage {
  private constructor(private readonly assets: Record<WebFile, Asset>) {}

  static load(options: WebPageOptions): WebPage {
    const dir = options.dir ?? WEB_DIR;
    const script = asset(read(dir, 'app.js'), 'text/javascript; charset=utf-8', ASSET_CACHE);
    const style = asset(read(dir, 'app.css'), 'text/css; charset=utf-8', ASSET_CACHE);
    const shareScript = asset(read(dir, 'share.js'), 'text/javascript; charset=utf-8', ASSET_CACHE);
    const html = fillPlaceholders(read(dir, 'index.html').toString('utf8'), {
      maxUploadBytes: String(options.maxUploadBytes),
      'version:app.js': version(script),
      'version:app.css': version(style),
    });
    return new WebPage({
      'index.html': asset(Buffer.from(html, 'utf8'), 'text/html; charset=utf-8', PAGE_CACHE),
      'app.js': script,
      'app.css': style,
      'share.js': shareScript,
    });
  }

  /** The version a page links an asset with (`?v=`), so a new asset is never mixed with an old page. */
  version(name: WebFile): string {
    return version(this.assets[name]);
  }

  /** One of the page's files, or `304` when the client's copy (`If-None-Match`) is current. */
  answer(name: WebFile, ifNoneMatch: string | undefined): { status: 200 | 304; headers: ReplyHeaders; bytes?: Buffer } {
    const file = this.assets[name];
    const headers = {
      ...SECURITY_HEADERS,
      'Content-Type': file.contentType,
      'Cache-Control': file.cacheControl,
      ETag: file.etag,
    };
    if (matchesEntityTag(ifNoneMatch, file.etag)) return { status: 304, headers };
    return { status: 200, headers, bytes: file.body };
  }
}

function asset(body: Buffer, contentType: string, cacheControl: string): Asset {
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 32);
  return { body, etag: `"${digest}"`, contentType, cacheControl };
}

function version(file: Asset): string {
  return file.etag.slice(1, 17);
}

function read(dir: URL, name: string): Buffer {
  const path = fileURLToPath(new URL(name, dir));
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`the web page's file ${path} cannot be read; is the package's web/ folder installed?`, {
      cause: error,
    });
  }
}

/** Replaces `{{name}}`; an unknown name is a mistake in the page, caught at startup. */
function fillPlaceholders(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([\w:.-]+)\}\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`index.html has an unknown placeholder {{${name}}}`);
    return value;
  });
}
