import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Legim, type ClusterView } from '@legim/sdk';
import { CliError } from '../errors.js';
import { ManagedChild } from './child.js';
import { loadOrCreateSecrets, type ClusterSecrets } from './secrets.js';

export interface LocalClusterOptions {
  /** Storage node processes; 0 makes the gateway store on its own disk. */
  nodes: number;
  /** The gateway's port; node i listens on port + i. */
  port: number;
  host: string;
  dataDir: string;
  /** The built CLI (`dist/main.js`), forked once per process. */
  cliPath: string;
  env: NodeJS.ProcessEnv;
  /** How long the whole start may take, until every node shows `up` (default 30 s). */
  readyTimeoutMs?: number;
  /** Aborting during the start stops what was started and rejects with an AbortError. */
  signal?: AbortSignal;
  onEvent(event: ClusterEvent): void;
}

export type ClusterEvent =
  | { type: 'stderr'; name: string; line: string }
  | {
      type: 'exit';
      name: string;
      pid: number | undefined;
      code: number | null;
      signal: NodeJS.Signals | null;
      expected: boolean;
    };

export interface ClusterMember {
  name: string;
  url: string;
  pid: number | undefined;
}

export interface RunningCluster {
  gateway: ClusterMember;
  nodes: ClusterMember[];
  dataDir: string;
  secrets: ClusterSecrets;
  /** Children still running. */
  readonly alive: number;
  /** SIGTERM every child, SIGKILL those still there after `graceMs`; resolves when all are gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL every child at once. */
  kill(): void;
}

export const STOP_GRACE_MS = 10_000;

/** `$XDG_DATA_HOME/legim`, or `~/.local/share/legim`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'legim');
}

/**
 * Starts a gateway and `nodes` storage nodes, each its own OS process, and
 * resolves once the gateway reports every node `up`. On any failure the
 * processes already started are stopped before the promise rejects.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<RunningCluster> {
  const dataDir = resolve(options.dataDir);
  const budgetMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + budgetMs;
  const secrets = await loadOrCreateSecrets(dataDir);
  const children: ManagedChild[] = [];

  const env: NodeJS.ProcessEnv = {
    ...options.env,
    // Secrets travel in the environment, not on the command line where `ps` shows them.
    LEGIM_ADMIN_KEY: secrets.adminKey,
    LEGIM_CLUSTER_SECRET: secrets.clusterSecret,
  };

  const spawn = (name: string, args: string[]): ManagedChild => {
    const child = new ManagedChild(name, options.cliPath, args, env, {
      onStderrLine: (line) => options.onEvent({ type: 'stderr', name, line }),
      onExit: (code, signal, stopping) =>
        options.onEvent({ type: 'exit', name, pid: child.pid, code, signal, expected: stopping }),
    });
    children.push(child);
    return child;
  };

  const stop = async (graceMs = STOP_GRACE_MS): Promise<void> => {
    await Promise.all(children.map((child) => child.stop(graceMs)));
  };

  try {
    const gatewayArgs = [
      'server',
      'start',
      '--port',
      String(options.port),
      '--host',
      options.host,
      '--data',
      join(dataDir, 'gateway'),
    ];
    if (options.nodes > 0) gatewayArgs.push('--no-store');
    if (options.nodes < 3) {
      // Fewer places than the default 3 replicas / quorum of 2: ask for what exists.
      const replicas = Math.max(1, options.nodes);
      gatewayArgs.push('--replicas', String(replicas), '--write-quorum', String(Math.min(2, replicas)));
    }
    const gateway = spawn('gateway', gatewayArgs);
    const gatewayReady = await waitFor(
      gateway.ready,
      deadline,
      options.signal,
      `the gateway did not start within ${budgetMs / 1000} s`,
    );

    const nodes = Array.from({ length: options.nodes }, (_, index) => {
      const n = index + 1;
      return spawn(`node-${n}`, [
        'node',
        'start',
        '--port',
        String(options.port + n),
        '--host',
        options.host,
        '--data',
        join(dataDir, `node-${n}`),
        '--parent',
        gatewayReady.url,
      ]);
    });
    const nodesReady = await waitFor(
      Promise.all(nodes.map((node) => node.ready)),
      deadline,
      options.signal,
      `the storage nodes did not start within ${budgetMs / 1000} s`,
    );

    const wanted = nodesReady.map((message) => ({
      url: message.url,
      nodeId: 'nodeId' in message ? message.nodeId : undefined,
    }));
    await waitForNodesUp(
      new Legim({ url: gatewayReady.url, apiKey: secrets.adminKey }),
      wanted,
      deadline,
      budgetMs,
      options.signal,
    );

    return {
      gateway: { name: gateway.name, url: gatewayReady.url, pid: gateway.pid },
      nodes: nodes.map((node, i) => ({ name: node.name, url: nodesReady[i]!.url, pid: node.pid })),
      dataDir,
      secrets,
      get alive() {
        return children.filter((child) => child.alive).length;
      },
      stop,
      kill: () => children.forEach((child) => child.kill()),
    };
  } catch (error) {
    await stop(2_000);
    throw error;
  }
}

/** Polls `GET /v1/cluster` until every wanted node is `up`. */
async function waitForNodesUp(
  legim: Legim,
  wanted: Array<{ url: string; nodeId: string | undefined }>,
  deadline: number,
  budgetMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (wanted.length === 0) return;
  let view: ClusterView | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      view = await legim.cluster();
      const up = view.nodes.filter((node) => node.status === 'up');
      const missing = wanted.filter((w) => !up.some((node) => node.id === w.nodeId || sameUrl(node.url, w.url)));
      if (missing.length === 0) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(200, undefined, signal ? { signal } : undefined);
  }
  const upCount = view ? view.nodes.filter((node) => node.status === 'up').length : 0;
  const why = view
    ? `the gateway sees ${upCount} of ${wanted.length} storage nodes up`
    : `the gateway did not answer (${String((lastError as Error | undefined)?.message ?? lastError)})`;
  throw new CliError('CLUSTER_NOT_READY', `the cluster was not ready within ${Math.round(budgetMs / 1000)} s: ${why}`);
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Waits for a promise, an abort or the deadline, whichever comes first. */
async function waitFor<T>(
  promise: Promise<T>,
  deadline: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  signal?.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError('CLUSTER_NOT_READY', what)), Math.max(0, deadline - Date.now()));
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, limit]);
  } catch (error) {
    if (error instanceof CliError || signal?.aborted) throw error;
    // A child exited before it was ready: its message names it and says why.
    throw new CliError('CLUSTER_NOT_READY', error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
