/**
 * Helpers for the SDK tests. Every test talks to a real gateway with real
 * storage nodes (`startCluster` from test-support); nothing here answers a
 * request in the gateway's place.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import type { TestCluster } from '../../../test-support/cluster.js';
import { allFiles } from '../../../test-support/files.js';

export { allFiles };

/** What the SDK handed to its dispatcher for one request. */
export interface Dispatched {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/**
 * A real undici `Agent` that notes every request it dispatches, so a test can
 * see that the SDK used it and what the SDK sent (headers, query).
 */
export class RecordingAgent extends Agent {
  readonly dispatched: Dispatched[] = [];

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatched.push({ method: options.method, path: options.path, headers: lowerCaseHeaders(options.headers) });
    return super.dispatch(options, handler);
  }

  /** The query parameters of the last request to `path`. */
  lastQuery(method: string, path: string): Record<string, string> {
    const request = this.dispatched.findLast((d) => d.method === method && d.path.split('?')[0] === path);
    if (!request) throw new Error(`no ${method} ${path} went through the agent`);
    return Object.fromEntries(new URL(request.path, 'http://x').searchParams);
  }
}

function lowerCaseHeaders(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined || headers === null) return out;
  const entries: [string, unknown][] = Array.isArray(headers)
    ? Array.from({ length: headers.length / 2 }, (_, i) => [String(headers[2 * i]), headers[2 * i + 1]])
    : Object.entries(headers as Record<string, unknown>);
  for (const [name, value] of entries) out[name.toLowerCase()] = String(value);
  return out;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'legim-sdk-'));
}

/** The blob files (not sidecars, not temp files) holding file `id` on the storage nodes' disks. */
export function replicaFiles(cluster: TestCluster, id: string): string[] {
  return cluster.nodes.flatMap((node) =>
    allFiles(join(node.dataDir, 'blobs')).filter((path) => path.slice(path.lastIndexOf('/') + 1) === id),
  );
}

export { waitFor } from '../../../test-support/wait.js';

export const UNKNOWN_ID = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';
