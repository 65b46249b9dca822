import type { Logger } from '@legim/node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LegimError } from '@legim/sdk';
import { PLAIN_HTTP } from '@legim/node';
import { HttpBlobTransport } from '../backends/blob-transport/http.js';
import { openBackends, openBrokerJobQueue } from '../backends/open-backends.js';
import { NodeRegistry } from '../cluster/node-registry.js';
import { openClusterView } from '../open-cluster-view.js';
import { CdnPurger } from '../cdn/cdn-purger.js';
import { NEGOTIATED_PREVIEW } from '../variants/preview-format.js';
import { FileReaper } from '../expiry/file-reaper.js';
import { HealthMonitor } from '../health/health-monitor.js';
import { loadIdentity } from '../identity.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { ReplicaPlacer } from '../placement/replica-placer.js';
import { GatewayWorkerClient } from './gateway-worker-client.js';
import type { WorkerConfig } from './worker-config.js';
import type { FileReaping, WorkerStore } from './worker-store.js';
import { FileKeyring, type FileKeySource } from '../encryption/file-keyring.js';
import { resolveMasterKeys } from '../encryption/local-master-key.js';

/** Everything a worker reads, writes and reaches, from wherever its configuration says. */
export interface WorkerBackend {
  store: WorkerStore;
  reaper: FileReaping;
  registry: NodeRegistry;
  health: HealthMonitor;
  placer: ReplicaPlacer;
  jobs: JobQueue;
  /** Encrypted files' data keys: unwrapped here with the master keys, or by the gateway. */
  keys: FileKeySource | undefined;
  close(): Promise<void>;
}

/**
 * `--data`: the gateway's own index (its SQLite file on its host, or its
 * PostgreSQL database), with no extra hop. `--gateway`: the gateway's
 * internal API, from any host.
 */
export function openWorkerBackend(config: WorkerConfig, logger: Logger): Promise<WorkerBackend> {
  return config.gateway === undefined ? openLocal(config, logger) : openRemote(config.gateway, config, logger);
}

async function openLocal(config: WorkerConfig & { dataDir: string }, logger: Logger): Promise<WorkerBackend> {
  if (!existsSync(join(config.dataDir, 'identity.json'))) {
    throw new LegimError(
      'INVALID_OPTION',
      `${config.dataDir} is not a gateway's data directory: point --data at the one the gateway uses, ` +
        'or run the worker on any host with --gateway URL --secret SECRET',
    );
  }
  const identity = loadIdentity(config.dataDir, { adminKey: undefined, clusterSecret: undefined });
  const masterKeys = resolveMasterKeys({ ...config, masterKeys: config.masterKeys, encrypt: false });
  // The gateways' lock and counter backends, so a reap here never interleaves with their repairs.
  const backends = await openBackends(config, 'legim-worker', logger);
  try {
    const { registry, health, placer } = await openClusterView({
      nodes: backends.metadata,
      clusterSecret: identity.clusterSecret,
      peers: config.peers ?? PLAIN_HTTP.peers,
      healthIntervalMs: config.healthIntervalMs,
      log: (line: string) => logger.warn(line),
    });
    return {
      store: backends.metadata,
      reaper: new FileReaper(
        backends.metadata,
        registry,
        backends.locks,
        backends.counter,
        undefined,
        purgeHook(config, logger),
      ),
      registry,
      health,
      placer,
      jobs: backends.jobs,
      keys: masterKeys && new FileKeyring(backends.metadata, masterKeys),
      close: async () => {
        await registry.close();
        await backends.close();
      },
    };
  } catch (error) {
    await backends.close();
    throw error;
  }
}

async function openRemote(
  gateway: { url: string; clusterSecret: string },
  config: WorkerConfig,
  logger: Logger,
): Promise<WorkerBackend> {
  if (config.amqpUrl === undefined) {
    throw new LegimError(
      'INVALID_OPTION',
      'a worker started with --gateway takes its jobs from RabbitMQ: add --amqp URL (the one the gateway uses); ' +
        "the embedded queue lives in the gateway's index, which only a worker given --data can open",
    );
  }
  // Checked first, so a wrong secret or URL fails fast with one clear message.
  const peers = config.peers ?? PLAIN_HTTP.peers;
  const client = await GatewayWorkerClient.connect(gateway.url, gateway.clusterSecret, peers);
  const registry = new NodeRegistry(
    client,
    (node) =>
      new HttpBlobTransport(node.id, node.url, gateway.clusterSecret, { peers, log: (line) => logger.warn(line) }),
  );
  let jobs: JobQueue | undefined;
  try {
    await registry.load();
    jobs = await openBrokerJobQueue(config.amqpUrl, {
      ...config.jobBackoff,
      prefix: config.queuePrefix,
      maxAttempts: config.jobAttempts,
      logger,
    });
  } catch (error) {
    await registry.close();
    await client.close();
    throw error;
  }
  return {
    store: client,
    // One reaping implementation: the gateway's, which holds the metadata.
    reaper: client,
    registry,
    health: new HealthMonitor(registry, config.healthIntervalMs),
    placer: new ReplicaPlacer(registry),
    jobs,
    keys: client,
    close: async () => {
      await jobs.close();
      await registry.close();
      await client.close();
    },
  };
}

/** The CDN purge of a worker that reaps files itself (`--data`), as its gateway's flags configure it. */
function purgeHook(config: WorkerConfig, logger: Logger): ((fileId: string) => void) | undefined {
  if (!config.purge) return undefined;
  const purger = new CdnPurger(config.purge, [...config.variants, NEGOTIATED_PREVIEW], logger);
  return (fileId) => void purger.purge(fileId);
}
