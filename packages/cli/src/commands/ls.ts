import type { Command } from 'commander';
import type { FileGone, FileStatus, Legim } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { filesTable, listedRow, rememberedRow, type FileRow } from '../file-list-view.js';
import { cliName } from '../invocation.js';
import { print, printJson } from '../output.js';
import { UploadHistory, type RememberedUpload } from '../upload-history.js';

interface LsOptions {
  mine?: boolean;
  status?: string;
  key?: string;
  expiringBefore?: string;
  json?: boolean;
}

/** Remembered files looked up at once; a user's history is small. */
const LOOKUPS_AT_ONCE = 8;

export function registerLs(program: Command, context: CliContext): void {
  program
    .command('ls')
    .description('list the live files (admin key, or a key with the read scope), or --mine: those this CLI uploaded')
    .option('--mine', 'the files this CLI uploaded to the server, with their state now (no key needed)')
    .option('--status <status>', 'only files whose previews are processing, ready or failed')
    .option('--key <id>', 'only files uploaded with this API key')
    .option('--expiring-before <instant>', 'only files that expire before this ISO 8601 instant')
    .option('--json', 'print the files as JSON')
    .action(async (options: LsOptions) => {
      const legim = await context.client();
      const rows = options.mine ? await mine(legim, options) : await listed(context, legim, options);
      if (options.json) printJson(rows);
      else print(filesTable(rows));
    });
}

async function listed(context: CliContext, legim: Legim, options: LsOptions): Promise<FileRow[]> {
  if (context.settings.apiKey === undefined) {
    throw new CliError(
      'NO_ADMIN_KEY',
      `listing the server's files needs the admin key or a key with the read scope ("${cliName()} config set apiKey KEY"); "${cliName()} ls --mine" lists the files this CLI uploaded`,
    );
  }
  const rows: FileRow[] = [];
  const filter = {
    ...(options.status !== undefined && { status: options.status as FileStatus }),
    ...(options.key !== undefined && { key: options.key }),
    ...(options.expiringBefore !== undefined && { expiringBefore: options.expiringBefore }),
  };
  for await (const file of legim.listAll(filter)) rows.push(listedRow(file));
  return rows;
}

/** The remembered uploads, each with what the gateway says of it now (public reads: no key needed). */
async function mine(legim: Legim, options: LsOptions): Promise<FileRow[]> {
  if (options.status !== undefined || options.key !== undefined || options.expiringBefore !== undefined) {
    throw new CliError('INVALID_OPTION', '--mine lists every file this CLI uploaded: it takes no filter');
  }
  const remembered = new UploadHistory().list(legim.url);
  const rows: FileRow[] = [];
  for (let i = 0; i < remembered.length; i += LOOKUPS_AT_ONCE) {
    rows.push(...(await Promise.all(remembered.slice(i, i + LOOKUPS_AT_ONCE).map((upload) => now(legim, upload)))));
  }
  return rows;
}

async function now(legim: Legim, upload: RememberedUpload): Promise<FileRow> {
  try {
    return listedRow(await legim.info(upload.id));
  } catch (error) {
    const { LegimError } = await import('@legim/sdk');
    if (!LegimError.is(error) || (error.statusCode !== 410 && error.statusCode !== 404)) throw error;
    return rememberedRow(upload, error.details?.gone as FileGone | undefined);
  }
}
