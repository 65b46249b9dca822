import type { FileInfo } from '@legim/sdk';
import { html, type SafeHtml } from './html.js';
import type { ReplyHeaders } from './reply.js';

/**
 * No inline code, and nothing but the gateway's own script, style sheet and
 * thumbnail: the page carries a title a stranger chose.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: ReplyHeaders = {
  'Content-Type': 'text/html; charset=utf-8',
  // Downloads left and the countdown are live: a copy is shown only after the gateway says it is still the page (304).
  'Cache-Control': 'no-cache',
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // For whoever holds the link, not for a search index.
  'X-Robots-Tag': 'noindex, nofollow',
};

export interface SharePageAssets {
  /** `?v=` of the style sheet and the countdown script. */
  styleVersion: string;
  scriptVersion: string;
}

/**
 * The share page of a file (`/s/:id`, and what link-preview bots get on
 * `/d/:id`): its thumbnail, size, expiry and downloads left, Open Graph and
 * Twitter card tags for previews, and a Download button (a plain link to
 * `/d/:id`: only a click takes a download). Readable without JavaScript;
 * its own links are relative, so it works under a proxy's path prefix.
 */
export function sharePage(
  file: FileInfo,
  links: { share: string; thumb: string },
  assets: SharePageAssets,
  now: number,
): { headers: ReplyHeaders; bytes: Buffer } {
  const name = file.title || 'An image';
  const description = `${kind(file)}, ${size(file.size)}, ${file.width}×${file.height} · ${left(file)} · expires ${utc(file.expiresAt)}`;
  const thumb = file.variants.thumb;
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="color-scheme" content="light dark" />
        <title>${name} · Legim</title>
        <meta name="description" content="${description}" />
        <meta property="og:type" content="website" />
        <meta property="og:site_name" content="Legim" />
        <meta property="og:title" content="${name}" />
        <meta property="og:description" content="${description}" />
        <meta property="og:url" content="${links.share}" />
        ${file.status !== 'failed' && openGraphImage(links.thumb, name, thumb)}
        <meta name="twitter:card" content="summary" />
        <meta name="twitter:title" content="${name}" />
        <meta name="twitter:description" content="${description}" />
        ${file.status !== 'failed' && html`<meta name="twitter:image" content="${links.thumb}" />`}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="../assets/app.css?v=${assets.styleVersion}" />
        <script type="module" src="../assets/share.js?v=${assets.scriptVersion}"></script>
      </head>
      <body>
        <main class="share">
          <header>
            <h1>Legim</h1>
            <p class="lede">Someone shared an image with you.</p>
          </header>
          <section class="share-card" aria-labelledby="share-title">
            ${thumb && html`<img class="share-thumb" src="../v1/files/${file.id}/variants/thumb" alt="" width="${thumb.width}" height="${thumb.height}" />`}
            <h2 id="share-title" class="share-title">${name}</h2>
            <dl>
              <dt>Size</dt>
              <dd data-role="size">${size(file.size)} · ${kind(file)} · ${file.width}×${file.height}</dd>
              <dt>Downloads left</dt>
              <dd data-role="downloads-left">${file.downloadsLeft} of ${file.maxDownloads}</dd>
              <dt>Expires</dt>
              <dd>
                <time id="expires" datetime="${file.expiresAt}">${utc(file.expiresAt)}</time>
                (<span id="countdown">${relative(Date.parse(file.expiresAt) - now)}</span>)
              </dd>
            </dl>
            <p><a id="download" class="button" href="../d/${file.id}" download rel="nofollow noopener">Download</a></p>
            <p class="share-hint">Downloading takes one of the ${left(file)}. Opening this page takes none.</p>
          </section>
        </main>
      </body>
    </html> `;
  return { headers: HEADERS, bytes: Buffer.from(page.markup, 'utf8') };
}

function openGraphImage(url: string, name: string, thumb: FileInfo['variants'][string] | undefined): SafeHtml {
  return html`<meta property="og:image" content="${url}" />
    <meta property="og:image:type" content="image/webp" />
    <meta property="og:image:alt" content="${name}" />
    ${thumb && html`<meta property="og:image:width" content="${thumb.width}" /><meta property="og:image:height" content="${thumb.height}" />`}`;
}

function kind(file: FileInfo): string {
  return (file.contentType.split('/')[1] ?? 'image').toUpperCase();
}

function left(file: FileInfo): string {
  return `${file.downloadsLeft} download${file.downloadsLeft === 1 ? '' : 's'} left`;
}

/** Decimal units, as the CLI prints them. */
function size(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function utc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** What the countdown shows before its script runs (or without it). */
function relative(ms: number): string {
  if (ms <= 0) return 'expired';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'in less than a minute';
  if (minutes < 120) return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} hours`;
  return `in ${Math.round(hours / 24)} days`;
}
