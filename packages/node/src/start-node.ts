import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { LegimError } from '@legim/sdk';
import { Agent, type Dispatcher } from 'undici';
import { BlobScrubber } from './blob-scrubber.js';
import { BlobStore } from './blob-store.js';
import type { NodeConfig } from './config.js';
import { createNodeServer } from './http/create-node-server.js';
import { createLogger, type Logger } from './logging/create-logger.js';
import { loadOrCreateNodeIdentity } from './node-identity.js';
import { ParentLink } from './tree/parent-link.js';
import { createListener, schemeOf, type Listener } from './tls/https-listener.js';
import { plainPeerRefusal } from './tls/peer-policy.js';
import { PLAIN_HTTP } from './tls/tls-settings.js';

/** A started storage node. */
export interface RunningNode {
  nodeId: string;
  /** The URL it advertises (and the gateway uses). */
  url: string;
  /** The port it actually listens on (useful with `port: 0`). */
  port: number;
  store: BlobStore;
  /** Checks the blobs against their sidecars in the background (see `scrubRate`). */
  scrubber: BlobScrubber;
  /** Present when the node has a parent. */
  parentLink: ParentLink | undefined;
  /** Resolves when the gateway has removed this node from the cluster (after a drain); heartbeats have stopped. */
  removed: Promise<void>;
  /**
   * Asks the gateway, through the parent, to drain this node: its children
   * first, then its own blobs are copied to other nodes, and it is removed.
   * Reads keep being served meanwhile. Resolves once removed (then `close()`);
   * rejects if the request cannot reach the gateway or `timeoutMs` passes.
   */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops heartbeats, then the server; connections still busy after the grace period are cut. */
  close(): Promise<void>;
}

export interface StartNodeOptions {
  /** Where the node logs; defaults to JSON lines on stderr at `info`. */
  logger?: Logger;
  /** For the parent link's requests; default: one trusting the configured CA (`tls.peers.ca`). */
  dispatcher?: Dispatcher;
  /** How long `close()` lets in-flight requests finish (default 1000 ms). */
  closeGraceMs?: number;
}

/**
 * Starts a storage node: loads or creates its identity, opens its store,
 * listens, and joins its parent if it has one.
 *
 * @example
 * const node = await startNode(parseNodeConfig({ flags, env: process.env }));
 * process.once('SIGTERM', () => void node.close());
 */
export async function startNode(config: NodeConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const logger = options.logger ?? createLogger({ name: 'node' });
  const tls = config.tls ?? PLAIN_HTTP;
  const refusal =
    config.parentUrl === undefined ? undefined : plainPeerRefusal(config.parentUrl, tls.peers, 'the parent');
  if (refusal) throw refusal;
  await mkdir(config.dataDir, { recursive: true });
  const { nodeId } = await loadOrCreateNodeIdentity(config.dataDir);
  const store = new BlobStore({ dataDir: config.dataDir, capacityBytes: config.capacityBytes, logger });
  await store.init();
  const scrubber = new BlobScrubber({
    store,
    bytesPerSecond: config.scrubRate,
    intervalMs: config.scrubIntervalMs,
    logger,
  });

  let parentLink: ParentLink | undefined;
  let markRemoved: () => void = () => {};
  const removed = new Promise<void>((resolve) => (markRemoved = resolve));
  const handler = createNodeServer({
    store,
    secret: config.secret,
    nodeId,
    startedAt: Date.now(),
    heartbeatMs: config.heartbeatMs,
    scrubStats: () => scrubber.stats(),
    onJoin: async (join) => parentLink?.relay(join),
    onDrain: async (request) => {
      if (!parentLink) throw new LegimError('NOT_FOUND', 'this node has no parent to drain into');
      await parentLink.requestDrain(request);
    },
    logger,
  });
  const server = createListener(tls.identity, {}, handler);
  const port = await listen(server, config.port, config.host);
  const url = config.advertiseUrl ?? `${schemeOf(tls.identity)}://${advertisedHost(config.host)}:${port}`;
  const caAgent =
    options.dispatcher || tls.peers.ca === undefined ? undefined : new Agent({ connect: { ca: tls.peers.ca } });
  const dispatcher = options.dispatcher ?? caAgent;

  if (config.parentUrl !== undefined) {
    parentLink = new ParentLink({
      parentUrl: config.parentUrl,
      secret: config.secret,
      nodeId,
      url,
      bootId: randomUUID(),
      readStats: () => store.stats(),
      heartbeatMs: config.heartbeatMs,
      logger,
      onRemoved: () => markRemoved(),
      corruptReports: scrubber.reports,
      ...(dispatcher ? { dispatcher } : {}),
    });
    parentLink.start();
  }
  scrubber.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all([parentLink?.stop(), scrubber.stop()]);
      await closeServer(server, options.closeGraceMs ?? 1000);
      await caAgent?.close();
    })();
    return closing;
  };
  const drain = async ({ timeoutMs = DRAIN_TIMEOUT_MS }: { timeoutMs?: number } = {}): Promise<void> => {
    if (!parentLink) throw new LegimError('INVALID_OPTION', 'a node without a parent has nothing to drain into');
    await parentLink.requestDrain({ nodeId });
    logger.info(`draining node ${nodeId}: its blobs are being copied to other nodes`);
    await untilRemoved(removed, timeoutMs);
  };
  return { nodeId, url, port, store, scrubber, parentLink, removed, drain, close };
}

/** How long `drain()` waits for the gateway to finish by default. */
const DRAIN_TIMEOUT_MS = 30 * 60_000;

async function untilRemoved(removed: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LegimError('UNAVAILABLE', `the drain did not finish within ${Math.round(timeoutMs / 1000)} s`, {
            details: { timeoutMs },
          }),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([removed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function listen(server: Listener, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void => {
      const hint =
        error.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use: choose another with --port`
          : error.code === 'EADDRNOTAVAIL'
            ? `${host} is not an address of this machine: fix --host`
            : error.code === 'EACCES'
              ? `not allowed to listen on ${host}:${port}: use a port above 1023`
              : undefined;
      reject(hint === undefined ? error : new LegimError('INVALID_OPTION', hint, { cause: error }));
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function closeServer(server: Listener, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cutOff = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(cutOff);
  }
}

/**
 * The host part of the default advertised URL. A wildcard bind address is
 * not reachable from elsewhere, so the first external IPv4 address stands
 * in for it; set `advertise` when that guess is wrong.
 */
function advertisedHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') {
    for (const addresses of Object.values(networkInterfaces())) {
      const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
      if (external) return external.address;
    }
    return '127.0.0.1';
  }
  return host.includes(':') ? `[${host}]` : host;
}
