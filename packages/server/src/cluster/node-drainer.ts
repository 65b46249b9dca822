import type { Logger } from '@legim/node';
import { LegimError } from '@legim/sdk';
import type { EmitEvent } from '../events/gateway-events.js';
import type { MetadataStore } from '../metadata/types.js';
import type { ClusterNode, NodeRegistry } from './node-registry.js';

export interface DrainStarted {
  nodeId: string;
  /** Every node being drained for this request: the node's subtree, deepest first. */
  draining: string[];
}

export interface NodeDrainerOptions {
  /** Copies each file wants: a drain must leave at least this many nodes (or as many as there are). */
  replicas: number;
  /** Called when a drain starts, so the copying begins at once. */
  onDrainStarted: () => void;
  logger: Logger;
  emit?: EmitEvent;
}

/**
 * Takes nodes out of the cluster without losing a copy ("backflow"). A drain
 * marks the node and every node below it `draining`: they take no new copies
 * but keep serving reads, while the repairer copies each of their blobs to
 * other nodes, in the same failure domain first, and only then forgets their
 * copies and deletes them there. A draining node that holds nothing any more
 * and has no child left is `removed`; its next heartbeat tells it so, and it
 * stops. Children therefore always leave before their parent.
 */
export class NodeDrainer {
  constructor(
    private readonly registry: NodeRegistry,
    private readonly metadata: Pick<MetadataStore, 'nodeBlobCounts'>,
    private readonly options: NodeDrainerOptions,
  ) {}

  async drain(nodeId: string): Promise<DrainStarted> {
    const node = this.registry.get(nodeId);
    if (!node) {
      const message = this.registry.isRemoved(nodeId)
        ? `node ${nodeId} was already drained and removed`
        : `no node ${nodeId} in this cluster`;
      throw new LegimError('NODE_NOT_FOUND', message, { details: { nodeId } });
    }
    if (node.url === 'local') {
      throw new LegimError('CANNOT_DRAIN', `node ${nodeId} is the gateway's own store; it cannot be drained`);
    }
    const leaving = this.registry.subtree(nodeId);
    this.assertEnoughStay(leaving);
    for (const each of leaving) {
      if (each.membership === 'active') await this.registry.setMembership(each.id, 'draining');
    }
    const draining = leaving.map((each) => each.id);
    this.options.logger.info(`draining ${draining.join(', ')}: copying their blobs to other nodes`);
    this.options.onDrainStarted();
    this.options.emit?.({ type: 'node.draining', nodeId, draining });
    return { nodeId, draining };
  }

  /**
   * Removes each draining node that has no child left and holds nothing any
   * more: no copy recorded, and no removal still to send (unless it is down:
   * its removals wait for it should it ever come back).
   */
  async finishDrained(): Promise<void> {
    for (const node of this.registry.draining()) {
      if (this.registry.all().some((child) => child.parentId === node.id)) continue;
      const { copies, pendingDeletes } = await this.metadata.nodeBlobCounts(node.id);
      if (copies > 0 || (pendingDeletes > 0 && node.status !== 'down')) continue;
      await this.registry.setMembership(node.id, 'removed');
      this.options.logger.info(`node ${node.id} is drained and removed from the cluster`);
      this.options.emit?.({ type: 'node.removed', nodeId: node.id });
    }
  }

  /** Refuses a drain after which the remaining nodes could not hold every file's copies. */
  private assertEnoughStay(leaving: ClusterNode[]): void {
    const serving = this.registry.live();
    const staying = serving.filter((node) => !leaving.includes(node));
    const needed = Math.min(this.options.replicas, serving.length);
    if (staying.length >= needed) return;
    const ids = leaving.map((node) => node.id).join(', ');
    throw new LegimError(
      'CANNOT_DRAIN',
      `draining ${ids} would leave ${staying.length} node(s) for ${needed} copies of each file: add a node first`,
      { details: { leaving: leaving.map((node) => node.id), staying: staying.length, needed } },
    );
  }
}
