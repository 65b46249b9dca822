import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { adminClient } from './admin-client.js';
import { cliName } from '../invocation.js';

const DEFAULT_INTERVAL_MS = 2_000;

export function registerDashboard(program: Command, context: CliContext): void {
  program
    .command('dashboard')
    .description('a live view of the cluster in the terminal: nodes, numbers and events (admin key; q quits)')
    .option('--interval <duration>', 'how often to read the numbers again: 500ms, 2s, 1m', refreshInterval)
    .action(async (options: { interval?: number }) => {
      if (!process.stdout.isTTY) {
        throw new CliError(
          'NOT_A_TERMINAL',
          `legim dashboard needs a terminal; in a script or a pipe use "${cliName()} nodes --json" or "${cliName()} stats --json"`,
        );
      }
      const legim = await adminClient(context, 'dashboard');
      // A wrong key or an unreachable gateway fails here in one line; later outages show on the dashboard.
      await legim.health();
      // Ink and React load only for this command.
      const { runDashboard } = await import('../dashboard/run-dashboard.js');
      await runDashboard(legim, options.interval ?? DEFAULT_INTERVAL_MS);
    });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };

/** `500ms`, `2s`, `1m` or plain seconds → milliseconds, from 100 ms to 1 hour. */
function refreshInterval(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim().toLowerCase());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 's']! : NaN;
  if (!(ms >= 100 && ms <= 3_600_000)) {
    throw new InvalidArgumentError('expected a time from 100ms to 1h, like 500ms, 2s or 1m');
  }
  return Math.round(ms);
}
