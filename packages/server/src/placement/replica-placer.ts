import { createHash } from 'node:crypto';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';

const TWO_POW_64 = 2n ** 64n;

/**
 * Chooses the nodes for a blob by capacity-weighted rendezvous hashing: each
 * node scores `weight / -ln(u)` with `u` uniform from hash(key, node), so the
 * choice is stable for a key, spreads evenly, moves little when nodes come
 * and go, and favours nodes with more free space in proportion. Distinct
 * failure domains (clusters) are filled first, then distinct nodes.
 */
export class ReplicaPlacer {
  constructor(private readonly registry: NodeRegistry) {}

  place(key: string, size: number, count: number, options: PlaceOptions = {}): ClusterNode[] {
    const { exclude = new Set(), takenDomains = new Set(), preferDomain } = options;
    const preferred = (node: ClusterNode) => (this.registry.domainOf(node) === preferDomain ? 1 : 0);
    const ranked = this.registry
      .live()
      .filter((node) => !exclude.has(node.id) && node.stats.freeBytes >= size)
      .map((node) => ({ node, preferred: preferred(node), score: score(key, node) }))
      .sort((a, b) => b.preferred - a.preferred || b.score - a.score)
      .map((entry) => entry.node);

    const chosen: ClusterNode[] = [];
    const usedDomains = new Set(takenDomains);
    for (const node of ranked) {
      if (chosen.length === count) break;
      const domain = this.registry.domainOf(node);
      if (usedDomains.has(domain)) continue;
      usedDomains.add(domain);
      chosen.push(node);
    }
    for (const node of ranked) {
      if (chosen.length === count) break;
      if (!chosen.includes(node)) chosen.push(node);
    }
    return chosen;
  }
}

export interface PlaceOptions {
  /** Nodes not to choose (those that already hold the blob). */
  exclude?: ReadonlySet<string>;
  /** Failure domains the blob's other copies are in: filled last. */
  takenDomains?: ReadonlySet<string>;
  /** The domain to fill first: a copy that leaves a node stays under the same parent when it can. */
  preferDomain?: string | undefined;
}

function score(key: string, node: ClusterNode): number {
  const digest = createHash('sha256').update(key).update('\0').update(node.id).digest();
  const u = Number(digest.readBigUInt64BE(0) + 1n) / Number(TWO_POW_64 + 1n);
  const weight = Math.max(node.stats.freeBytes, 1);
  return weight / -Math.log(u);
}
