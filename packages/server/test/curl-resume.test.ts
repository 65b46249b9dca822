import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { startCuttingProxy } from '../../../test-support/cutting-proxy.js';
import { sha256 } from '../../../test-support/fixtures.js';
import { call, uploadBytes } from './support.js';

/**
 * Large enough that a cut at half cannot hide in the kernel's socket
 * buffers: the gateway must still be writing when the client goes.
 */
async function noisePng(): Promise<Buffer<ArrayBuffer>> {
  return sharp({
    create: {
      width: 3000,
      height: 3000,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .png({ compressionLevel: 0 })
    .toBuffer()
    .then((bytes) => Buffer.from(bytes));
}

/** The real curl binary (run without blocking: the gateway answers from this process); its exit code and stderr. */
function curl(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? -1) : 0, stderr });
    });
  });
}

describe('curl -C - after a cut transfer', () => {
  let cluster: TestCluster;
  let dir: string;
  let image: Buffer<ArrayBuffer>;
  beforeAll(async () => {
    [cluster, image] = await Promise.all([startCluster({ nodes: 2, gateway: { host: '0.0.0.0' } }), noisePng()]);
    dir = mkdtempSync(join(tmpdir(), 'legim-curl-resume-'));
  });
  afterAll(async () => {
    await cluster?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const downloadsLeft = async (id: string): Promise<number> =>
    (await call(`${cluster.gateway.url}/v1/files/${id}`)).json.downloadsLeft;

  it('completes the file without a second download, once per cut, and counts anyone else', async () => {
    const up = await uploadBytes(cluster.gateway.url, image, { downloads: 3 });
    expect(up.status).toBe(201);
    const id: string = up.json.id;
    const out = join(dir, 'photo.png');
    const half = await startCuttingProxy(cluster.gateway.url, { afterBytes: image.length / 2, cuts: 1 });
    const quarter = await startCuttingProxy(cluster.gateway.url, { afterBytes: image.length / 4, cuts: 1 });
    try {
      // Cut at half: curl keeps what it got, and the download was taken.
      const cut = await curl('-o', out, `${half.url}/d/${id}`);
      expect(cut.code, cut.stderr).not.toBe(0);
      const got = statSync(out).size;
      expect(got).toBeGreaterThan(image.length * 0.4);
      expect(got).toBeLessThan(image.length / 2);
      expect(await downloadsLeft(id)).toBe(2);

      // The resumed transfer is cut again: that leaves a credit for its rest.
      const cutAgain = await curl('-C', '-', '-o', out, `${quarter.url}/d/${id}`);
      expect(cutAgain.code, cutAgain.stderr).not.toBe(0);
      expect(statSync(out).size).toBeGreaterThan(got);
      expect(statSync(out).size).toBeLessThan(image.length);

      // Plain `curl -C -` (a Range, no If-Range) from the same address finishes the file.
      const rest = await curl('-C', '-', '-o', out, `${cluster.gateway.url}/d/${id}`);
      expect(rest.code, rest.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(image));
      expect(await downloadsLeft(id)).toBe(2);
    } finally {
      await Promise.all([half.close(), quarter.close()]);
    }

    // The credit is spent: another Range from this address is a download, and honoured.
    const again = join(dir, 'again.png');
    writeFileSync(again, image.subarray(0, 1000));
    expect((await curl('-C', '-', '-o', again, `${cluster.gateway.url}/d/${id}`)).code).toBe(0);
    expect(sha256(readFileSync(again))).toBe(sha256(image));
    expect(await downloadsLeft(id)).toBe(1);

    // Another address's Range is counted as any download.
    const other = join(dir, 'other.png');
    writeFileSync(other, image.subarray(0, 5000));
    const stranger = await curl('--interface', '127.0.0.2', '-C', '-', '-o', other, `${cluster.gateway.url}/d/${id}`);
    expect(stranger.code, stranger.stderr).toBe(0);
    expect(sha256(readFileSync(other))).toBe(sha256(image));
    const info = await call(`${cluster.gateway.url}/v1/files/${id}`);
    expect([info.status, info.json.error.code]).toEqual([410, 'DOWNLOADS_EXHAUSTED']);
  });

  it('honours If-Range only with the file entity tag', async () => {
    const up = await uploadBytes(cluster.gateway.url, image, { downloads: 5 });
    const url: string = up.json.url;
    const etag = `"${up.json.sha256}"`;
    const part = await call(url, { headers: { range: 'bytes=10-19', 'if-range': etag } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${image.length}`);
    expect(part.body.equals(image.subarray(10, 20))).toBe(true);
    const stale = await call(url, { headers: { range: 'bytes=10-19', 'if-range': '"other"' } });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(image.length);
    const past = await call(url, { headers: { range: `bytes=${image.length}-` } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${image.length}`]);
    // Two counted downloads; the 416 took none.
    expect(await downloadsLeft(up.json.id)).toBe(3);
  });
});
