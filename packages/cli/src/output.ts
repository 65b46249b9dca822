/**
 * Everything the CLI prints goes through here: human text (chalk, sizes,
 * times) and `--json`. Commands decide *what* to show, this file *how*.
 * Data goes to stdout; errors, warnings and progress go to stderr.
 */
import chalk, { chalkStderr } from 'chalk';
import type { FileInfo, UploadedFile } from '@legim/sdk';
import type { Failure } from './errors.js';

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const defaultStreams: Streams = { stdout: process.stdout, stderr: process.stderr };

// ---------------------------------------------------------------- formatting

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** `1021283` → `1.0 MB` (decimal units, like npm and docker). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `in 59 minutes`, `3 seconds ago`, `in 2 days`. */
export function formatRelative(target: Date, now: Date = new Date()): string {
  const diff = Math.round((target.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(diff);
  // Choose the unit after rounding, so that 59 min 50 s reads "1 hour", not "60 minutes".
  const minutes = Math.round(abs / 60);
  const hours = Math.round(abs / 3600);
  const [amount, unit] =
    abs < 60
      ? [abs, 'second']
      : minutes < 60
        ? [minutes, 'minute']
        : hours < 24
          ? [hours, 'hour']
          : [Math.round(abs / 86_400), 'day'];
  const text = `${amount} ${unit}${amount === 1 ? '' : 's'}`;
  if (abs === 0) return 'now';
  return diff > 0 ? `in ${text}` : `${text} ago`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local time, `14:05:12`, with the date in front when it is not today. */
export function formatLocalTime(date: Date, now: Date = new Date()): string {
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay ? time : `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${time}`;
}

/** `14:05:12 (in 1 hour)`. */
export function formatWhen(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${formatLocalTime(date, now)} ${chalk.dim(`(${formatRelative(date, now)})`)}`;
}

export function formatDownloads(left: number, max: number): string {
  const text = `${left} left of ${max}`;
  return left === 0 ? chalk.red(text) : left === 1 ? chalk.yellow(text) : text;
}

/** Aligned `label  value` lines, indented by two spaces. */
export function formatRows(rows: ReadonlyArray<readonly [string, string | undefined]>): string {
  const shown = rows.filter((row): row is readonly [string, string] => row[1] !== undefined && row[1] !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `  ${chalk.dim(label.padEnd(width))}  ${value}`).join('\n');
}

function dimensions(file: Pick<FileInfo, 'width' | 'height'>): string | undefined {
  return file.width && file.height ? `${file.width}×${file.height}` : undefined;
}

function variantNames(variants: FileInfo['variants'] | undefined): string | undefined {
  if (!variants || typeof variants !== 'object') return undefined;
  const names = Array.isArray(variants) ? variants.map(String) : Object.keys(variants);
  return names.length > 0 ? names.join(', ') : undefined;
}

// ---------------------------------------------------------------- views

export function uploadView(file: UploadedFile, source: string, now = new Date()): string {
  const kind = [file.contentType, dimensions(file)].filter(Boolean).join(', ');
  return [
    `${chalk.green('✔')} Uploaded ${chalk.bold(source)} ${chalk.dim(`(${formatBytes(file.size)}, ${kind})`)}`,
    formatRows([
      ['link', chalk.cyan(file.url)],
      ['id', file.id],
      ['downloads', formatDownloads(file.downloadsLeft, file.maxDownloads)],
      ['expires', formatWhen(file.expiresAt, now)],
      ['delete token', file.deleteToken],
      ['delete with', chalk.dim(`legim rm ${file.id} --token ${file.deleteToken}`)],
    ]),
  ].join('\n');
}

export function fileView(file: FileInfo, now = new Date()): string {
  return [
    `${chalk.bold(file.id)}${file.title ? `  ${file.title}` : ''}`,
    formatRows([
      ['link', chalk.cyan(file.url)],
      ['size', `${formatBytes(file.size)} ${chalk.dim(`(${file.size} bytes)`)}`],
      ['type', [file.contentType, dimensions(file)].filter(Boolean).join(', ')],
      ['downloads', formatDownloads(file.downloadsLeft, file.maxDownloads)],
      ['created', file.createdAt ? formatWhen(file.createdAt, now) : undefined],
      ['expires', formatWhen(file.expiresAt, now)],
      ['replicas', String(file.replicas)],
      ['status', file.status],
      ['variants', variantNames(file.variants)],
      ['sha256', chalk.dim(file.sha256)],
    ]),
  ].join('\n');
}

export interface DownloadResult {
  id: string;
  path: string;
  size: number;
  sha256: string;
  /** Undefined when the server did not say (an unlimited file, an older gateway). */
  downloadsLeft: number | undefined;
}

export function downloadView(result: DownloadResult): string {
  const left =
    result.downloadsLeft === undefined
      ? ''
      : result.downloadsLeft === 0
        ? `; ${chalk.yellow('no downloads left')}`
        : `; ${result.downloadsLeft} download${result.downloadsLeft === 1 ? '' : 's'} left`;
  return `${chalk.green('✔')} Saved ${chalk.bold(result.path)} ${chalk.dim(`(${formatBytes(result.size)}, ${result.size} bytes)`)}${left}`;
}

export interface ClusterSummary {
  gateway: { name: string; url: string; pid: number | undefined };
  nodes: Array<{ name: string; url: string; pid: number | undefined }>;
  dataDir: string;
  settings: string;
}

export function clusterView(summary: ClusterSummary): string {
  const n = summary.nodes.length;
  const what =
    n === 0
      ? 'a gateway storing on its own disk'
      : `a gateway and ${n} storage node${n === 1 ? '' : 's'}, each its own process`;
  const member = (m: { url: string; pid: number | undefined }): string =>
    `${chalk.cyan(m.url)}  ${chalk.dim(`pid ${m.pid ?? '?'}`)}`;
  return [
    `${chalk.green('✔')} Legim is up: ${what}`,
    formatRows([
      ['gateway', member(summary.gateway)],
      ...summary.nodes.map((node) => [node.name, member(node)] as const),
      ['data', summary.dataDir],
      ['settings', `server and apiKey saved to ${summary.settings}`],
    ]),
    `Try ${chalk.bold('legim upload photo.jpg --downloads 3 --ttl 1h')} in another terminal.`,
    'Press Ctrl-C to stop',
  ].join('\n');
}

export function deletedView(id: string): string {
  return `${chalk.green('✔')} Deleted ${chalk.bold(id)}`;
}

// ---------------------------------------------------------------- printing

export function print(text: string, streams: Streams = defaultStreams): void {
  streams.stdout.write(`${text}\n`);
}

export function printJson(value: unknown, streams: Streams = defaultStreams): void {
  streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One JSON object per line, for streams of events (`legim up --json`). */
export function printJsonLine(value: unknown, streams: Streams = defaultStreams): void {
  streams.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A red line on stderr that is not fatal by itself. */
export function printProblem(message: string, streams: Streams = defaultStreams): void {
  streams.stderr.write(`${chalkStderr.red(`✖ ${message}`)}\n`);
}

export function printNote(message: string, streams: Streams = defaultStreams): void {
  streams.stderr.write(`${chalkStderr.dim(message)}\n`);
}

/** The one red line of a failed command, plus the details `--debug` asks for. */
export function printFailure(failure: Failure, debugText: string | undefined, streams: Streams = defaultStreams): void {
  if (failure.kind === 'silent') return;
  const suffix = failure.code ? ` (${failure.code})` : '';
  streams.stderr.write(`${chalkStderr.red(`✖ ${oneLine(failure.message)}${suffix}`)}\n`);
  if (debugText !== undefined) streams.stderr.write(`${chalkStderr.dim(debugText)}\n`);
  else if (failure.kind === 'bug') streams.stderr.write(`${chalkStderr.dim('run with --debug for details')}\n`);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
