import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { formatRows, print, printJson, printNote } from '../output.js';

interface CopyOptions {
  from: string;
  to: string;
  queuePrefix: string;
  json?: boolean;
}

export function registerIndexCopy(index: Command): void {
  index
    .command('copy')
    .description(
      'copy a whole index into another database, e.g. a one-host SQLite index into PostgreSQL (stop the gateways and workers first)',
    )
    .requiredOption('--from <source>', "a gateway's data directory (its SQLite index), sqlite:<file> or postgres://…")
    .requiredOption('--to <target>', 'an empty database: postgres://user@host:5432/db[?schema=name] or sqlite:<file>')
    .option('--queue-prefix <name>', "the embedded queue's tables to copy, as the gateways use", 'legim')
    .option('--json', 'print the result as JSON')
    .action(async (options: CopyOptions) => {
      // Loaded here so that client commands never load the engines.
      const { copyIndex, openIndexEngine, parseDatabase, redactDatabaseUrl } = await import('@legim/server');
      const from = await openIndexEngine(parseDatabase(sourceValue(options.from), '.'));
      try {
        const to = await openIndexEngine(parseDatabase(explicit('--to', options.to), '.'));
        try {
          const report = await copyIndex(from, to, {
            queuePrefix: options.queuePrefix,
            onProgress: options.json ? undefined : ({ table, rows }) => printNote(`${table}: ${rows} row(s)`),
          });
          if (options.json) return printJson(report);
          print(`✔ Copied the index to ${redactDatabaseUrl(options.to)} in ${report.seconds.toFixed(1)} s`);
          print(formatRows(report.tables.map(({ table, rows }) => [table, `${rows} row(s)`] as const)));
          print(`Start the gateways with --database ${redactDatabaseUrl(options.to)} (or LEGIM_DATABASE_URL).`);
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}

/** A database named in full: a bare `sqlite` would mean a file in whatever folder this runs in. */
function explicit(flag: string, value: string): string {
  if (value === 'sqlite') throw new CliError('INVALID_OPTION', `${flag} sqlite: name the file, as sqlite:<path>`);
  return value;
}

/** A data directory means the SQLite index in it; anything else is a database value as `--database` takes it. */
function sourceValue(from: string): string {
  explicit('--from', from);
  if (from.startsWith('sqlite:') && !existsSync(from.slice('sqlite:'.length))) {
    throw new CliError('INVALID_OPTION', `no index at ${from.slice('sqlite:'.length)}: nothing to copy`);
  }
  if (!existsSync(from) || !statSync(from).isDirectory()) return from;
  const file = join(from, 'metadata.db');
  if (!existsSync(file)) {
    throw new CliError('INVALID_OPTION', `${from} holds no index (no metadata.db): give a gateway's data directory`);
  }
  return `sqlite:${file}`;
}
