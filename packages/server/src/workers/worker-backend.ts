import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LegimError } from '@legim/sdk';
import { HttpBlobTransport } from '../backends/blob-transport/http.js';
import { openSharedBackends } from '../backends/open-backends.js';
import { NodeRegistry } from '../cluster/node-registry.js';
import { openClusterView } from '../cluster/open-cluster-view.js';
import { FileReaper } from '../expiry/file-reaper.js';
import { HealthMonitor } from '../health/health-monitor.js';
import { loadIdentity } from '../identity.js';
import { ReplicaPlacer } from '../placement/replica-placer.js';
import { GatewayWorkerClient } from './gateway-worker-client.js';
import type { WorkerConfig } from './start-worker.js';
import type { FileReaping, WorkerStore } from './worker-store.js';

/** Everything a worker reads, writes and reaches, from wherever its configuration says. */
export interface WorkerBackend {
  store: WorkerStore;
  reaper: FileReaping;
  registry: NodeRegistry;
  health: HealthMonitor;
  placer: ReplicaPlacer;
  /** Holds the job queue's tables: the embedded queue, or RabbitMQ's outbox. */
  db: Database.Database;
  close(): Promise<void>;
}

/**
 * `--data`: the gateway's own SQLite database, on its host, with no extra
 * hop. `--gateway`: the gateway's internal API, from any host.
 */
export function openWorkerBackend(config: WorkerConfig): Promise<WorkerBackend> {
  return config.gateway === undefined ? openLocal(config.dataDir, config) : openRemote(config.gateway, config);
}

async function openLocal(dataDir: string, config: WorkerConfig): Promise<WorkerBackend> {
  if (!existsSync(join(dataDir, 'identity.json'))) {
    throw new LegimError(
      'INVALID_OPTION',
      `${dataDir} is not a gateway's data directory: point --data at the one the gateway uses, ` +
        'or run the worker on any host with --gateway URL --secret SECRET',
    );
  }
  const identity = loadIdentity(dataDir, { adminKey: undefined, clusterSecret: undefined });
  const { db, metadata, registry, health, placer } = await openClusterView({
    dataDir,
    clusterSecret: identity.clusterSecret,
    healthIntervalMs: config.healthIntervalMs,
  });
  // The gateways' lock and counter backends, so a reap here never interleaves with their repairs.
  const {
    locks,
    counter,
    close: closeBackends,
  } = await openSharedBackends(config, db, 'legim-worker').catch(async (error: unknown) => {
    await registry.close();
    db.close();
    throw error;
  });
  return {
    store: metadata,
    reaper: new FileReaper(metadata, registry, locks, counter),
    registry,
    health,
    placer,
    db,
    close: async () => {
      await closeBackends();
      await registry.close();
      db.close();
    },
  };
}

async function openRemote(
  gateway: { url: string; clusterSecret: string },
  config: WorkerConfig,
): Promise<WorkerBackend> {
  if (config.amqpUrl === undefined) {
    throw new LegimError(
      'INVALID_OPTION',
      'a worker started with --gateway takes its jobs from RabbitMQ: add --amqp URL (the one the gateway uses); ' +
        "the embedded queue lives in the gateway's database, which only a worker on its host can open (--data)",
    );
  }
  // Checked first, so a wrong secret or URL fails fast with one clear message.
  const client = await GatewayWorkerClient.connect(gateway.url, gateway.clusterSecret);
  const registry = new NodeRegistry(client, (node) => new HttpBlobTransport(node.id, node.url, gateway.clusterSecret));
  try {
    await registry.load();
  } catch (error) {
    await client.close();
    throw error;
  }
  // The RabbitMQ queue keeps an outbox in SQLite for what it enqueues. A
  // worker enqueues nothing (retries go through the broker's retry queues),
  // so that outbox stays empty and need not outlive the process.
  const db = new Database(':memory:');
  return {
    store: client,
    // One reaping implementation: the gateway's, which holds the metadata.
    reaper: client,
    registry,
    health: new HealthMonitor(registry, config.healthIntervalMs),
    placer: new ReplicaPlacer(registry),
    db,
    close: async () => {
      await registry.close();
      await client.close();
      db.close();
    },
  };
}
