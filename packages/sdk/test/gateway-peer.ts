/**
 * A test peer that plays the gateway's documented responses (docs/api.md)
 * on a real `node:http` server on port 0, keeping files in memory. Tests
 * override single routes with `peer.route(...)` to play failures.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ADMIN_KEY = 'admin-secret';

export interface Recorded {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Stored {
  info: Record<string, unknown>;
  bytes: Buffer;
  deleteToken: string;
}

/** Replaces the gateway for one `METHOD /path-prefix`; the request body is already read. */
export type Route = (req: IncomingMessage, res: ServerResponse, recorded: Recorded) => void | Promise<void>;

export interface GatewayPeer {
  url: string;
  requests: Recorded[];
  files: Map<string, Stored>;
  /** Overrides the gateway for requests whose `METHOD path` starts with `prefix`. */
  route(prefix: string, handler: Route, options?: { readBody?: boolean }): void;
  close(): Promise<void>;
}

export async function startGatewayPeer(): Promise<GatewayPeer> {
  const files = new Map<string, Stored>();
  const requests: Recorded[] = [];
  const routes: { prefix: string; handler: Route; readBody: boolean }[] = [];

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://peer');
      const key = `${req.method} ${url.pathname}`;
      const override = routes.find((route) => key.startsWith(route.prefix));
      const body = override?.readBody === false ? Buffer.alloc(0) : await readBody(req);
      const recorded: Recorded = { method: req.method ?? '', url, headers: req.headers, body };
      requests.push(recorded);
      if (override) return override.handler(req, res, recorded);
      gateway(peer, req, res, recorded);
    })().catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const peer: GatewayPeer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    files,
    route(prefix, handler, options) {
      routes.unshift({ prefix, handler, readBody: options?.readBody ?? true });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return peer;
}

function gateway(peer: GatewayPeer, req: IncomingMessage, res: ServerResponse, recorded: Recorded): void {
  const { url, body } = recorded;
  const [, a, b, id] = url.pathname.split('/');
  const admin = recorded.headers.authorization === `Bearer ${ADMIN_KEY}`;

  if (req.method === 'POST' && url.pathname === '/v1/files') {
    if (body.length === 0) return sendError(res, 400, 'EMPTY_BODY', 'the request has no body; send the image bytes');
    const contentType = sniff(body);
    if (!contentType) return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'not a JPEG, PNG, GIF, WebP, AVIF or TIFF image');
    const downloads = Number(url.searchParams.get('downloads') ?? 3);
    const ttl = Number(url.searchParams.get('ttl') ?? 3600);
    const fileId = randomUUID();
    const now = Date.now();
    const info = {
      id: fileId,
      title: url.searchParams.get('title') ?? '',
      size: body.length,
      contentType,
      width: 1,
      height: 1,
      sha256: createHash('sha256').update(body).digest('hex'),
      maxDownloads: downloads,
      downloadsLeft: downloads,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttl * 1000).toISOString(),
      url: `${peer.url}/d/${fileId}`,
      replicas: 2,
      variants: {},
      status: 'stored',
    };
    const deleteToken = randomUUID();
    peer.files.set(fileId, { info, bytes: body, deleteToken });
    return sendJson(res, 201, { ...info, deleteToken });
  }

  if (a === 'd' && b !== undefined && req.method === 'GET') {
    const file = peer.files.get(b);
    if (!file) return sendError(res, 404, 'FILE_NOT_FOUND', 'no file with this id');
    const left = file.info.downloadsLeft as number;
    if (left <= 0) return sendError(res, 410, 'DOWNLOADS_EXHAUSTED', 'all downloads of this file were used');
    file.info.downloadsLeft = left - 1;
    res.writeHead(200, {
      'content-type': file.info.contentType as string,
      'content-length': file.bytes.length,
      etag: `"${file.info.sha256 as string}"`,
      'legim-downloads-left': left - 1,
      'cache-control': 'no-store, private',
    });
    return void res.end(file.bytes);
  }

  if (a === 'v1' && b === 'files' && id !== undefined) {
    const file = peer.files.get(id);
    if (!file) return sendError(res, 404, 'FILE_NOT_FOUND', 'no file with this id');
    if (req.method === 'GET') return sendJson(res, 200, file.info);
    if (req.method === 'DELETE') {
      if (!admin && recorded.headers.authorization !== `Bearer ${file.deleteToken}`) {
        return sendError(res, 403, 'FORBIDDEN', 'wrong delete token');
      }
      peer.files.delete(id);
      res.writeHead(204);
      return void res.end();
    }
  }

  if (url.pathname === '/v1/health' || url.pathname === '/v1/cluster') {
    if (!admin) return sendError(res, 401, 'UNAUTHORIZED', 'this needs the admin key');
    if (url.pathname === '/v1/health') {
      return sendJson(res, 200, { status: 'ok', nodes: { up: 3, suspect: 0, down: 0 }, files: peer.files.size, writeQuorum: 2, replicas: 3 });
    }
    const stats = { blobCount: 1, usedBytes: 10, freeBytes: 90, totalBytes: 100 };
    return sendJson(res, 200, {
      gateway: { id: 'gw', url: peer.url },
      nodes: [
        { id: 'c1', url: 'http://127.0.0.1:1', parentId: 'gw', status: 'up', latencyMs: 1.5, lastSeen: new Date().toISOString(), stats, files: 1 },
        { id: 'n1', url: 'http://127.0.0.1:2', parentId: 'c1', status: 'down', latencyMs: null, lastSeen: new Date().toISOString(), stats, files: 0 },
      ],
    });
  }

  sendError(res, 404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sniff(bytes: Buffer): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return undefined;
}
