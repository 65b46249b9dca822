import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { print, printJson } from '../output.js';
import { adminClient } from './admin-client.js';

export function registerStats(program: Command, context: CliContext): void {
  program
    .command('stats')
    .description("show the gateway's numbers once: files, traffic, jobs, replication, disks (admin key)")
    .option('--json', 'print the stats object of the API (GET /v1/stats) as JSON')
    .action(async (options: { json?: boolean }) => {
      const legim = await adminClient(context, 'stats');
      const stats = await legim.stats();
      if (options.json) printJson(stats);
      else print((await import('../stats-view.js')).statsView(stats));
    });
}
