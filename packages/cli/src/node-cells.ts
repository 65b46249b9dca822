import type { ClusterNode, ClusterView, NodeStatus } from '@legim/sdk';
import { nodeTreeRows } from './node-tree.js';
import { formatBytes, formatRelative } from './output.js';

/**
 * The columns shown for a storage node, as plain text: `legim nodes` colours
 * them with chalk and the dashboard with Ink, from the same strings.
 */
export interface NodeCells {
  status: NodeStatus;
  latency: string;
  /** `███░░░░░░░`: the share of the disk in use. */
  bar: string;
  /** `1.2 GB / 50 GB`. */
  capacity: string;
  files: string;
  seen: string;
}

/** The colour of a status, a name both chalk and Ink know. */
export const STATUS_COLOR: Record<NodeStatus, 'green' | 'yellow' | 'red'> = {
  up: 'green',
  suspect: 'yellow',
  down: 'red',
};

export const BAR_WIDTH = 10;

export function nodeCells(node: ClusterNode, now: Date = new Date()): NodeCells {
  const { usedBytes, totalBytes } = node.stats;
  return {
    status: node.status,
    latency: formatLatency(node.latencyMs),
    bar: capacityBar(usedBytes, totalBytes),
    capacity: totalBytes > 0 ? `${formatBytes(usedBytes)} / ${formatBytes(totalBytes)}` : formatBytes(usedBytes),
    files: `${node.files} file${node.files === 1 ? '' : 's'}`,
    seen: formatSeen(node.lastSeen, now),
  };
}

/** A node's line in the tree, every cell padded to its column's width (numbers to the right). */
export interface AlignedNodeRow extends NodeCells {
  /** The branch glyphs and the node id. */
  name: string;
  url: string;
  /** The status (`, draining` after it while the node is emptied), padded. */
  statusText: string;
}

/** The tree of the view, one row per node, aligned in columns. */
export function alignedNodeRows(view: ClusterView, now: Date = new Date()): AlignedNodeRow[] {
  const rows = nodeTreeRows(view).map(({ node, branch }) => ({
    ...nodeCells(node, now),
    name: `${branch}${node.id}`,
    url: node.url,
    // A draining node is still probed like any other; say so beside its status.
    statusText: node.membership === 'draining' ? `${node.status}, draining` : node.status,
  }));
  const width = (key: keyof AlignedNodeRow): number => Math.max(0, ...rows.map((row) => row[key].length));
  const [name, url, statusText, latency, capacity, files] = (
    ['name', 'url', 'statusText', 'latency', 'capacity', 'files'] as const
  ).map(width);
  return rows.map((row) => ({
    ...row,
    name: row.name.padEnd(name!),
    url: row.url.padEnd(url!),
    statusText: row.statusText.padEnd(statusText!),
    latency: row.latency.padStart(latency!),
    capacity: row.capacity.padStart(capacity!),
    files: row.files.padStart(files!),
  }));
}

/** `0.8 ms`, `12 ms`; `–` before the first probe. */
export function formatLatency(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** A bar of `width` cells, filled in proportion to `used / total`; dotted when the total is unknown. */
export function capacityBar(used: number, total: number, width = BAR_WIDTH): string {
  if (!(total > 0)) return '·'.repeat(width);
  const share = Math.min(1, Math.max(0, used / total));
  // Any use at all shows one cell, so a busy disk never looks empty.
  const filled = used > 0 ? Math.max(1, Math.round(share * width)) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

function formatSeen(iso: string, now: Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '?';
  // A clock a little ahead of ours must not read "in 1 second".
  return formatRelative(date.getTime() > now.getTime() ? now : date, now);
}
