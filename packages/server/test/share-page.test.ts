/// <reference lib="dom" />
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { isLinkPreviewAgent } from '../src/download/link-preview-agents.js';
import { call, uploadReadyPhotos, type UploadedPhoto } from './support.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';

/** Real User-Agents of the link-preview bots and crawlers the gateway must never count (link-preview-agents.ts). */
const BOTS: Record<string, string> = {
  Slack: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  'Slack images': 'Slack-ImgProxy (+https://api.slack.com/robots)',
  'X/Twitter': 'Twitterbot/1.0',
  Facebook: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  Facebot: 'Facebot',
  WhatsApp: 'WhatsApp/2.23.20.0 A',
  Signal: 'WhatsApp/2',
  iMessage:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0',
  Telegram: 'TelegramBot (like TwitterBot)',
  Discord: 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
  LinkedIn: 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)',
  'Microsoft Teams': 'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com',
  'Microsoft Preview':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 Edg/112.0.1722.48 MicrosoftPreview/2.0 +https://aka.ms/MicrosoftPreview',
  Mastodon: 'http.rb/5.1.1 (Mastodon/4.2.0; +https://mastodon.social/)',
  Bluesky: 'Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)',
  Reddit: 'Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)',
  Embedly: 'Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)',
  Pinterest: 'Pinterest/0.2 (+http://www.pinterest.com/)',
  VK: 'Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)',
  Googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  Bing: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  Applebot:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
};

/** Clients that are people or their scripts: the direct link gives them the bytes. */
const PEOPLE = [
  'curl/7.88.1',
  'Wget/1.21.3',
  'python-requests/2.31.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Twitter for iPhone',
];

const CHROMIUM_PATHS = [
  process.env.LEGIM_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
].filter((path): path is string => Boolean(path));
const chromiumPath = CHROMIUM_PATHS.find((path) => existsSync(path));
const BROWSER_TIMEOUT = 120_000;

let cluster: TestCluster;
const downloadsLeft = async (id: string): Promise<number> =>
  (await call(`${cluster.gateway.url}/v1/files/${id}`)).json.downloadsLeft;
const ready = (downloads: number): Promise<UploadedPhoto> =>
  uploadReadyPhotos(cluster, [PHOTO], downloads).then(([photo]) => photo!);

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2 });
});
afterAll(() => cluster?.close());

describe('link-preview bots and the share page over HTTP', () => {
  it('knows every listed bot, and no person or script', () => {
    for (const [name, agent] of Object.entries(BOTS)) expect(isLinkPreviewAgent(agent), name).toBe(true);
    for (const agent of [...PEOPLE, undefined, '']) expect(isLinkPreviewAgent(agent), agent).toBe(false);
  });

  it('hands out the share page beside the direct link', async () => {
    const photo = await ready(2);
    const info = await call(`${cluster.gateway.url}/v1/files/${photo.id}`);
    expect(info.json.url).toBe(`${cluster.gateway.url}/d/${photo.id}`);
    expect(info.json.shareUrl).toBe(`${cluster.gateway.url}/s/${photo.id}`);
  });

  it('never lets a bot take a download, by GET or HEAD, on the share page or the direct link', async () => {
    const photo = await ready(2);
    const share = `${cluster.gateway.url}/s/${photo.id}`;
    const thumb = `${cluster.gateway.url}/v1/files/${photo.id}/variants/thumb`;
    for (const [name, agent] of Object.entries(BOTS)) {
      for (const url of [share, photo.url]) {
        const page = await call(url, { headers: { 'user-agent': agent } });
        expect([name, url, page.status]).toEqual([name, url, 200]);
        expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
        const html = page.body.toString('utf8');
        expect(html).toContain(`<meta property="og:image" content="${thumb}" />`);
        expect(html).toContain(`<meta property="og:title" content="An image" />`);
        expect(html).toContain(`<meta property="og:url" content="${share}" />`);
        expect(html).toMatch(
          /<meta property="og:description" content="JPEG, 1\.0 MB, 1680×1050 · 2 downloads left · expires \d{4}-\d\d-\d\d \d\d:\d\d UTC" \/>/,
        );
        expect(html).toContain('<meta name="twitter:card" content="summary" />');
        expect(html).not.toContain('{{');
        const head = await call(url, { method: 'HEAD', headers: { 'user-agent': agent } });
        expect([name, url, head.status, head.body.length]).toEqual([name, url, 200, 0]);
      }
      // The preview's image is the thumbnail variant: fetching it takes nothing either.
      const image = await call(thumb, { headers: { 'user-agent': agent } });
      expect([name, image.status, image.headers.get('content-type')]).toEqual([name, 200, 'image/webp']);
    }
    expect(await downloadsLeft(photo.id)).toBe(2);
    const direct = await call(photo.url, { headers: { 'user-agent': BOTS.Slack! } });
    expect(direct.headers.get('vary')).toBe('User-Agent');
  });

  it('serves the share page to people with its facts, strict headers and no download', async () => {
    const photo = await ready(3);
    const page = await call(`${cluster.gateway.url}/s/${photo.id}`, { headers: { 'user-agent': PEOPLE[3]! } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('x-robots-tag')).toBe('noindex, nofollow');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = page.body.toString('utf8');
    expect(html).toContain('<dd data-role="downloads-left">3 of 3</dd>');
    expect(html).toContain('1.0 MB · JPEG · 1680×1050');
    expect(html).toMatch(/<time id="expires" datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/);
    expect(html).toContain('(<span id="countdown">in 60 minutes</span>)');
    expect(html).toContain(`<a id="download" class="button" href="../d/${photo.id}" download`);
    // No inline code: the CSP forbids it.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const script = await call(`${cluster.gateway.url}/assets/share.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await downloadsLeft(photo.id)).toBe(3);
  });

  it('escapes a title a stranger chose', async () => {
    const bytes = fixtureBytes(PHOTO);
    const title = '"><script>alert(1)</script>';
    const up = await call(`${cluster.gateway.url}/v1/files?title=${encodeURIComponent(title)}`, {
      method: 'POST',
      body: bytes,
    });
    const html = (await call(`${cluster.gateway.url}/s/${up.json.id}`)).body.toString('utf8');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('answers a used-up, unknown or deleted file as the direct link does', async () => {
    const unknown = await call(`${cluster.gateway.url}/s/00000000-0000-4000-8000-000000000000`);
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'FILE_NOT_FOUND']);
    const photo = await ready(1);
    expect((await call(photo.url)).status).toBe(200);
    const gone = await call(`${cluster.gateway.url}/s/${photo.id}`, { headers: { 'user-agent': BOTS.Slack! } });
    expect([gone.status, gone.json.error.code]).toEqual([410, 'DOWNLOADS_EXHAUSTED']);
  });
});

describe.runIf(chromiumPath)('the share page in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, headless: true });
  }, BROWSER_TIMEOUT);
  afterAll(() => browser?.close());

  /** Opens the share page, checks what it shows, clicks Download; resolves with the bytes the browser saved. */
  async function clickDownload(photo: UploadedPhoto, javaScript: boolean): Promise<Buffer> {
    const context = await browser.newContext({ acceptDownloads: true, javaScriptEnabled: javaScript });
    try {
      const page = await context.newPage();
      const cspErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
          cspErrors.push(message.text());
      });
      await page.goto(`${cluster.gateway.url}/s/${photo.id}`);
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('.share-thumb');
        return img !== null && img.complete && img.naturalWidth > 0;
      });
      expect(await page.locator('[data-role="downloads-left"]').textContent()).toMatch(/^\d+ of \d+$/);
      const countdown = page.locator('#countdown');
      if (javaScript) await expect.poll(() => countdown.textContent()).toMatch(/^in \d+ min \d+ s$/);
      else expect(await countdown.textContent()).toMatch(/^in \d+ minutes$/);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download' }).click(),
      ]);
      const saved = await download.path();
      expect(cspErrors).toEqual([]);
      return readFileSync(saved);
    } finally {
      await context.close();
    }
  }

  it(
    'takes exactly one download when the Download button is clicked, with or without JavaScript',
    async () => {
      const photo = await ready(3);
      expect(sha256(await clickDownload(photo, true))).toBe(photo.sha);
      expect(await downloadsLeft(photo.id)).toBe(2);
      expect(sha256(await clickDownload(photo, false))).toBe(photo.sha);
      expect(await downloadsLeft(photo.id)).toBe(1);
    },
    BROWSER_TIMEOUT,
  );

  it(
    'keeps a one-time link for its reader: a bot preview, then the click, then 410',
    async () => {
      const photo = await ready(1);
      for (const url of [`${cluster.gateway.url}/s/${photo.id}`, photo.url]) {
        expect((await call(url, { headers: { 'user-agent': BOTS.Slack! } })).status).toBe(200);
        expect((await call(url, { headers: { 'user-agent': BOTS.iMessage! } })).status).toBe(200);
      }
      expect(await downloadsLeft(photo.id)).toBe(1);
      expect(sha256(await clickDownload(photo, true))).toBe(photo.sha);
      const after = await call(photo.url);
      expect([after.status, after.json.error.code]).toEqual([410, 'DOWNLOADS_EXHAUSTED']);
    },
    BROWSER_TIMEOUT,
  );
});
