import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { call, uploadBytes, waitFor } from './support.js';

// Previews as a CDN origin (issue: CDN origin): validators and 304s, ranges, lifetimes bound to the
// file's expiry, and the full-size encoding chosen by Accept.

describe('previews over HTTP', () => {
  let cluster: TestCluster;
  let id: string;
  let previews: string;
  const TTL_SECONDS = 3600;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, gateway: { replicas: '2', variants: 'thumb,webp,avif' } });
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('photo-small-flower-1600x1203.jpg'), {
      downloads: 1,
      ttl: `${TTL_SECONDS}s`,
    });
    expect(up.status).toBe(201);
    id = up.json.id;
    previews = `${cluster.gateway.url}/v1/files/${id}/variants`;
    await waitFor(
      async () => (await call(`${cluster.gateway.url}/v1/files/${id}`)).json.status === 'ready',
      'the previews',
      60_000,
    );
  }, 90_000);
  afterAll(() => cluster?.close());

  it('is cacheable by shared caches until the file expires, and not a second longer', async () => {
    const thumb = await call(`${previews}/thumb`);
    expect(thumb.status).toBe(200);
    const cacheControl = thumb.headers.get('cache-control')!;
    const maxAge = Number(/(?:^|[ ,])max-age=(\d+)/.exec(cacheControl)![1]);
    const sharedMaxAge = Number(/s-maxage=(\d+)/.exec(cacheControl)![1]);
    const info = (await call(`${cluster.gateway.url}/v1/files/${id}`)).json;
    const secondsLeft = (Date.parse(info.expiresAt) - Date.now()) / 1000;
    expect(cacheControl).toMatch(/^public, .*immutable$/);
    expect(maxAge).toBeLessThanOrEqual(Math.ceil(secondsLeft));
    expect(maxAge).toBeGreaterThanOrEqual(Math.floor(secondsLeft) - 1);
    expect(sharedMaxAge).toBe(maxAge);
    expect(thumb.headers.get('accept-ranges')).toBe('bytes');
    // The original with a download limit stays uncacheable.
    const head = await call(`${cluster.gateway.url}/d/${id}`, { method: 'HEAD' });
    expect(head.headers.get('cache-control')).toBe('no-store, private');
  });

  it('answers If-Modified-Since with 304 from its Last-Modified on, and lets If-None-Match decide when both come', async () => {
    const thumb = await call(`${previews}/thumb`);
    const lastModified = thumb.headers.get('last-modified')!;
    expect(new Date(lastModified).toUTCString()).toBe(lastModified);
    const since = async (date: string, etag?: string) =>
      call(`${previews}/thumb`, { headers: { 'if-modified-since': date, ...(etag && { 'if-none-match': etag }) } });

    const current = await since(lastModified);
    expect([current.status, current.body.length]).toEqual([304, 0]);
    expect(current.headers.get('cache-control')).toBe(thumb.headers.get('cache-control'));
    expect(current.headers.get('etag')).toBe(thumb.headers.get('etag'));
    expect((await since(new Date(Date.parse(lastModified) - 60_000).toUTCString())).status).toBe(200);
    expect((await since('not a date')).status).toBe(200);
    // An entity tag that does not match wins over a date that would.
    expect((await since(lastModified, '"other"')).status).toBe(200);
  });

  it('serves byte ranges, honours If-Range, and refuses a range past the end with 416', async () => {
    const whole = await call(`${previews}/thumb`);
    const size = whole.body.length;
    const etag = whole.headers.get('etag')!;
    const ranged = async (range: string, extra: Record<string, string> = {}) =>
      call(`${previews}/thumb`, { headers: { range, ...extra } });

    const first = await ranged('bytes=0-99');
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-99/${size}`);
    expect(first.body.equals(whole.body.subarray(0, 100))).toBe(true);
    const middle = await ranged('bytes=100-', { 'if-range': etag });
    expect(middle.status).toBe(206);
    expect(middle.body.equals(whole.body.subarray(100))).toBe(true);
    const suffix = await ranged('bytes=-50');
    expect(suffix.body.equals(whole.body.subarray(size - 50))).toBe(true);

    // A stale If-Range, several ranges or a malformed header: the whole preview.
    for (const [range, extra] of [
      ['bytes=0-99', { 'if-range': '"stale"' }],
      ['bytes=0-9,20-29', {}],
      ['pages=1', {}],
    ] as const) {
      const answer = await ranged(range, extra);
      expect([range, answer.status, answer.body.length]).toEqual([range, 200, size]);
    }
    const beyond = await ranged(`bytes=${size + 10}-`);
    expect(beyond.status).toBe(416);
    expect(beyond.json.error.code).toBe('RANGE_NOT_SATISFIABLE');
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
  });

  it('answers HEAD with the headers alone', async () => {
    const whole = await call(`${previews}/webp`);
    const head = await call(`${previews}/webp`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers.get('content-length'))).toBe(whole.body.length);
    expect(head.headers.get('etag')).toBe(whole.headers.get('etag'));
  });

  it('picks the full-size encoding from Accept, AVIF only when named, and says it varies', async () => {
    const full = async (accept: string | undefined) =>
      call(`${previews}/full`, { headers: accept === undefined ? {} : { accept } });
    for (const [accept, type] of [
      ['image/avif,image/webp,*/*', 'image/avif'],
      ['image/webp,image/avif', 'image/webp'],
      ['image/webp,*/*', 'image/webp'],
      ['image/avif;q=0,image/webp', 'image/webp'],
      // A browser that names neither (old Safari) must not get AVIF.
      ['image/png,image/*;q=0.8,*/*;q=0.5', 'image/webp'],
      [undefined, 'image/webp'],
    ] as const) {
      const answer = await full(accept);
      expect([accept, answer.status, answer.headers.get('content-type')]).toEqual([accept, 200, type]);
      expect(answer.headers.get('vary')).toBe('Accept');
      expect((await sharp(answer.body).metadata()).format).toBe(type === 'image/avif' ? 'heif' : 'webp');
    }
    // A named variant does not vary.
    expect((await call(`${previews}/webp`)).headers.get('vary')).toBeNull();
    // Previews never took the one download.
    expect((await call(`${cluster.gateway.url}/v1/files/${id}`)).json.downloadsLeft).toBe(1);
  });

  it('answers the share page 304 while it is the same page, and 200 once a download changed it', async () => {
    const up = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { downloads: 3 });
    const share = `${cluster.gateway.url}/s/${up.json.id}`;
    const page = await call(share);
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const same = await call(share, { headers: { 'if-none-match': etag } });
    expect([same.status, same.body.length, same.headers.get('etag')]).toEqual([304, 0, etag]);
    expect((await call(`${cluster.gateway.url}/d/${up.json.id}`)).status).toBe(200);
    const changed = await call(share, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.body.toString()).toContain('2 of 3');
    // The download's own tag never spares one: /d/:id is sent and counted.
    const download = await call(`${cluster.gateway.url}/d/${up.json.id}`, {
      headers: { 'if-none-match': `"${up.json.sha256}"` },
    });
    expect(download.status).toBe(200);
  });
});
