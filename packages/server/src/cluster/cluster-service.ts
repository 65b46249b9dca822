import { LegimError } from '@legim/sdk';
import type { MetadataStore } from '../metadata/types.js';
import type { NodeRegistry } from './node-registry.js';

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Joins from storage nodes, and the operators' views of the tree. */
export class ClusterService {
  constructor(
    private readonly registry: NodeRegistry,
    private readonly metadata: MetadataStore,
    private readonly options: {
      gatewayId: string;
      replicas: number;
      writeQuorum: number;
      heartbeatMs: number;
      counterState: () => { backend: 'sqlite' | 'redis'; reachable: boolean };
    },
  ) {}

  async join(body: unknown): Promise<{ ok: true; heartbeatMs: number }> {
    const join = parseJoin(body);
    await this.registry.heartbeat({
      id: join.nodeId,
      url: join.url,
      // A node that names no parent hangs directly under the gateway.
      parentId: join.parentId === this.options.gatewayId ? null : (join.parentId ?? null),
      lastSeen: Date.now(),
      stats: join.stats,
    });
    return { ok: true, heartbeatMs: this.options.heartbeatMs };
  }

  async health() {
    const nodes = this.registry.all();
    const count = (status: string) => nodes.filter((node) => node.status === status).length;
    const up = count('up');
    const counter = this.options.counterState();
    return {
      status: up >= this.options.replicas && counter.reachable ? 'ok' : 'degraded',
      nodes: { up, suspect: count('suspect'), down: count('down') },
      counter,
      files: await this.metadata.countFiles(),
      replicas: this.options.replicas,
      writeQuorum: this.options.writeQuorum,
    };
  }

  async view(publicUrl: string) {
    const counts = await this.metadata.fileCountsByNode();
    return {
      gateway: { id: this.options.gatewayId, url: publicUrl },
      nodes: this.registry.all().map((node) => ({
        id: node.id,
        url: node.url,
        parentId: node.parentId,
        status: node.status,
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
  stats: { blobCount: number; usedBytes: number; freeBytes: number; totalBytes: number };
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
  const stats = join.stats ?? { blobCount: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0 };
  return { nodeId: join.nodeId, url: join.url, parentId: join.parentId ?? undefined, stats };
}
