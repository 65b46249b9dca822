import type { Logger } from '@legim/node';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseGatewayConfig, startGateway, type GatewayFlags, type RunningGateway } from '@legim/server';
import { Agent, request } from 'undici';
import { repoRoot } from './fixtures.js';
import { freshDatabase, type EngineKind } from './test-database.js';

/** The index a test cluster's gateway uses: what `--database` was given, and which engine that is. */
export interface ClusterDatabase {
  kind: EngineKind;
  value: string;
}

/** The engine a cluster gets when the test names none: `LEGIM_TEST_ENGINE` (sqlite or postgres), else SQLite. */
export function defaultTestEngine(): EngineKind {
  const named = process.env.LEGIM_TEST_ENGINE;
  if (named === undefined || named === '') return 'sqlite';
  if (named === 'sqlite' || named === 'postgres') return named;
  throw new Error(`LEGIM_TEST_ENGINE=${named}: use sqlite or postgres`);
}

export interface NodeProcess {
  nodeId: string;
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Resolves when the process has exited (a drained node exits by itself once removed). */
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestCluster {
  gateway: RunningGateway;
  dataDir: string;
  /** The gateway's index; kept across `restartGateway()`, dropped by `close()`. */
  database: ClusterDatabase;
  nodes: NodeProcess[];
  /**
   * Starts a node under the gateway, or under `parentUrl` (another node) to
   * build a deeper tree; `tls` overrides the cluster's TLS for this node
   * (`null`: plain HTTP), e.g. to start one whose certificate another CA signed.
   */
  startNode(options?: {
    dataDir?: string;
    port?: number;
    parentUrl?: string;
    tls?: Partial<TestTls> | null;
  }): Promise<NodeProcess>;
  /**
   * Stops the gateway and starts it again, keeping its data; with
   * `loseIndex` its index is destroyed in between (the SQLite file, or the
   * PostgreSQL schema), as when the gateway's host or database is lost.
   */
  restartGateway(options?: { loseIndex?: boolean }): Promise<RunningGateway>;
  /**
   * Another gateway in this process on the same data folder and index, with
   * the cluster's flags (secret, admin key, Redis...) and `overrides`, on a
   * port of its own; closed with the cluster unless closed before.
   */
  startPeerGateway(overrides?: GatewayFlags): Promise<RunningGateway>;
  /** Resolves once the gateway sees `count` nodes up. */
  waitForNodes(count: number): Promise<void>;
  close(): Promise<void>;
}

/** PEM files: the certificate and key a gateway or node serves HTTPS with, and the CA it trusts for its peers. */
export interface TestTls {
  cert: string;
  key: string;
  ca: string;
}

const SECRET = 'test-cluster-secret-0123456789';
const ADMIN = 'test-admin-key-0123456789abcdef';

/**
 * A real gateway (in this process, on port 0) with real storage nodes, each
 * its own OS process, in a fresh temp folder. Nothing is mocked.
 */
export async function startCluster(options: {
  nodes: number;
  gateway?: GatewayFlags;
  /**
   * The index engine (default: `defaultTestEngine()`). SQLite is the embedded
   * file in the gateway's data folder (fresh, as the folder is, and where
   * tests reading `metadata.db` look); PostgreSQL is a schema of the
   * cluster's own in the test database. A `database` gateway flag wins.
   */
  engine?: EngineKind;
  /** Where the gateway (it runs in the test's process) logs; JSON lines on stderr by default. */
  logger?: Logger;
  /** Extra `NodeConfig` settings of every node started, e.g. `{ scrubIntervalMs: 200 }`. */
  node?: NodeSettings;
  /** HTTPS everywhere: the gateway and every node serve this certificate and trust this CA. */
  tls?: TestTls;
}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'legim-test-'));
  const gatewayDir = String(options.gateway?.data ?? join(dataDir, 'gateway'));
  const { database, dropDatabase, wipeDatabase } = clusterDatabase(
    options.engine ?? defaultTestEngine(),
    gatewayDir,
    options.gateway,
  );
  const flags: GatewayFlags = {
    port: 0,
    data: gatewayDir,
    database: database.value,
    secret: SECRET,
    adminKey: ADMIN,
    store: false,
    healthInterval: '0.2',
    sweepInterval: '0.2',
    // Every answer of a test gateway is held to the API document.
    checkAnswers: true,
    ...(options.tls && { tlsCert: options.tls.cert, tlsKey: options.tls.key, ca: options.tls.ca }),
    ...options.gateway,
  };
  const dispatcher = options.tls ? new Agent({ connect: { ca: readFileSync(options.tls.ca) } }) : undefined;
  const boot = () =>
    startGateway(parseGatewayConfig({ flags, env: {} }), options.logger ? { logger: options.logger } : {});
  let gateway: RunningGateway;
  try {
    gateway = await boot();
  } catch (error) {
    await dropDatabase();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const nodes: NodeProcess[] = [];
  const peers: RunningGateway[] = [];

  const cluster: TestCluster = {
    get gateway() {
      return gateway;
    },
    dataDir,
    database,
    nodes,
    async startNode(nodeOptions = {}) {
      const node = await spawnNode({
        dataDir: nodeOptions.dataDir ?? join(dataDir, `node-${nodes.length + 1}`),
        port: nodeOptions.port ?? 0,
        parentUrl: nodeOptions.parentUrl ?? gateway.url,
        ...options.node,
        ...tlsFiles(nodeOptions.tls === undefined ? options.tls : nodeOptions.tls),
      });
      nodes.push(node);
      return node;
    },
    async restartGateway(restart = {}) {
      const port = new URL(gateway.url).port;
      await gateway.close();
      if (restart.loseIndex) await wipeDatabase();
      flags.port = port;
      gateway = await boot();
      return gateway;
    },
    async startPeerGateway(overrides = {}) {
      const peer = await startGateway(
        parseGatewayConfig({ flags: { ...flags, port: 0, ...overrides }, env: {} }),
        options.logger ? { logger: options.logger } : {},
      );
      peers.push(peer);
      return peer;
    },
    async waitForNodes(count) {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const res = await request(`${gateway.url}/v1/cluster`, {
          headers: { authorization: `Bearer ${ADMIN}` },
          ...(dispatcher && { dispatcher }),
        });
        const view = (await res.body.json()) as { nodes: { status: string }[] };
        if (view.nodes.filter((n) => n.status === 'up').length >= count) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the gateway never saw ${count} nodes up`);
    },
    async close() {
      await Promise.all(nodes.map((node) => node.kill('SIGTERM')));
      await Promise.all(peers.map((peer) => peer.close()));
      await gateway.close();
      await dispatcher?.close();
      await dropDatabase();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < options.nodes; i++) await cluster.startNode();
  if (options.nodes > 0) await cluster.waitForNodes(options.nodes);
  return cluster;
}

/**
 * The cluster's index: a `database` flag given by the test as it is (the
 * test owns it), else a fresh one of `engine`, dropped when the cluster closes.
 */
function clusterDatabase(
  engine: EngineKind,
  gatewayDir: string,
  gateway: GatewayFlags | undefined,
): { database: ClusterDatabase; dropDatabase: () => Promise<void>; wipeDatabase: () => Promise<void> } {
  const given = gateway?.database;
  const refuse = async () => {
    throw new Error('the test owns this database: it cannot be wiped by the cluster');
  };
  if (given !== undefined && given !== '' && given !== 'sqlite') {
    const value = String(given);
    return {
      database: { kind: /^postgres(ql)?:/.test(value) ? 'postgres' : 'sqlite', value },
      dropDatabase: async () => {},
      wipeDatabase: refuse,
    };
  }
  if (engine === 'sqlite' || given === 'sqlite') {
    // The embedded default: removed with the data folder.
    const path = join(gatewayDir, 'metadata.db');
    return {
      database: { kind: 'sqlite', value: `sqlite:${path}` },
      dropDatabase: async () => {},
      wipeDatabase: async () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
      },
    };
  }
  // Dropping the schema loses every table; the gateway creates it again, empty, as it starts.
  const fresh = freshDatabase(engine);
  return {
    database: { kind: fresh.kind, value: fresh.value },
    dropDatabase: () => fresh.drop(),
    wipeDatabase: () => fresh.drop(),
  };
}

export const testAdminKey = ADMIN;
export const testClusterSecret = SECRET;

/** Node settings a test may add; the node process takes them as `NodeConfig` fields. */
export interface NodeSettings {
  scrubRate?: number;
  scrubIntervalMs?: number;
}

/** The node process reads the files itself (`loadTlsSettings`), as `legim node start` does. */
function tlsFiles(tls: Partial<TestTls> | null | undefined): { tlsFiles?: Partial<TestTls> } {
  return tls ? { tlsFiles: tls } : {};
}

async function spawnNode(
  config: { dataDir: string; port: number; parentUrl: string; tlsFiles?: Partial<TestTls> } & NodeSettings,
): Promise<NodeProcess> {
  const nodeConfig = { host: '127.0.0.1', secret: SECRET, heartbeatMs: 200, ...config };
  const child = spawn(process.execPath, [join(repoRoot, 'test-support/node-process.mjs'), JSON.stringify(nodeConfig)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: repoRoot,
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`node process exited with ${code} before it was ready`)));
  });
  const { nodeId, url } = JSON.parse(firstLine) as { nodeId: string; url: string };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    nodeId,
    url,
    dataDir: config.dataDir,
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
