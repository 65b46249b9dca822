import type { Command } from 'commander';
import type { ClusterNode, Legim } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { print, printJson, printNote } from '../output.js';
import { adminClient } from './admin-client.js';

const POLL_MS = 1000;

export function registerDrain(program: Command, context: CliContext): void {
  program
    .command('drain')
    .description('take a storage node (and the nodes below it) out of the cluster without losing a copy (admin key)')
    .argument('<node-id>', 'the node to drain, as shown by "legim nodes"')
    .option('--no-wait', 'return once the drain has started instead of waiting until the nodes are removed')
    .option('--json', 'print the drain as JSON')
    .action(async (nodeId: string, options: { wait: boolean; json?: boolean }) => {
      const legim = await adminClient(context, 'drain');
      const { draining } = await legim.drainNode(nodeId);
      if (!options.json) print(`Draining ${draining.join(', ')}: copying their blobs to other nodes`);
      if (options.wait) await untilRemoved(legim, draining, options.json ? () => {} : printNote);
      if (options.json) printJson({ nodeId, draining, removed: options.wait });
      else if (options.wait) print(`✔ ${draining.join(', ')} drained and removed; every file kept all its copies`);
    });
}

/** Polls the cluster until none of `nodeIds` is left, reporting each node's remaining files as they change. */
async function untilRemoved(legim: Legim, nodeIds: string[], report: (line: string) => void): Promise<void> {
  let last = '';
  for (;;) {
    const left = (await legim.cluster()).nodes.filter((node) => nodeIds.includes(node.id));
    if (left.length === 0) return;
    const line = progressLine(left);
    if (line !== last) report(line);
    last = line;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function progressLine(nodes: ClusterNode[]): string {
  return nodes
    .map((node) => `${node.id}: ${node.files} file(s) left${node.status === 'up' ? '' : ` (${node.status})`}`)
    .join(', ');
}
