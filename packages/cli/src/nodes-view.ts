import chalk from 'chalk';
import { summarizeCapacity, type CapacitySummary, type ClusterView, type NodeStatus } from '@legim/sdk';
import { STATUS_COLOR, alignedNodeRows } from './node-cells.js';
import { formatBytes } from './output.js';

/**
 * `legim nodes` (loaded with the SDK, which it needs for `summarizeCapacity`):
 * the gateway, then its tree of storage nodes, one aligned line each, then a
 * count by status and the capacity, each filesystem counted once.
 *
 *   gateway g-6b97b097  http://127.0.0.1:3333
 *   ├─ n-85f100d3  http://127.0.0.1:3336  up    4.8 ms  █░░░░░░░░░  4.9 MB / 271 GB  4 files  seen now
 *   └─ n-e8a87a7a  http://127.0.0.1:3335  down  5.0 ms  █░░░░░░░░░  4.9 MB / 271 GB  4 files  seen 5 seconds ago
 *   2 storage nodes: 1 up, 1 down
 *   capacity: 4.9 MB used of 271 GB (250 GB free) on one filesystem
 */
export function nodesView(view: ClusterView, now: Date = new Date()): string {
  const lines = alignedNodeRows(view, now).map((row) => {
    const color = chalk[STATUS_COLOR[row.status]];
    return [
      row.name,
      chalk.cyan(row.url),
      color(row.statusText),
      row.latency,
      color(row.bar),
      row.capacity,
      row.files,
      chalk.dim(`seen ${row.seen}`),
    ].join('  ');
  });
  return [
    `${chalk.bold('gateway')} ${view.gateway.id}  ${chalk.cyan(view.gateway.url)}`,
    ...lines,
    statusSummary(view),
    ...capacityLines(view),
  ].join('\n');
}

/** The capacity line, or none when no node can be reached. */
function capacityLines(view: ClusterView): string[] {
  // A down node's last heartbeat says nothing about what can be stored now (as in `legim stats`).
  const reachable = view.nodes.filter((node) => node.status !== 'down');
  if (reachable.length === 0) return [];
  return [`capacity: ${capacitySummary(summarizeCapacity(reachable))}`];
}

/**
 * `4.9 MB used of 271 GB (250 GB free) on one filesystem, shared by 3 nodes
 * and counted once`: the sums count each filesystem once, however many
 * nodes store on it, and say so.
 */
export function capacitySummary(
  capacity: Pick<CapacitySummary, 'usedBytes' | 'freeBytes' | 'totalBytes' | 'filesystems'>,
): string {
  const { filesystems } = capacity;
  const totals = `${formatBytes(capacity.usedBytes)} used of ${formatBytes(capacity.totalBytes)} (${formatBytes(capacity.freeBytes)} free)`;
  const shared = filesystems.filter((fs) => fs.nodeIds.length > 1);
  if (filesystems.length === 0) return 'no storage node can be reached';
  if (filesystems.length === 1) {
    const nodes = filesystems[0]!.nodeIds.length;
    return nodes > 1
      ? `${totals} on one filesystem, shared by ${nodes} nodes and counted once`
      : `${totals} on one filesystem`;
  }
  const where = `${totals} on ${filesystems.length} filesystems`;
  if (shared.length === 0) return where;
  const sharing = shared.map((fs) => `${listed(fs.nodeIds)} share one`).join('; ');
  return `${where}; ${sharing} (counted once)`;
}

function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}

/** `3 storage nodes: 2 up, 1 down`, each count in its status's colour. */
export function statusSummary(view: ClusterView): string {
  const total = view.nodes.length;
  if (total === 0) return chalk.dim('no storage node has joined yet');
  const parts = (['up', 'suspect', 'down'] as NodeStatus[])
    .map((status) => [status, view.nodes.filter((node) => node.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => chalk[STATUS_COLOR[status]](`${count} ${status}`));
  const draining = view.nodes.filter((node) => node.membership === 'draining').length;
  return `${total} storage node${total === 1 ? '' : 's'}: ${parts.join(', ')}${draining > 0 ? `; ${draining} draining` : ''}`;
}
