import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createLogger, startNode, type Logger, type NodeConfig, type RunningNode } from '../src/index.js';

export const SECRET = 'test-cluster-secret';
export const AUTH = { authorization: `Bearer ${SECRET}` };
/** Tests read what the node answers, not what it logs. */
export const quietLogger = createLogger({ level: 'silent', name: 'node-test' });

/** A fresh folder under the OS temp dir, removed when the test ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'legim-node-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A real node on port 0 in a temp folder, closed when the test ends. */
export async function startTestNode(
  overrides: Partial<NodeConfig> = {},
  logger: Logger = quietLogger,
): Promise<RunningNode & { dataDir: string }> {
  const dataDir = overrides.dataDir ?? join(await tempDir(), 'data');
  const node = await startNode(
    { host: '127.0.0.1', port: 0, dataDir, secret: SECRET, heartbeatMs: 1000, ...overrides },
    { logger, closeGraceMs: 100 },
  );
  onTestFinished(() => node.close());
  return { ...node, dataDir };
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real logger at `debug` whose JSON lines are kept in `lines`, parsed. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) };
  return { logger: createLogger({ level: 'debug', name: 'node-test', destination }), lines };
}

/** Every file under `dir`, as paths relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A plain `node:http` request, for what undici would tidy up: raw paths with
 * `..`, chunked bodies with trailers, bodies cut off mid-way.
 */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer },
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      hostname,
      port,
      method: options.method ?? 'GET',
      path: options.path,
      headers: options.headers,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.end(options.body);
  });
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
