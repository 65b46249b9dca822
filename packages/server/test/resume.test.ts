import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { admin, call, uploadBytes } from './support.js';

/** Reads a download until `bytes` have arrived, then drops the connection, as a flaky network would. */
function interruptedDownload(url: string, bytes: number): Promise<{ received: Buffer; token: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= bytes) {
          res.destroy();
          resolve({ received: Buffer.concat(chunks), token: String(res.headers['legim-resume']) });
        }
      });
      res.on('error', () => {});
    })
      .on('error', reject)
      .end();
  });
}

/** A GET sent from another loopback address: another client, as far as the gateway can tell. */
function getFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { localAddress, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('resuming a download', () => {
  let cluster: TestCluster;
  const photo = fixtureBytes('photo-large-bird-6028x3391.jpg');
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  afterAll(() => cluster?.close());

  const resume = (id: string, token: string, range: string) =>
    call(`${cluster.gateway.url}/d/${id}`, { headers: { range, 'legim-resume': token } });

  it('continues a broken download where it stopped, without taking another, even after the last one', async () => {
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 1 });
    const { received, token } = await interruptedDownload(up.json.url, 1024 * 1024);
    expect(received.length).toBeLessThan(photo.length);

    const rest = await resume(up.json.id, token, `bytes=${received.length}-`);
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${received.length}-${photo.length - 1}/${photo.length}`);
    expect(sha256(Buffer.concat([received, rest.body]))).toBe(sha256(photo));
    // The one download was used by the first request; another client's Range (no token, no resume credit) is
    // just another download.
    const again = await getFrom('127.0.0.2', up.json.url, { range: 'bytes=0-' });
    expect([again.status, JSON.parse(again.body.toString()).error.code]).toEqual([410, 'DOWNLOADS_EXHAUSTED']);
  });

  it('takes no download when resuming, however often', async () => {
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 2 });
    const first = await call(up.json.url);
    const token = first.headers.get('legim-resume')!;
    for (const start of [0, 10, photo.length - 1]) {
      const part = await resume(up.json.id, token, `bytes=${start}-`);
      expect(part.status).toBe(206);
      expect(sha256(part.body)).toBe(sha256(photo.subarray(start)));
    }
    expect((await call(`${cluster.gateway.url}/v1/files/${up.json.id}`)).json.downloadsLeft).toBe(1);
  });

  it('refuses a token of another file, a forged one, a range past the end, and a deleted file', async () => {
    const a = await uploadBytes(cluster.gateway.url, photo, { downloads: 5 });
    const b = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { downloads: 5 });
    const tokenA = (await call(a.json.url)).headers.get('legim-resume')!;
    expect((await resume(b.json.id, tokenA, 'bytes=10-')).json.error.code).toBe('FORBIDDEN');
    const forged = tokenA.replace(/^[0-9a-z]+/, (until) => (Number.parseInt(until, 36) + 1).toString(36));
    expect((await resume(a.json.id, forged, 'bytes=10-')).status).toBe(403);
    expect((await resume(a.json.id, tokenA, `bytes=${photo.length}-`)).status).toBe(416);
    expect((await resume(a.json.id, tokenA, 'bytes=5-9')).status).toBe(400);
    await call(`${cluster.gateway.url}/v1/files/${a.json.id}`, { method: 'DELETE', headers: admin });
    expect((await resume(a.json.id, tokenA, 'bytes=10-')).json.error.code).toBe('DELETED');
  });
});
