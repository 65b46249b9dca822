import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags, RunningGateway } from '@legim/server';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { admin, call, findFiles, uploadBytes, waitFor, type Reply } from './support.js';

const REDIS = 'redis://127.0.0.1:6379';

/**
 * Two gateways share one index and Redis. Downloads stream from both while
 * the owner deletes the file through one: a download either gets the whole
 * file or a clean 410, none starts after the delete answered, and once the
 * grace period is over every copy is gone.
 */
describe('a download racing a delete', () => {
  const prefix = `test-${randomUUID().slice(0, 8)}:`;
  const shared: GatewayFlags = { redis: REDIS, redisPrefix: prefix, deleteGrace: '2' };
  let cluster: TestCluster;
  let second: RunningGateway;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: shared });
    second = await cluster.startPeerGateway();
  });
  afterAll(async () => {
    await second?.close();
    await cluster?.close();
  });

  it('never serves a half-deleted file', async () => {
    const photo = fixtureBytes('photo-large-bird-6028x3391.jpg');
    const up = await uploadBytes(cluster.gateway.url, photo, { downloads: 1000 });
    expect(up.status).toBe(201);
    const id: string = up.json.id;
    const gateways = [cluster.gateway.url, second.url];

    const replies: (Reply & { startedAt: number })[] = [];
    let deleteAnsweredAt = Infinity;
    let storming = true;
    const storm = Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        while (storming) {
          const startedAt = Date.now();
          replies.push({ ...(await call(`${gateways[i % 2]}/d/${id}`)), startedAt });
        }
      }),
    );
    await waitFor(() => replies.filter((r) => r.status === 200).length >= 6, 'downloads before the delete');
    const deleted = await call(`${cluster.gateway.url}/v1/files/${id}`, { method: 'DELETE', headers: admin });
    deleteAnsweredAt = Date.now();
    expect(deleted.status).toBe(204);
    await sleep(600);
    storming = false;
    await storm;

    const served = replies.filter((r) => r.status === 200);
    for (const reply of served) expect(sha256(reply.body)).toBe(sha256(photo));
    expect(served.filter((r) => r.startedAt > deleteAnsweredAt)).toEqual([]);
    const refused = replies.filter((r) => r.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const reply of refused) expect([reply.status, reply.json.error.code]).toEqual([410, 'DELETED']);

    // After the grace period: no copy on any node, no count left in Redis.
    await waitFor(
      () => cluster.nodes.every((node) => findFiles(node.dataDir, id).length === 0),
      'the copies to be removed from every node',
    );
    const redis = new Redis(REDIS);
    try {
      expect(await redis.exists(`${prefix}downloads:${id}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    expect((await call(`${second.url}/d/${id}`)).json.error.code).toBe('DELETED');
  });

  it('a download whose replica dies after the delete resumes from a copy the grace period kept', async () => {
    // Noise does not compress: a 27 MB PNG, so transfers are still streaming from a node when it is killed.
    const side = 3000;
    const image = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const up = await uploadBytes(cluster.gateway.url, image, { downloads: 10 });
    expect(up.status).toBe(201);
    const id: string = up.json.id;

    const downloads = [cluster.gateway.url, second.url, cluster.gateway.url, second.url].map((url) =>
      slowDownload(`${url}/d/${id}`),
    );
    await waitFor(() => downloads.every((d) => d.received() > 2 * 1024 * 1024), 'the downloads to be under way');
    const deleted = await call(`${second.url}/v1/files/${id}`, { method: 'DELETE', headers: admin });
    expect(deleted.status).toBe(204);
    // The node with the blob open is the one serving: it dies mid-body.
    const serving = cluster.nodes.find((node) => hasOpen(node.child.pid!, id));
    expect(serving, 'a node still streaming the file').toBeDefined();
    await serving!.kill('SIGKILL');

    for (const body of await Promise.all(downloads.map((d) => d.done))) expect(sha256(body)).toBe(sha256(image));

    // The dead node gets its delete when it returns.
    await cluster.startNode({ dataDir: serving!.dataDir, port: Number(new URL(serving!.url).port) });
    await waitFor(
      () => cluster.nodes.every((node) => findFiles(node.dataDir, id).length === 0),
      'the copies to be removed from every node',
    );
  });
});

/** Reads a download at ~25 MB/s, so it stays in flight for a while. */
function slowDownload(url: string): { received(): number; done: Promise<Buffer> } {
  let received = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    request(url, async (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of res) {
          chunks.push(chunk as Buffer);
          received += (chunk as Buffer).length;
          await sleep(2);
        }
        resolve(Buffer.concat(chunks));
      } catch (error) {
        reject(error as Error);
      }
    })
      .on('error', reject)
      .end();
  });
  return { received: () => received, done };
}

/** Whether the process has a file open whose path names `id` (Linux). */
function hasOpen(pid: number, id: string): boolean {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).some((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`).includes(id);
    } catch {
      return false;
    }
  });
}
