/**
 * What `legim ls`, `legim edit` and `legim info` on a finished file print:
 * tables of files and final states, built from the shared formatting in output.ts.
 */
import { stripVTControlCharacters as plain } from 'node:util';
import chalk from 'chalk';
import type { FileGone, FileInfo, ListedFile } from '@legim/sdk';
import { cliName } from './invocation.js';
import { formatBytes, formatDownloads, formatRows, formatWhen } from './output.js';
import type { RememberedUpload } from './upload-history.js';

/** One row of a listing: what is known of a file now. */
export interface FileRow {
  id: string;
  title: string;
  size: number | undefined;
  downloadsLeft: number | undefined;
  expiresAt: string;
  /** How it ended, when it did. */
  gone: FileGone | undefined;
}

export function listedRow(file: ListedFile | FileInfo): FileRow {
  return { ...file, gone: undefined };
}

/** A remembered upload the gateway no longer serves (or no longer knows, `gone` undefined and no size). */
export function rememberedRow(upload: RememberedUpload, gone: FileGone | undefined): FileRow {
  return { ...upload, size: undefined, downloadsLeft: gone?.state === 'used-up' ? 0 : undefined, gone };
}

/** id, name, size, downloads left, expires: one line a file. */
export function filesTable(rows: FileRow[], now = new Date()): string {
  if (rows.length === 0) return chalk.dim('no files');
  const header = ['id', 'name', 'size', 'left', 'expires'];
  const cells = rows.map((row) => [
    row.id,
    row.title === '' ? '-' : row.title,
    row.size === undefined ? '-' : formatBytes(row.size),
    row.downloadsLeft === undefined ? '-' : String(row.downloadsLeft),
    row.gone ? endedText(row.gone, now) : formatWhen(row.expiresAt, now),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => plain(row[column]!).length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell + ' '.repeat(widths[column]! - plain(cell).length))
      .join('  ')
      .trimEnd();
  return [chalk.dim(line(header)), ...cells.map(line)].join('\n');
}

/** `legim info` on a file that ended: its final state, not an error. */
export function goneView(id: string, code: string, gone: FileGone | undefined, now = new Date()): string {
  const state = gone ? endedText(gone, now) : code === 'FILE_NOT_FOUND' ? 'unknown' : 'gone';
  return [
    `${chalk.bold(id)}  ${chalk.red(state)}`,
    formatRows([
      ['downloads', gone?.state === 'used-up' ? chalk.red('0 left') : undefined],
      ['status', code],
    ]),
  ].join('\n');
}

export function editedView(file: FileInfo, now = new Date()): string {
  return [
    `${chalk.green('✔')} Changed ${chalk.bold(file.id)}`,
    formatRows([
      ['downloads', formatDownloads(file.downloadsLeft, file.maxDownloads)],
      ['expires', formatWhen(file.expiresAt, now)],
    ]),
  ].join('\n');
}

/** `0 downloads left, deleted at 14:05:12 (…)`, `expired at …`, `deleted by its owner at …`. */
function endedText(gone: FileGone, now: Date): string {
  const at = formatWhen(gone.at, now);
  switch (gone.state) {
    case 'used-up':
      return `0 downloads left, deleted at ${at}`;
    case 'expired':
      return `expired at ${at}`;
    case 'deleted':
      return `deleted by its owner (removed at ${at})`;
  }
}

/** The hint for a file the CLI has no token for. */
export function noTokenHint(what: string): string {
  return (
    `${what} needs its delete token, and this CLI did not upload it (or forgot it): pass --token TOKEN ` +
    `(printed by "${cliName()} upload") or an admin key ("${cliName()} config set apiKey KEY")`
  );
}
