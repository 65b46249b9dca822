/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { Legim, LegimError } from '@legim/sdk';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { call, uploadBytes } from './support.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';
const SECOND_PHOTO = 'photo-small-flower-1600x1203.jpg';
/** MANIFEST.md: "reject with a clear error (415)"; its .jpg name gives it an image type in the browser. */
const NOT_AN_IMAGE = 'bad-text-named.jpg';
/** Larger than the gateway's limit below, so the page itself refuses it. */
const TOO_LARGE = 'photo-large-bird-6028x3391.jpg';
const THUMB_WIDTH = 256;

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, gateway: { maxUpload: '2MiB' } });
});
afterAll(() => cluster?.close());

describe('the upload page over HTTP', () => {
  it('serves the page with its security headers', async () => {
    const page = await call(`${cluster.gateway.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' blob: data:",
      "connect-src 'self'",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    const html = page.body.toString('utf8');
    expect(html).toContain('<form id="upload-form"');
    // The limit is filled in from the configuration (2 MiB), the assets carry their version.
    expect(html).toContain('data-max-upload-bytes="2097152"');
    expect(html).toMatch(/src="assets\/app\.js\?v=[0-9a-f]{16}"/);
    expect(html).not.toContain('{{');
    // The CSP forbids inline code: the page must not depend on any.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves the script and the style sheet with their types and a short max-age', async () => {
    const script = await call(`${cluster.gateway.url}/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(script.body.toString('utf8')).toContain('XMLHttpRequest');

    const style = await call(`${cluster.gateway.url}/assets/app.css?v=anything`);
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(Number(style.headers.get('content-length'))).toBe(style.body.length);
  });

  it('answers 304 to a matching If-None-Match, and 200 to a stale one', async () => {
    for (const path of ['/', '/assets/app.js', '/assets/app.css']) {
      const first = await call(`${cluster.gateway.url}${path}`);
      const etag = first.headers.get('etag');
      expect(etag, path).toMatch(/^"[0-9a-f]+"$/);
      const again = await call(`${cluster.gateway.url}${path}`, { headers: { 'if-none-match': etag! } });
      expect(again.status, path).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('content-security-policy')).toContain("default-src 'none'");
      const weak = await call(`${cluster.gateway.url}${path}`, { headers: { 'if-none-match': `"old", W/${etag}` } });
      expect(weak.status, path).toBe(304);
      const stale = await call(`${cluster.gateway.url}${path}`, { headers: { 'if-none-match': '"old"' } });
      expect(stale.status, path).toBe(200);
      expect(stale.body.equals(first.body)).toBe(true);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    const get = await call(`${cluster.gateway.url}/`);
    const head = await call(`${cluster.gateway.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(head.headers.get('content-length')).toBe(String(get.body.length));
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
  });

  it('answers an unknown asset with a JSON 404', async () => {
    const missing = await call(`${cluster.gateway.url}/assets/x`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(missing.json.error.code).toBe('NOT_FOUND');
    const post = await call(`${cluster.gateway.url}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.json.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

const CHROMIUM_PATHS = [
  process.env.LEGIM_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
].filter((path): path is string => Boolean(path));
const chromiumPath = CHROMIUM_PATHS.find((path) => existsSync(path));
const browserRequired = process.env.LEGIM_REQUIRE_BROWSER === '1';

if (!chromiumPath && !browserRequired) {
  it.skip(
    `the upload page in a browser: no Chromium found (looked at ${CHROMIUM_PATHS.join(', ')}); install Debian's chromium package or set LEGIM_CHROMIUM`,
  );
}

describe.runIf(chromiumPath || browserRequired)('the upload page in Chromium', () => {
  const BROWSER_TIMEOUT = 120_000;
  let browser: Browser;
  let page: Page;
  let legim: Legim;
  /** Everything the page asked the gateway for, and what the browser complained about. */
  const requests: { method: string; path: string }[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: Error[] = [];

  beforeAll(async () => {
    if (!chromiumPath) {
      throw new Error(`LEGIM_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM_PATHS.join(', ')}`);
    }
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.setDefaultTimeout(BROWSER_TIMEOUT);
    page.on('request', (request) => {
      requests.push({ method: request.method(), path: new URL(request.url()).pathname });
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error));
    legim = new Legim({ url: cluster.gateway.url });
    await page.goto(`${cluster.gateway.url}/`);
  }, BROWSER_TIMEOUT);
  afterAll(() => browser?.close());

  const cards = () => page.locator('#uploads > li');
  const errorLine = () => page.locator('#error');
  const posts = () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/files').length;

  /** Clicks Upload and resolves with the new card's link once it is shown. */
  async function upload(): Promise<string> {
    const before = await cards().count();
    await page.getByRole('button', { name: 'Upload' }).click();
    await cards().nth(before).waitFor();
    return cards().first().locator('[data-role="link"]').inputValue();
  }

  async function dropFile(name: string, type: string): Promise<void> {
    const base64 = fixtureBytes(name).toString('base64');
    await page.evaluate(
      ({ base64, name, type }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type }));
        const zone = document.getElementById('drop-zone')!;
        for (const kind of ['dragenter', 'dragover', 'drop']) {
          zone.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }));
        }
      },
      { base64, name, type },
    );
  }

  it(
    'uploads a picked photo with the chosen limit and shows its thumbnail without taking a download',
    async () => {
      await page.getByLabel('Downloads').fill('2');
      await page.locator('#file').setInputFiles(fixture(PHOTO));
      const link = await upload();

      const info = await legim.info(link);
      expect(info.downloadsLeft).toBe(2);
      expect(info.maxDownloads).toBe(2);
      expect(info.sha256).toBe(sha256(fixtureBytes(PHOTO)));
      expect(info.title).toBe(PHOTO);
      const card = cards().first();
      expect(await card.locator('[data-role="downloads"]').textContent()).toBe('2 of 2');
      expect(await card.locator('[data-role="token"]').textContent()).toMatch(/\S{16,}/);
      expect(await card.locator('time').getAttribute('datetime')).toBe(info.expiresAt);

      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('#uploads > li [data-role="thumb"]');
        return img !== null && !img.hidden && img.complete && img.naturalWidth > 0;
      });
      const naturalWidth = await card
        .locator('[data-role="thumb"]')
        .evaluate((img) => (img as HTMLImageElement).naturalWidth);
      expect(naturalWidth).toBe(THUMB_WIDTH);

      // The thumbnail is a variant: the file still has both its downloads, and the page never asked for /d/.
      expect((await legim.info(link)).downloadsLeft).toBe(2);
      expect(requests.filter((r) => r.path.startsWith('/d/'))).toEqual([]);
      expect(requests.some((r) => r.path.endsWith('/variants/thumb'))).toBe(true);
    },
    BROWSER_TIMEOUT,
  );

  it(
    'uploads a photo dropped on the page',
    async () => {
      await dropFile(SECOND_PHOTO, 'image/jpeg');
      expect(await page.locator('#chosen').textContent()).toContain(SECOND_PHOTO);
      const link = await upload();
      const info = await legim.info(link);
      expect(info.sha256).toBe(sha256(fixtureBytes(SECOND_PHOTO)));
      expect(info.downloadsLeft).toBe(2);
      expect(await cards().count()).toBe(2);
    },
    BROWSER_TIMEOUT,
  );

  it(
    "shows the gateway's message for a file it refuses, and the form still works",
    async () => {
      const refusal = await uploadBytes(cluster.gateway.url, fixtureBytes(NOT_AN_IMAGE));
      expect(refusal.status).toBe(415);
      const message: string = refusal.json.error.message;

      const postsBefore = posts();
      await page.locator('#file').setInputFiles(fixture(NOT_AN_IMAGE));
      await page.getByRole('button', { name: 'Upload' }).click();
      await errorLine().waitFor();
      const shown = (await errorLine().textContent()) ?? '';
      expect(shown.toLowerCase()).toContain(message.toLowerCase());
      expect(shown).not.toContain('{');
      expect(posts()).toBe(postsBefore + 1);
      expect(await cards().count()).toBe(2);

      await page.locator('#file').setInputFiles(fixture(PHOTO));
      const link = await upload();
      expect(await errorLine().isHidden()).toBe(true);
      expect((await legim.info(link)).sha256).toBe(sha256(fixtureBytes(PHOTO)));
    },
    BROWSER_TIMEOUT,
  );

  it(
    'refuses a file that is not an image, or too large, before sending it',
    async () => {
      const postsBefore = posts();
      await page.locator('#file').setInputFiles({
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('not an image'),
      });
      expect(await errorLine().textContent()).toContain('not an image');
      expect(await page.getByRole('button', { name: 'Upload' }).isDisabled()).toBe(true);

      await page.locator('#file').setInputFiles(fixture(TOO_LARGE));
      expect(await errorLine().textContent()).toContain('up to 2.0 MiB');
      expect(posts()).toBe(postsBefore);
    },
    BROWSER_TIMEOUT,
  );

  it(
    'deletes a file with its delete token',
    async () => {
      const card = cards().first();
      const link = await card.locator('[data-role="link"]').inputValue();
      await card.getByRole('button', { name: 'Delete now' }).click();
      await card.getByText('Deleted: the link no longer works.').waitFor();
      const gone = await legim.info(link).catch((error: unknown) => error);
      expect(LegimError.is(gone) && gone.code).toBe('DELETED');
      expect(LegimError.is(gone) && gone.statusCode).toBe(410);
    },
    BROWSER_TIMEOUT,
  );

  it(
    'fits a narrow phone screen and obeys its own Content-Security-Policy',
    async () => {
      await page.setViewportSize({ width: 360, height: 740 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      expect(consoleErrors.filter((text) => /Content Security Policy/i.test(text))).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(requests.filter((r) => r.path.startsWith('/d/'))).toEqual([]);
    },
    BROWSER_TIMEOUT,
  );
});
