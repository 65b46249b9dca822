import chalk from 'chalk';
import type { ClusterView, NodeStatus } from '@legim/sdk';
import { STATUS_COLOR, alignedNodeRows } from './node-cells.js';

/**
 * `legim nodes`: the gateway, then its tree of storage nodes, one aligned
 * line each, then a count by status.
 *
 *   gateway g-6b97b097  http://127.0.0.1:3333
 *   ├─ n-85f100d3  http://127.0.0.1:3336  up    4.8 ms  █░░░░░░░░░  4.9 MB / 271 GB  4 files  seen now
 *   └─ n-e8a87a7a  http://127.0.0.1:3335  down  5.0 ms  █░░░░░░░░░  4.9 MB / 271 GB  4 files  seen 5 seconds ago
 *   2 storage nodes: 1 up, 1 down
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
  ].join('\n');
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
