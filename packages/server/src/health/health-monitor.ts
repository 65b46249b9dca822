import type { ClusterNode, NodeRegistry, NodeStatus } from '../cluster/node-registry.js';
import type { EmitEvent } from '../events/gateway-events.js';

/** Failed probes in a row before a node counts as down (one makes it suspect). */
const DOWN_AFTER_FAILURES = 3;
const LATENCY_SMOOTHING = 0.3;

/**
 * Probes every node on a fixed interval and keeps its status and latency
 * EWMA. Reads and placement consult the result; they never wait on a probe.
 */
export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  /** The status last reported per node, so only changes become `node.status` events. */
  private readonly reported = new Map<string, NodeStatus>();

  constructor(
    private readonly registry: NodeRegistry,
    private readonly intervalMs: number,
    private readonly emit: EmitEvent = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.probeAll(), this.intervalMs);
    this.timer.unref();
  }

  /** One probe of every node; concurrent calls share the round in flight. */
  probeAll(): Promise<void> {
    this.round ??= Promise.all(this.registry.all().map((node) => this.probe(node))).then(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Called when a request to a node failed: don't wait for the next probe to stop using it. */
  reportFailure(node: ClusterNode): void {
    this.recordFailure(node);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  private async probe(node: ClusterNode): Promise<void> {
    const started = performance.now();
    try {
      node.stats = await node.transport.probe();
      const elapsed = performance.now() - started;
      node.latencyMs =
        node.latencyMs === undefined ? elapsed : node.latencyMs + LATENCY_SMOOTHING * (elapsed - node.latencyMs);
      node.consecutiveFailures = 0;
      node.status = 'up';
      node.downSince = undefined;
      node.lastSeen = Date.now();
      this.report(node);
    } catch {
      this.recordFailure(node);
    }
  }

  private recordFailure(node: ClusterNode): void {
    node.consecutiveFailures++;
    node.status = node.consecutiveFailures >= DOWN_AFTER_FAILURES ? 'down' : 'suspect';
    if (node.status === 'down') node.downSince ??= Date.now();
    this.report(node);
  }

  private report(node: ClusterNode): void {
    const previous = this.reported.get(node.id) ?? null;
    if (previous === node.status) return;
    this.reported.set(node.id, node.status);
    this.emit({ type: 'node.status', nodeId: node.id, status: node.status, previous });
  }
}
