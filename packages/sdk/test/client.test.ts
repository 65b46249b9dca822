import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, Legim, LegimError } from '../src/index.js';
import { ADMIN_KEY, sendError, sendJson, startGatewayPeer, type GatewayPeer } from './gateway-peer.js';

let peer: GatewayPeer;

beforeEach(async () => {
  peer = await startGatewayPeer();
});

afterEach(async () => {
  await peer.close();
});

/** A port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

class CountingAgent extends Agent {
  dispatched: string[] = [];
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatched.push(`${options.method} ${options.path}`);
    return super.dispatch(options, handler);
  }
}

describe('Legim client', () => {
  it('validates and normalizes the server URL', () => {
    expect(new Legim({ url: 'http://127.0.0.1:3333/' }).url).toBe('http://127.0.0.1:3333');
    expect(new Legim({ url: 'https://img.example.com/legim//' }).url).toBe('https://img.example.com/legim');
    for (const url of ['', '127.0.0.1:3333', 'ftp://host', 'http://host/?a=1']) {
      expect(() => new Legim({ url })).toThrow(LegimError);
    }
    expect(() => new Legim({ url: 'http://h', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('builds file links', () => {
    const legim = new Legim({ url: 'http://127.0.0.1:3333/' });
    const id = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';
    expect(legim.fileUrl(id)).toBe(`http://127.0.0.1:3333/d/${id}`);
    expect(legim.fileUrl(id.toUpperCase())).toBe(`http://127.0.0.1:3333/d/${id}`);
    expect(() => legim.fileUrl('../v1/health')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('turns a refused connection into NETWORK_ERROR naming the server', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const legim = new Legim({ url });
    const error = await legim.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LegimError);
    expect(error).toMatchObject({
      code: 'NETWORK_ERROR',
      statusCode: ERROR_CODES.NETWORK_ERROR,
      details: { code: 'ECONNREFUSED' },
    });
    expect((error as LegimError).message).toMatch(
      new RegExp(`^cannot reach the Legim server at ${url}: connection refused \\(ECONNREFUSED\\)`),
    );
    expect((error as LegimError).cause).toBeDefined();
    await expect(legim.upload(Buffer.from('x'))).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await expect(legim.downloadTo('5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21', '/nonexistent/x')).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
    });
  });

  it('turns a server that does not answer in time into NETWORK_ERROR', async () => {
    peer.route('GET /v1/health', () => undefined); // never answers
    const legim = new Legim({ url: peer.url, apiKey: ADMIN_KEY, timeoutMs: 200 });
    await expect(legim.health()).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: expect.stringContaining('no answer within 200 ms'),
    });
  });

  it('sends every request through the dispatcher it was given', async () => {
    const agent = new CountingAgent();
    try {
      const legim = new Legim({ url: peer.url, apiKey: ADMIN_KEY, dispatcher: agent });
      await legim.health();
      const file = await legim.upload(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
      await legim.info(file.id);
      expect(agent.dispatched).toEqual(['GET /v1/health', 'POST /v1/files', `GET /v1/files/${file.id}`]);
    } finally {
      await agent.close();
    }
  });

  it('serves a gateway under a path prefix', async () => {
    peer.route('GET /legim/v1/health', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    const legim = new Legim({ url: `${peer.url}/legim/`, apiKey: ADMIN_KEY });
    await expect(legim.health()).resolves.toEqual({ status: 'ok' });
  });
});

describe('operations', () => {
  it('sends the admin key as a bearer token', async () => {
    const legim = new Legim({ url: peer.url, apiKey: ADMIN_KEY });
    await expect(legim.health()).resolves.toEqual({
      status: 'ok',
      nodes: { up: 3, suspect: 0, down: 0 },
      files: 0,
      writeQuorum: 2,
      replicas: 3,
    });
    expect(peer.requests.at(-1)?.headers.authorization).toBe(`Bearer ${ADMIN_KEY}`);

    const view = await legim.cluster();
    expect(view.gateway).toEqual({ id: 'gw', url: peer.url });
    expect(view.nodes.map((node) => [node.id, node.parentId, node.status])).toEqual([
      ['c1', 'gw', 'up'],
      ['n1', 'c1', 'down'],
    ]);
  });

  it('throws UNAUTHORIZED without the admin key', async () => {
    const legim = new Legim({ url: peer.url });
    await expect(legim.health()).rejects.toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 });
    await expect(legim.cluster()).rejects.toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 });
    expect(peer.requests.at(-1)?.headers.authorization).toBeUndefined();
  });
});

describe('replies that are not the contract', () => {
  const legim = () => new Legim({ url: peer.url, apiKey: ADMIN_KEY });

  it('keeps status and message of an error code it does not know', async () => {
    peer.route('GET /v1/health', (_req, res) => sendError(res, 429, 'SLOW_DOWN', 'too many requests; wait a second'));
    await expect(legim().health()).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      statusCode: 429,
      message: 'too many requests; wait a second',
    });
  });

  it('maps a non-JSON error page by its status', async () => {
    peer.route('GET /v1/health', (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    await expect(legim().health()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      statusCode: 502,
      message: 'the server answered HTTP 502',
    });
  });

  it('says so when a 200 is not JSON', async () => {
    peer.route('GET /v1/health', (_req, res) => void res.end('hello'));
    await expect(legim().health()).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('is this the URL of a Legim gateway?'),
    });
  });
});
