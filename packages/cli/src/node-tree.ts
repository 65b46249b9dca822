import type { ClusterNode, ClusterView } from '@legim/sdk';

/** One storage node in display order, with the branch glyphs that draw the tree in front of it. */
export interface NodeTreeRow {
  node: ClusterNode;
  /** Levels under the gateway: 1 for a node that joined the gateway itself. */
  depth: number;
  /** `├─ `, `│  └─ `…: the lines from the gateway down to this node. */
  branch: string;
}

/**
 * Rebuilds the tree of `GET /v1/cluster` from each node's `parentId`, with
 * the gateway as the root, and flattens it depth first, siblings by id. A
 * node whose parent is not in the view (or `null`) hangs under the gateway,
 * so that every node is shown exactly once even if the view is inconsistent.
 */
export function nodeTreeRows(view: ClusterView): NodeTreeRow[] {
  const known = new Set(view.nodes.map((node) => node.id));
  const children = new Map<string | null, ClusterNode[]>();
  for (const node of view.nodes) {
    const parent =
      node.parentId !== null && known.has(node.parentId) && node.parentId !== node.id ? node.parentId : null;
    const siblings = children.get(parent) ?? [];
    siblings.push(node);
    children.set(parent, siblings);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => a.id.localeCompare(b.id));

  const rows: NodeTreeRow[] = [];
  const placed = new Set<string>();
  const visit = (parent: string | null, indent: string, depth: number): void => {
    const siblings = (children.get(parent) ?? []).filter((node) => !placed.has(node.id));
    siblings.forEach((node, index) => {
      const last = index === siblings.length - 1;
      placed.add(node.id);
      rows.push({ node, depth, branch: `${indent}${last ? '└─ ' : '├─ '}` });
      visit(node.id, `${indent}${last ? '   ' : '│  '}`, depth + 1);
    });
  };
  visit(null, '', 1);
  // Nodes in a parent cycle are unreachable from the gateway: show them under it rather than lose them.
  const stranded = view.nodes.filter((node) => !placed.has(node.id)).sort((a, b) => a.id.localeCompare(b.id));
  for (const node of stranded) rows.push({ node, depth: 1, branch: '?─ ' });
  return rows;
}
