import type { Logger } from '@legim/node';
import { isValidBlobKey, MAX_CORRUPT_PER_JOIN } from '@legim/node';
import { LegimError, type ClusterView, type Health } from '@legim/sdk';
import type { MetadataStore, NodeStats } from '../metadata/types.js';
import type { EmitEvent } from '../events/gateway-events.js';
import type { DrainStarted, NodeDrainer } from './node-drainer.js';
import type { NodeRegistry } from './node-registry.js';
import { parseNodeStats } from '../metadata/node-stats.js';

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The health view answers while the index is down: that is when it is needed most. */
function unlessIndexUnavailable(error: unknown): null {
  if (LegimError.is(error) && error.code === 'INDEX_UNAVAILABLE') return null;
  throw error;
}

/** Joins from storage nodes, and the operators' views of the tree. */
export class ClusterService {
  constructor(
    private readonly registry: NodeRegistry,
    private readonly metadata: MetadataStore,
    private readonly drainer: NodeDrainer,
    private readonly options: {
      gatewayId: string;
      replicas: number;
      writeQuorum: number;
      heartbeatMs: number;
      counterState: () => Health['counter'];
      indexState: () => Health['index'];
      /** Live files, from the totals the index keeps (never a count over the whole index). */
      liveFiles: () => Promise<number>;
      encryption: { enabled: boolean; currentKey: string | null; fileKeys: () => Promise<Record<string, number>> };
      emit?: EmitEvent;
      logger: Logger;
      /** A copy of one of the file's blobs was found corrupt and forgotten: make it again (the repairer). */
      onCorrupt?: (fileId: string) => void;
    },
  ) {}

  async join(body: unknown): Promise<{ ok: true; heartbeatMs: number; removed?: true; corruptReceived?: true }> {
    const join = parseJoin(body);
    const reply = { ok: true as const, heartbeatMs: this.options.heartbeatMs };
    // The drained process itself is told to stop; the same node restarted is a new member.
    if (this.registry.isRemovedProcess(join.nodeId, join.bootId)) return { ...reply, removed: true };
    if (this.registry.isRemoved(join.nodeId)) await this.registry.setMembership(join.nodeId, 'active');
    const joined = this.registry.get(join.nodeId)?.url !== join.url;
    await this.registry.heartbeat({
      id: join.nodeId,
      url: join.url,
      // A node that names no parent hangs directly under the gateway.
      parentId: join.parentId === this.options.gatewayId ? null : (join.parentId ?? null),
      lastSeen: Date.now(),
      stats: join.stats,
      bootId: join.bootId,
    });
    const node = this.registry.get(join.nodeId);
    if (joined && node)
      this.options.emit?.({ type: 'node.joined', nodeId: node.id, url: node.url, parentId: node.parentId });
    if (join.corrupt.length === 0) return reply;
    await this.forgetCorruptCopies(join.nodeId, join.corrupt);
    return { ...reply, corruptReceived: true };
  }

  /**
   * A node found these blobs corrupt and quarantined them: its copies no
   * longer count, and the repairer copies each from a good replica. A key
   * the node is not recorded as holding (a report sent again) changes nothing.
   */
  private async forgetCorruptCopies(nodeId: string, keys: string[]): Promise<void> {
    const fileIds = new Set<string>();
    for (const key of keys) {
      const copies = await this.metadata.replicaStates(key);
      if (!copies.some((copy) => copy.nodeId === nodeId)) continue;
      await this.metadata.dropReplica(key, nodeId, Date.now());
      // The node moved its copy out already. The removal dropReplica queued is not needed, and
      // sent late it could delete the fresh copy a repair may put on that same node.
      await this.metadata.clearPendingBlobDelete({ nodeId, key });
      this.options.logger.warn(
        { nodeId, key },
        `node ${nodeId} found its copy of ${key} corrupt; another is made from a good one`,
      );
      // A variant's key is `<file id>.<name>`.
      fileIds.add(key.split('.', 1)[0]!);
    }
    for (const fileId of fileIds) this.options.onCorrupt?.(fileId);
  }

  /** Starts draining a node and its subtree (`POST /v1/cluster/nodes/:id/drain`, or a node's own `POST /drain`). */
  drain(nodeId: string): Promise<DrainStarted> {
    return this.drainer.drain(nodeId);
  }

  async health(): Promise<Health> {
    const nodes = this.registry.all();
    const count = (status: string) => nodes.filter((node) => node.status === status).length;
    const up = count('up');
    const files = await this.options.liveFiles().catch(unlessIndexUnavailable);
    const { enabled, currentKey, fileKeys } = this.options.encryption;
    const keys = await fileKeys().catch(unlessIndexUnavailable);
    const counter = this.options.counterState();
    const index = { ...this.options.indexState(), ...(files === null && { reachable: false }) };
    return {
      status: up >= this.options.replicas && counter.reachable && index.reachable ? 'ok' : 'degraded',
      nodes: { up, suspect: count('suspect'), down: count('down') },
      counter,
      index,
      files,
      encryption: { enabled, currentKey, fileKeys: keys },
      replicas: this.options.replicas,
      writeQuorum: this.options.writeQuorum,
    };
  }

  async view(publicUrl: string): Promise<ClusterView> {
    const counts = await this.metadata.fileCountsByNode();
    return {
      gateway: { id: this.options.gatewayId, url: publicUrl },
      nodes: this.registry.all().map((node) => ({
        id: node.id,
        url: node.url,
        parentId: node.parentId,
        status: node.status,
        membership: node.membership,
        latencyMs: node.latencyMs === undefined ? null : Math.round(node.latencyMs * 100) / 100,
        lastSeen: new Date(node.lastSeen).toISOString(),
        stats: node.stats,
        files: counts.get(node.id) ?? 0,
      })),
    };
  }
}

interface JoinBody {
  nodeId: string;
  url: string;
  parentId?: string;
  bootId: string;
  stats: NodeStats;
  /** Blob keys the node found corrupt; empty when none were reported. */
  corrupt: string[];
}

function parseJoin(body: unknown): JoinBody {
  const join = body as Partial<JoinBody> | undefined;
  if (!join || typeof join.nodeId !== 'string' || !NODE_ID.test(join.nodeId)) {
    throw new LegimError('BAD_REQUEST', 'join needs a nodeId of letters, digits, dot, dash or underscore');
  }
  if (typeof join.url !== 'string' || !/^https?:\/\//.test(join.url)) {
    throw new LegimError('BAD_REQUEST', 'join needs the http(s) url the node is reachable at');
  }
  if (
    join.parentId !== undefined &&
    join.parentId !== null &&
    (typeof join.parentId !== 'string' || !NODE_ID.test(join.parentId))
  ) {
    throw new LegimError('BAD_REQUEST', 'join parentId is malformed');
  }
  if (typeof join.bootId !== 'string' || !NODE_ID.test(join.bootId)) {
    throw new LegimError('BAD_REQUEST', 'join needs the bootId of the node process');
  }
  const stats =
    join.stats === undefined || join.stats === null
      ? { blobCount: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0 }
      : parseNodeStats(join.stats);
  const corrupt = parseCorrupt(join.corrupt);
  return {
    nodeId: join.nodeId,
    url: join.url,
    parentId: join.parentId ?? undefined,
    bootId: join.bootId,
    stats,
    corrupt,
  };
}

function parseCorrupt(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (
    !Array.isArray(value) ||
    value.length > MAX_CORRUPT_PER_JOIN ||
    !value.every((key) => typeof key === 'string' && isValidBlobKey(key))
  ) {
    throw new LegimError('BAD_REQUEST', `join corrupt must be a list of at most ${MAX_CORRUPT_PER_JOIN} blob keys`);
  }
  return value as string[];
}
