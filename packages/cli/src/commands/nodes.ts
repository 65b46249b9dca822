import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { print, printJson } from '../output.js';
import { adminClient } from './admin-client.js';

export function registerNodes(program: Command, context: CliContext): void {
  program
    .command('nodes')
    .description('show the tree of storage nodes: status, latency, capacity and files (admin key)')
    .option('--json', 'print the cluster view of the API (GET /v1/cluster) as JSON')
    .action(async (options: { json?: boolean }) => {
      const legim = await adminClient(context, 'nodes');
      const view = await legim.cluster();
      if (options.json) printJson(view);
      else print((await import('../nodes-view.js')).nodesView(view));
    });
}
