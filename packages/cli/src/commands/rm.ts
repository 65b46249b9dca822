import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { deletedView, print, printJson } from '../output.js';
import { UploadHistory } from '../upload-history.js';
import { fileToken } from './file-token.js';

export function registerRm(program: Command, context: CliContext): void {
  program
    .command('rm')
    .alias('delete')
    .description('delete a file with its delete token or the admin key')
    .argument('<id-or-url>', 'the file id or its link')
    .option(
      '--token <token>',
      'the delete token printed by `legim upload` (default: the one remembered at upload, else the configured admin key)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (idOrUrl: string, options: { token?: string; json?: boolean }) => {
      const { id, legim } = await context.clientFor(idOrUrl);
      const history = new UploadHistory();
      await legim.delete(id, fileToken(context, history, legim.url, id, options.token, 'deleting a file'));
      history.forget(legim.url, id);
      if (options.json) printJson({ id, deleted: true });
      else print(deletedView(id));
    });
}
