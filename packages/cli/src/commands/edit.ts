import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { editedView } from '../file-list-view.js';
import { positiveInteger } from '../options.js';
import { print, printJson } from '../output.js';
import { UploadHistory } from '../upload-history.js';
import { fileToken } from './file-token.js';

interface EditOptions {
  ttl?: string;
  expiresAt?: string;
  downloads?: number;
  token?: string;
  json?: boolean;
}

export function registerEdit(program: Command, context: CliContext): void {
  program
    .command('edit')
    .description("change a live file's download limit or expiry (its delete token, or the admin key)")
    .argument('<id-or-url>', 'the file id or its link')
    .option('-t, --ttl <duration>', 'the new time to live from now: 90s, 15m, 2h, 7d')
    .option('--expires-at <instant>', 'the new expiry, an ISO 8601 instant (not with --ttl)')
    .option('-d, --downloads <n>', 'the new total limit, downloads already taken included', positiveInteger)
    .option('--token <token>', 'the delete token (default: the one remembered at upload, else the admin key)')
    .option('--json', 'print the file object as JSON')
    .action(async (idOrUrl: string, options: EditOptions) => {
      const { id, legim } = await context.clientFor(idOrUrl);
      const history = new UploadHistory();
      const deleteToken = fileToken(context, history, legim.url, id, options.token, 'changing a file');
      const file = await legim.edit(
        id,
        { ttl: options.ttl, expiresAt: options.expiresAt, downloads: options.downloads },
        { deleteToken },
      );
      if (history.find(legim.url, id)) history.updateExpiry(legim.url, id, file.expiresAt);
      if (options.json) printJson(file);
      else print(editedView(file));
    });
}
