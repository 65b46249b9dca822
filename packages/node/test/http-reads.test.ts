import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { connect as connectSocket, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { Pool } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { streamToResponse } from '../src/http/stream-response.js';
import { AUTH, startTestNode, waitFor } from './support.js';

const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function connect(url: string): Pool {
  const pool = new Pool(url, { connections: 16 });
  onTestFinished(() => pool.close());
  return pool;
}

async function put(pool: Pool, key: string, bytes: Buffer): Promise<void> {
  const res = await pool.request({
    method: 'PUT',
    path: `/blobs/${key}`,
    headers: { ...AUTH, 'legim-sha256': sha256(bytes) },
    body: bytes,
  });
  expect(res.statusCode).toBe(201);
  await res.body.dump();
}

/** One GET: the body must be whole and hash to the digest the node announced. */
async function getChecked(pool: Pool, key: string): Promise<string> {
  const res = await pool.request({ method: 'GET', path: `/blobs/${key}`, headers: AUTH });
  expect(res.statusCode).toBe(200);
  const body = Buffer.from(await res.body.arrayBuffer());
  expect(body.length).toBe(Number(res.headers['content-length']));
  expect(sha256(body)).toBe(res.headers['legim-sha256']);
  return sha256(body);
}

describe('GET /blobs/:key under load', () => {
  it('never mixes up bodies when many responses of different blobs are in flight', async () => {
    const node = await startTestNode();
    const pool = connect(node.url);
    // One of each read path: small (one heap buffer), pooled (reused 1 MiB buffers), streamed.
    const blobs = new Map([
      ['small', randomBytes(20 * 1024)],
      ['pooled-1', randomBytes(300 * 1024)],
      ['pooled-2', randomBytes(900 * 1024)],
      ['streamed', randomBytes(2 * 1024 * 1024 + 17)],
    ]);
    for (const [key, bytes] of blobs) await put(pool, key, bytes);
    const keys = [...blobs.keys()];
    await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const key = keys[i % keys.length] as string;
        expect(await getChecked(pool, key)).toBe(sha256(blobs.get(key) as Buffer));
      }),
    );
  });

  it('answers every GET with a whole version while the key is being replaced', async () => {
    const node = await startTestNode();
    const pool = connect(node.url);
    const versions = [randomBytes(200 * 1024), randomBytes(200 * 1024), randomBytes(20 * 1024)];
    await put(pool, 'replaced', versions[0] as Buffer);
    let writing = true;
    const writer = async (): Promise<void> => {
      for (let i = 1; i <= 15; i++) await put(pool, 'replaced', versions[i % versions.length] as Buffer);
      writing = false;
    };
    const reader = async (): Promise<void> => {
      while (writing) expect(versions.map(sha256)).toContain(await getChecked(pool, 'replaced'));
    };
    await Promise.all([writer(), ...Array.from({ length: 8 }, reader)]);
  });

  it('does not reuse a response buffer while it waits to be sent', async () => {
    const node = await startTestNode();
    const pool = connect(node.url);
    const [large, queued, other] = [randomBytes(8 * 1024 * 1024), randomBytes(1000 * 1024), randomBytes(1000 * 1024)];
    await put(pool, 'large', large);
    await put(pool, 'queued', queued);
    await put(pool, 'other', other);
    // Two pipelined GETs on a client that does not read yet: the first body
    // fills the socket, so the second waits, unsent, in the node's memory.
    const { hostname, port } = new URL(node.url);
    const socket = connectSocket(Number(port), hostname);
    onTestFinished(() => {
      socket.destroy();
    });
    const get = (key: string): string =>
      `GET /blobs/${key} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${AUTH.authorization}\r\n\r\n`;
    socket.pause();
    socket.write(get('large') + get('queued'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 10; i++) expect(await getChecked(pool, 'other')).toBe(sha256(other));
    const [first, second] = await readResponses(socket, 2);
    expect(sha256(first as Buffer)).toBe(sha256(large));
    expect(sha256(second as Buffer)).toBe(sha256(queued));
  });

  it('keeps serving after clients hang up in the middle of large bodies', async () => {
    const node = await startTestNode();
    const pool = connect(node.url);
    const large = randomBytes(4 * 1024 * 1024);
    const pooled = randomBytes(600 * 1024);
    await put(pool, 'large', large);
    await put(pool, 'pooled', pooled);
    const { hostname, port } = new URL(node.url);
    for (const key of ['large', 'pooled', 'large', 'pooled']) {
      await new Promise<void>((resolve) => {
        const req = httpRequest({ hostname, port, path: `/blobs/${key}`, headers: AUTH });
        req.on('error', () => resolve());
        req.on('response', (res) => res.once('data', () => req.destroy()).once('close', () => resolve()));
        req.end();
      });
    }
    await waitFor(async () => (await getChecked(pool, 'pooled')) === sha256(pooled));
    expect(await getChecked(pool, 'large')).toBe(sha256(large));
  });
});

describe('streamToResponse', () => {
  it('closes the file at once when the client left before the body started', async () => {
    const file = new Readable({ read: () => undefined });
    const res = new PassThrough();
    res.destroy();
    await once(res, 'close');
    await streamToResponse(file, res as unknown as ServerResponse);
    expect(file.destroyed).toBe(true);
  });
});

/** The bodies of the next `count` responses on a raw keep-alive socket (Content-Length framing only). */
async function readResponses(socket: Socket, count: number): Promise<Buffer[]> {
  let pending = Buffer.alloc(0);
  const bodies: Buffer[] = [];
  socket.resume();
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const headerEnd = pending.indexOf('\r\n\r\n');
      if (headerEnd === -1) break;
      const length = Number(/content-length: *(\d+)/i.exec(pending.subarray(0, headerEnd).toString('latin1'))?.[1]);
      if (pending.length < headerEnd + 4 + length) break;
      bodies.push(pending.subarray(headerEnd + 4, headerEnd + 4 + length));
      pending = pending.subarray(headerEnd + 4 + length);
    }
    if (bodies.length >= count) break;
  }
  return bodies;
}
