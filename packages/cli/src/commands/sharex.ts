import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';

/** An API key's secret (`lgm_<id>_…`), as opposed to an admin key, which must never go into an uploader. */
const API_KEY = /^lgm_[0-9a-f]{12}_/;

export function registerShareX(program: Command, context: CliContext): void {
  program
    .command('sharex')
    .description('print a ShareX custom uploader for the server: legim sharex > legim.sxcu')
    .option('--key <key>', 'an API key with the upload scope to put in it (default: the configured key if it is one)')
    .action(async (options: { key?: string }) => {
      const legim = await context.client();
      const configured = context.settings.apiKey;
      const key = options.key ?? (configured !== undefined && API_KEY.test(configured) ? configured : undefined);
      // Without a key the configured admin key must not be sent: the gateway would rightly refuse it.
      const uploader = await legim.sharex(key === undefined ? { key: '' } : { key });
      printJson(uploader);
    });
}
