import type { BlobTransport } from '../backends/blob-transport/blob-transport.js';
import type { NodeRecord, NodeStats } from '../metadata/types.js';

export type NodeStatus = 'up' | 'suspect' | 'down';

/** What the gateway knows of one storage node right now. */
export interface ClusterNode {
  id: string;
  url: string;
  parentId: string | null;
  transport: BlobTransport;
  status: NodeStatus;
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
 * the metadata store. A worker on another host reads the list through the
 * gateway's internal API and records nothing (it hears no joins).
 */
export interface NodeDirectory {
  listNodes(): Promise<NodeRecord[]>;
  upsertNode?(node: NodeRecord): Promise<void>;
}

const EMPTY_STATS: NodeStats = { blobCount: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0 };

/**
 * The storage nodes in the tree. Nodes announce themselves with joins and
 * heartbeats; the registry remembers them in the metadata store so a
 * restarted gateway knows where its replicas are before anyone re-joins.
 */
export class NodeRegistry {
  private readonly nodes = new Map<string, ClusterNode>();

  constructor(
    private readonly metadata: NodeDirectory,
    private readonly createTransport: TransportFactory,
  ) {}

  async load(): Promise<void> {
    for (const record of await this.metadata.listNodes()) this.track(record, 'down');
  }

  /**
   * Picks up nodes another process (the gateway) recorded since: for a
   * worker, which hears no joins. A new node counts as down until probed.
   */
  async sync(): Promise<void> {
    for (const record of await this.metadata.listNodes()) {
      const known = this.nodes.get(record.id);
      if (known?.url === record.url) continue;
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

  /** A join or heartbeat from a node (directly or relayed through its parent). */
  async heartbeat(record: NodeRecord): Promise<ClusterNode> {
    const known = this.nodes.get(record.id);
    if (known && known.url === record.url) {
      known.parentId = record.parentId;
      known.lastSeen = record.lastSeen;
      known.stats = record.stats;
    } else {
      if (known) await known.transport.close();
      this.track(record, 'up');
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
   * Nodes that may take writes: up, or suspect (one missed probe is often a
   * busy node, not a dead one; a write that fails is covered by the quorum).
   */
  live(): ClusterNode[] {
    return this.all().filter((node) => node.status !== 'down');
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
      downSince: status === 'down' ? Date.now() : undefined,
      latencyMs: undefined,
      consecutiveFailures: 0,
      lastSeen: record.lastSeen,
      stats: record.stats ?? EMPTY_STATS,
    };
  }
}
