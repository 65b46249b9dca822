import type { BlobTransport } from '../backends/blob-transport/blob-transport.js';
import type { NodeDirectory, NodeMembership, NodeRecord, NodeStats } from '../metadata/types.js';

export type NodeStatus = 'up' | 'suspect' | 'down';

/** What the gateway knows of one storage node right now. */
export interface ClusterNode {
  id: string;
  url: string;
  parentId: string | null;
  transport: BlobTransport;
  status: NodeStatus;
  /** A draining node is still read from, but takes no new copies. */
  membership: Exclude<NodeMembership, 'removed'>;
  /** The node process's boot id from its last join. */
  bootId: string | undefined;
  /** When this process last saw it go down (or first heard of it, if it has not answered since). */
  downSince: number | undefined;
  /** Exponentially weighted moving average of probe round trips. */
  latencyMs: number | undefined;
  consecutiveFailures: number;
  lastSeen: number;
  stats: NodeStats;
}

export type TransportFactory = (node: { id: string; url: string }) => BlobTransport;

/**
 * Where the registry reads the node list and records what joins tell it:
 * the index. A worker on another host reads the list through the gateway's
 * internal API and records nothing (it hears no joins).
 */
export type NodeSource = Pick<NodeDirectory, 'listNodes'> &
  Partial<Pick<NodeDirectory, 'upsertNode' | 'setNodeMembership'>>;

const EMPTY_STATS: NodeStats = { blobCount: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0 };

/**
 * The storage nodes in the tree. Nodes announce themselves with joins and
 * heartbeats; the registry remembers them in the metadata store so a
 * restarted gateway knows where its replicas are before anyone re-joins.
 */
export class NodeRegistry {
  private readonly nodes = new Map<string, ClusterNode>();
  /** Removed (drained) nodes, with the boot id they had: only a restarted node is taken back. */
  private readonly removed = new Map<string, string | undefined>();

  constructor(
    private readonly metadata: NodeSource,
    private readonly createTransport: TransportFactory,
  ) {}

  async load(): Promise<void> {
    await this.sync();
  }

  /**
   * Picks up what another process sharing the metadata recorded since: nodes
   * that joined it (a worker hears no joins), drains and removals. A new node
   * counts as down until probed.
   */
  async sync(): Promise<void> {
    for (const record of await this.metadata.listNodes()) {
      const known = this.nodes.get(record.id);
      if (record.membership === 'removed') {
        this.removed.set(record.id, record.bootId);
        if (known) await this.forget(known);
        continue;
      }
      this.removed.delete(record.id);
      if (known?.url === record.url) {
        known.membership = record.membership ?? 'active';
        continue;
      }
      if (known) await known.transport.close();
      this.track(record, 'down');
    }
  }

  /** Adds a node that lives inside this process (the gateway's own disk). */
  addLocal(id: string, transport: BlobTransport, stats: NodeStats): ClusterNode {
    const node = this.nodeFrom({ id, url: 'local', parentId: null, lastSeen: Date.now(), stats }, transport, 'up');
    this.nodes.set(id, node);
    return node;
  }

  isRemoved(nodeId: string): boolean {
    return this.removed.has(nodeId);
  }

  /** True for a join from the very process that was drained and removed (a restarted one has a new boot id). */
  isRemovedProcess(nodeId: string, bootId: string): boolean {
    return this.removed.has(nodeId) && this.removed.get(nodeId) === bootId;
  }

  /** Records a node's new membership, here and in the metadata store. */
  async setMembership(nodeId: string, membership: NodeMembership): Promise<void> {
    await this.metadata.setNodeMembership?.(nodeId, membership);
    const node = this.nodes.get(nodeId);
    if (membership === 'removed') {
      this.removed.set(nodeId, node?.bootId);
      if (node) await this.forget(node);
      return;
    }
    this.removed.delete(nodeId);
    if (node) node.membership = membership;
  }

  /** A join or heartbeat from a node (directly or relayed through its parent). */
  async heartbeat(record: NodeRecord): Promise<ClusterNode> {
    const known = this.nodes.get(record.id);
    if (known && known.url === record.url) {
      known.parentId = record.parentId;
      known.lastSeen = record.lastSeen;
      known.stats = record.stats;
      known.bootId = record.bootId;
    } else {
      if (known) await known.transport.close();
      this.track({ ...record, membership: known?.membership ?? 'active' }, 'up');
    }
    await this.metadata.upsertNode?.(record);
    return this.nodes.get(record.id)!;
  }

  get(id: string): ClusterNode | undefined {
    return this.nodes.get(id);
  }

  all(): ClusterNode[] {
    return [...this.nodes.values()];
  }

  /**
   * Nodes that may take writes: active, and up or suspect (one missed probe is
   * often a busy node, not a dead one; a write that fails is covered by the quorum).
   */
  live(): ClusterNode[] {
    return this.all().filter((node) => node.status !== 'down' && node.membership === 'active');
  }

  /** Nodes being drained: their copies are made again elsewhere, then forgotten there. */
  draining(): ClusterNode[] {
    return this.all().filter((node) => node.membership === 'draining');
  }

  /** The node and every node below it in the tree, deepest first. */
  subtree(nodeId: string, seen = new Set<string>()): ClusterNode[] {
    const node = this.nodes.get(nodeId);
    // `seen` guards against a parent loop that joins could report.
    if (!node || seen.has(nodeId)) return [];
    seen.add(nodeId);
    const children = this.all().filter((child) => child.parentId === nodeId);
    return [...children.flatMap((child) => this.subtree(child.id, seen)), node];
  }

  /** Nodes down for at least `graceMs`: their copies no longer count, and are made again elsewhere. */
  lost(graceMs: number, now: number): string[] {
    return this.all()
      .filter((node) => node.status === 'down' && node.downSince !== undefined && now - node.downSince >= graceMs)
      .map((node) => node.id);
  }

  /** The known ones of `nodeIds`, in the order to read from: up, suspect, down, then by latency. */
  readOrder(nodeIds: string[]): ClusterNode[] {
    const rank = { up: 0, suspect: 1, down: 2 } as const;
    return nodeIds
      .map((id) => this.nodes.get(id))
      .filter((node): node is ClusterNode => node !== undefined)
      .sort((a, b) => rank[a.status] - rank[b.status] || (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity));
  }

  /** The failure domain: the child of the gateway this node hangs under. */
  domainOf(node: ClusterNode): string {
    let current = node;
    for (let hops = 0; hops < 32; hops++) {
      const parent = current.parentId ? this.nodes.get(current.parentId) : undefined;
      if (!parent) return current.id;
      current = parent;
    }
    return current.id;
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((node) => node.transport.close()));
    this.nodes.clear();
  }

  private async forget(node: ClusterNode): Promise<void> {
    this.nodes.delete(node.id);
    await node.transport.close();
  }

  private track(record: NodeRecord, status: NodeStatus): void {
    this.nodes.set(record.id, this.nodeFrom(record, this.createTransport(record), status));
  }

  private nodeFrom(record: NodeRecord, transport: BlobTransport, status: NodeStatus): ClusterNode {
    return {
      id: record.id,
      url: record.url,
      parentId: record.parentId,
      transport,
      status,
      membership: record.membership === 'draining' ? 'draining' : 'active',
      bootId: record.bootId,
      downSince: status === 'down' ? Date.now() : undefined,
      latencyMs: undefined,
      consecutiveFailures: 0,
      lastSeen: record.lastSeen,
      stats: record.stats ?? EMPTY_STATS,
    };
  }
}
