import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { HttpBlobTransport } from '../backends/blob-transport/http.js';
import { HealthMonitor } from '../health/health-monitor.js';
import type { EmitEvent } from '../events/gateway-events.js';
import { openDatabase } from '../metadata/open-database.js';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.js';
import { ReplicaPlacer } from '../placement/replica-placer.js';
import { NodeRegistry } from './node-registry.js';

/** What a gateway or a worker on the gateway's host needs to find and reach the data. */
export interface ClusterView {
  db: Database.Database;
  metadata: SqliteMetadataStore;
  registry: NodeRegistry;
  health: HealthMonitor;
  placer: ReplicaPlacer;
}

/** Opens the metadata database in `dataDir` and the storage nodes it knows. */
export async function openClusterView(options: {
  dataDir: string;
  clusterSecret: string;
  healthIntervalMs: number;
  /** Where node status changes are reported (the gateway's events). */
  emit?: EmitEvent;
}): Promise<ClusterView> {
  const db = openDatabase(join(options.dataDir, 'metadata.db'));
  const metadata = new SqliteMetadataStore(db);
  const registry = new NodeRegistry(
    metadata,
    (node) => new HttpBlobTransport(node.id, node.url, options.clusterSecret),
  );
  await registry.load();
  const health = new HealthMonitor(registry, options.healthIntervalMs, options.emit);
  return { db, metadata, registry, health, placer: new ReplicaPlacer(registry) };
}
