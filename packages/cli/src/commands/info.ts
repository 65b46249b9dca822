import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { fileView, print, printJson } from '../output.js';

export function registerInfo(program: Command, context: CliContext): void {
  program
    .command('info')
    .description("show a file's metadata, processing status and previews (does not take a download)")
    .argument('<id-or-url>', 'the file id or its link')
    .option('--json', 'print the file object as JSON')
    .action(async (idOrUrl: string, options: { json?: boolean }) => {
      const { id, legim } = await context.clientFor(idOrUrl);
      const info = await legim.info(id);
      if (options.json) printJson(info);
      else print(fileView(info));
    });
}
