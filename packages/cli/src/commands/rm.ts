import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { deletedView, print, printJson } from '../output.js';
import { cliName } from '../invocation.js';

export function registerRm(program: Command, context: CliContext): void {
  program
    .command('rm')
    .alias('delete')
    .description('delete a file with its delete token or the admin key')
    .argument('<id-or-url>', 'the file id or its link')
    .option('--token <token>', 'the delete token printed by `legim upload` (default: the configured admin key)')
    .option('--json', 'print the result as JSON')
    .action(async (idOrUrl: string, options: { token?: string; json?: boolean }) => {
      const { id, legim } = await context.clientFor(idOrUrl);
      const adminKey = context.settings.apiKey;
      if (options.token === undefined && adminKey === undefined) {
        throw new CliError(
          'NO_TOKEN',
          `deleting needs the delete token (--token, printed by "${cliName()} upload") or an admin key ("${cliName()} config set apiKey KEY")`,
        );
      }
      await legim.delete(id, options.token);
      if (options.json) printJson({ id, deleted: true });
      else print(deletedView(id));
    });
}
