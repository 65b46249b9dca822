import type { Command } from 'commander';
import type { FileGone } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { goneView } from '../file-list-view.js';
import { fileView, print, printJson } from '../output.js';

export function registerInfo(program: Command, context: CliContext): void {
  program
    .command('info')
    .description("show a file's metadata, processing status and previews, or how it ended (does not take a download)")
    .argument('<id-or-url>', 'the file id or its link')
    .option('--json', 'print the file object (or {id, code, gone} for a file that ended) as JSON')
    .action(async (idOrUrl: string, options: { json?: boolean }) => {
      const { id, legim } = await context.clientFor(idOrUrl);
      const { LegimError } = await import('@legim/sdk');
      try {
        const info = await legim.info(id);
        if (options.json) printJson(info);
        else print(fileView(info));
      } catch (error) {
        // A used-up, expired or deleted file has a final state to show; anything else is a failure.
        if (!LegimError.is(error) || error.statusCode !== 410) throw error;
        const gone = error.details?.gone as FileGone | undefined;
        if (options.json) printJson({ id, code: error.code, gone: gone ?? null });
        else print(goneView(id, error.code, gone));
      }
    });
}
