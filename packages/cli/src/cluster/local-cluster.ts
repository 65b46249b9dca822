import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LogLevel } from '@legim/node';
import { Legim } from '@legim/sdk';
import { ManagedChild, type ReadyMessage, type ReadySignal } from './child.js';
import type { LocalTlsFiles } from './local-ca.js';
import { portLayout } from './ports.js';
import { loadOrCreateSecrets, type ClusterSecrets } from './secrets.js';
import { waitFor, waitForNodesUp, type Deadline } from './wait.js';

/** Shared backends of the gateways; unset: SQLite and the embedded queue. */
export interface ClusterBackends {
  /** The index: unset for SQLite in the gateway's data directory, else e.g. a postgres:// URL. */
  databaseUrl?: string | undefined;
  redisUrl?: string | undefined;
  redisPrefix?: string | undefined;
  /** With RabbitMQ the gateways run no image work: one `legim worker` process does. */
  amqpUrl?: string | undefined;
  queuePrefix?: string | undefined;
}

export interface LocalClusterOptions {
  /** Gateway processes sharing `<dataDir>/gateway` (default 1); more than one needs nodes. */
  gateways?: number;
  /** Storage node processes; 0 makes the gateway store on its own disk. */
  nodes: number;
  /** Gateway j listens on port + j, node i on port + gateways - 1 + i. */
  port: number;
  host: string;
  dataDir: string;
  backends?: ClusterBackends;
  /** Passed to every process as `--log-level` (default: theirs, `info`). */
  logLevel?: LogLevel;
  /** Every gateway and node serves HTTPS with this certificate, and every process trusts this CA only. */
  tls?: LocalTlsFiles | undefined;
  /** The gateways' `--uploads` (default open). */
  uploads?: 'open' | 'key';
  /**
   * The gateways' `--encrypt`: on SQLite the first gateway generates the master key into
   * `<data>/gateway/master.key`, which the others (sharing the directory) and a worker on it read.
   */
  encrypt?: boolean;
  /** The built CLI (`dist/main.js`), forked once per process. */
  cliPath: string;
  env: NodeJS.ProcessEnv;
  /** How long the whole start may take, until every gateway sees every node `up` (default 30 s). */
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

/** A child that serves no HTTP: an image worker. */
export interface ClusterProcess {
  name: string;
  pid: number | undefined;
}

export interface RunningCluster {
  /** The first gateway: the nodes' parent, and the one the settings point at. */
  gateway: ClusterMember;
  gateways: ClusterMember[];
  nodes: ClusterMember[];
  /** `legim worker` processes (one with RabbitMQ, else none: the gateways do the image work). */
  workers: ClusterProcess[];
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

/** Backend settings the children would otherwise inherit from this environment. */
const BACKEND_ENV = [
  'LEGIM_DATABASE_URL',
  'LEGIM_REDIS_URL',
  'LEGIM_REDIS_PREFIX',
  'LEGIM_AMQP_URL',
  'LEGIM_QUEUE_PREFIX',
] as const;

/** TLS settings the children would otherwise inherit: `up` gives them the cluster's own, or none. */
const TLS_ENV = ['LEGIM_TLS_CERT', 'LEGIM_TLS_KEY', 'LEGIM_CA', 'LEGIM_ALLOW_HTTP_LOOPBACK'] as const;

/** `$XDG_DATA_HOME/legim`, or `~/.local/share/legim`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'legim');
}

/**
 * Starts the gateways (the first alone: it creates the identity and the
 * database the others share), then the storage nodes (children of the first
 * gateway) and, with RabbitMQ, an image worker, each its own OS process.
 * Resolves once every gateway reports every node `up`. On any failure the
 * processes already started are stopped before the promise rejects.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<RunningCluster> {
  const dataDir = resolve(options.dataDir);
  const gatewayDir = join(dataDir, 'gateway');
  const gatewayCount = options.gateways ?? 1;
  const backends = options.backends ?? {};
  const ports = portLayout(options.port, gatewayCount, options.nodes);
  const budgetMs = options.readyTimeoutMs ?? 30_000;
  const deadline: Deadline = { at: Date.now() + budgetMs, budgetMs, signal: options.signal };
  const secrets = await loadOrCreateSecrets(dataDir);
  const children: ManagedChild[] = [];

  // Secrets and backend URLs (which may hold passwords) travel in the
  // environment, not on the command line where `ps` shows them.
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    LEGIM_ADMIN_KEY: secrets.adminKey,
    LEGIM_CLUSTER_SECRET: secrets.clusterSecret,
  };
  for (const key of [...BACKEND_ENV, ...TLS_ENV]) delete env[key];
  if (options.tls) {
    env.LEGIM_TLS_CERT = options.tls.cert;
    env.LEGIM_TLS_KEY = options.tls.key;
    env.LEGIM_CA = options.tls.ca;
  }
  const ca = options.tls ? { ca: readFileSync(options.tls.ca) } : {};
  if (backends.databaseUrl) env.LEGIM_DATABASE_URL = backends.databaseUrl;
  if (backends.redisUrl) env.LEGIM_REDIS_URL = backends.redisUrl;
  if (backends.redisPrefix) env.LEGIM_REDIS_PREFIX = backends.redisPrefix;
  if (backends.amqpUrl) env.LEGIM_AMQP_URL = backends.amqpUrl;
  if (backends.queuePrefix) env.LEGIM_QUEUE_PREFIX = backends.queuePrefix;

  const levelArgs = options.logLevel === undefined ? [] : ['--log-level', options.logLevel];
  const spawn = (name: string, args: string[], readySignal: ReadySignal = 'ipc'): ManagedChild => {
    const child = new ManagedChild(
      name,
      options.cliPath,
      [...args, ...levelArgs],
      env,
      {
        onStderrLine: (line) => options.onEvent({ type: 'stderr', name, line }),
        onExit: (code, signal, stopping) =>
          options.onEvent({ type: 'exit', name, pid: child.pid, code, signal, expected: stopping }),
      },
      readySignal,
    );
    children.push(child);
    return child;
  };

  const stop = async (graceMs = STOP_GRACE_MS): Promise<void> => {
    await Promise.all(children.map((child) => child.stop(graceMs)));
  };

  const gatewayArgs = (port: number): string[] => {
    const args = ['server', 'start', '--port', String(port), '--host', options.host, '--data', gatewayDir];
    if (options.nodes > 0) args.push('--no-store');
    if (options.uploads === 'key') args.push('--uploads', 'key');
    if (options.encrypt) args.push('--encrypt');
    if (options.nodes < 3) {
      // Fewer places than the default 3 replicas / quorum of 2: ask for what exists.
      const replicas = Math.max(1, options.nodes);
      args.push('--replicas', String(replicas), '--write-quorum', String(Math.min(2, replicas)));
    }
    return args;
  };
  const gatewayName = (j: number): string => (gatewayCount === 1 ? 'gateway' : `gateway-${j + 1}`);

  try {
    // The first gateway alone: it writes identity.json and migrates the database.
    const first = spawn(gatewayName(0), gatewayArgs(ports.gateways[0]!));
    const firstReady = await waitFor(first.ready, deadline, 'the gateway did not start');
    const others = ports.gateways.slice(1).map((port, j) => spawn(gatewayName(j + 1), gatewayArgs(port)));
    const othersReady = await waitFor(
      Promise.all(others.map((gateway) => gateway.ready)),
      deadline,
      'the other gateways did not start',
    );
    const gateways = [first, ...others].map((child, j) => ({
      name: child.name,
      url: urlOf(j === 0 ? firstReady : othersReady[j - 1]!),
      pid: child.pid,
    }));

    const nodes = ports.nodes.map((port, index) =>
      spawn(`node-${index + 1}`, [
        'node',
        'start',
        '--port',
        String(port),
        '--host',
        options.host,
        '--data',
        join(dataDir, `node-${index + 1}`),
        '--parent',
        gateways[0]!.url,
      ]),
    );
    // With RabbitMQ the gateways leave image work to workers: one shares their database.
    const workers = backends.amqpUrl
      ? [spawn('worker', ['worker', '--data', gatewayDir, '--json'], 'stdout-json')]
      : [];
    const [nodesReady] = await Promise.all([
      waitFor(Promise.all(nodes.map((node) => node.ready)), deadline, 'the storage nodes did not start'),
      waitFor(Promise.all(workers.map((worker) => worker.ready)), deadline, 'the image worker did not start'),
    ]);

    await waitForNodesUp(
      gateways.map((gateway) => ({
        name: gateway.name,
        legim: new Legim({ url: gateway.url, apiKey: secrets.adminKey, ...ca }),
      })),
      nodesReady.map((message) => ({ url: urlOf(message), nodeId: 'nodeId' in message ? message.nodeId : undefined })),
      deadline,
    );

    return {
      gateway: gateways[0]!,
      gateways,
      nodes: nodes.map((node, i) => ({ name: node.name, url: urlOf(nodesReady[i]!), pid: node.pid })),
      workers: workers.map((worker) => ({ name: worker.name, pid: worker.pid })),
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

/** The address a gateway or node announced (a worker serves none). */
function urlOf(message: ReadyMessage): string {
  if (message.role === 'worker') throw new Error('a worker has no address');
  return message.url;
}
