import type { PeerTls } from '@legim/node';
import { HttpBlobTransport } from './backends/blob-transport/http.js';
import { HealthMonitor } from './health/health-monitor.js';
import type { EmitEvent } from './events/gateway-events.js';
import type { NodeDirectory } from './metadata/types.js';
import { ReplicaPlacer } from './placement/replica-placer.js';
import { NodeRegistry } from './cluster/node-registry.js';

/** What a gateway or a worker on the index needs to find and reach the storage nodes. */
export interface ClusterView {
  registry: NodeRegistry;
  health: HealthMonitor;
  placer: ReplicaPlacer;
}

/** Loads the storage nodes the index knows, with a prober and a placer over them. */
export async function openClusterView(options: {
  nodes: NodeDirectory;
  clusterSecret: string;
  /** How the nodes are reached: the CA their certificates must chain to, and whether http:// is refused. */
  peers: PeerTls;
  healthIntervalMs: number;
  /** Where node status changes are reported (the gateway's events). */
  emit?: EmitEvent;
  /** Where a node refused for its TLS is reported, once per node. */
  log?: (line: string) => void;
}): Promise<ClusterView> {
  const registry = new NodeRegistry(
    options.nodes,
    (node) =>
      new HttpBlobTransport(node.id, node.url, options.clusterSecret, { peers: options.peers, log: options.log }),
  );
  await registry.load();
  const health = new HealthMonitor(registry, options.healthIntervalMs, options.emit);
  return { registry, health, placer: new ReplicaPlacer(registry) };
}
