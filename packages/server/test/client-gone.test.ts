import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { call, uploadBytes } from './support.js';

const PHOTO = fixtureBytes('jpeg-exif-gps.jpg');

/** Sends a GET and hangs up at once, before any answer can start. */
function getAndHangUp(url: string): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      socket.destroy();
    });
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
  });
}

/**
 * Clients that leave before the answer starts: the replica reads already
 * opened for them are let go without bringing the gateway down (an unread
 * body destroyed emits an abort error), and no more downloads are counted
 * than were asked for.
 */
describe('downloads whose client leaves before the answer starts', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
  });
  afterAll(() => cluster?.close());

  it('leave the gateway serving, counting no more than they asked for', async () => {
    const { url } = cluster.gateway;
    const { id } = (await uploadBytes(url, PHOTO, { downloads: 100 })).json;
    await Promise.all(Array.from({ length: 40 }, () => getAndHangUp(`${url}/d/${id}`)));
    expect((await call(`${url}/livez`)).status).toBe(200);
    // One whose answer had started counts (its client may have read it); the others took nothing.
    const left = (await call(`${url}/v1/files/${id}`)).json.downloadsLeft as number;
    expect(left).toBeGreaterThanOrEqual(60);
    const download = await call(`${url}/d/${id}`);
    expect(download.status).toBe(200);
    expect(download.body.equals(PHOTO)).toBe(true);
  });
});
