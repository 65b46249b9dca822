/**
 * Everything the CLI prints goes through here: human text (chalk, sizes,
 * times) and `--json`. Commands decide *what* to show, this file *how*.
 * Data goes to stdout; errors, warnings and progress go to stderr.
 */
import chalk, { chalkStderr } from 'chalk';
import type { ApiKey, CreatedKey, FileInfo, KeyQuotas, UploadedFile, VariantInfo } from '@legim/sdk';
// The duration helpers alone: the SDK's client (and undici) load only for commands that talk to a server.
import { formatDuration } from '@legim/sdk/duration';
import type { Failure } from './errors.js';
import { cliName } from './invocation.js';

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

/** `ready`, `processing (…)` or `failed: <reason>`, coloured. */
export function formatStatus(file: Pick<FileInfo, 'status' | 'statusReason'>): string {
  switch (file.status) {
    case 'ready':
      return chalk.green('ready');
    case 'processing':
      return `${chalk.yellow('processing')} ${chalk.dim('(previews not made yet)')}`;
    case 'failed':
      return `${chalk.yellow('failed')}: ${file.statusReason || 'no reason given'} ${chalk.dim('(the original is fine)')}`;
    default:
      return String(file.status ?? '');
  }
}

const VARIANT_ORDER = ['thumb', 'small', 'webp'];

/** The variants in a stable order: thumb, small, webp, then any other by name. */
function sortedVariants(variants: FileInfo['variants'] | undefined): Array<[string, VariantInfo]> {
  if (!variants || typeof variants !== 'object' || Array.isArray(variants)) return [];
  const rank = (name: string): number => {
    const index = VARIANT_ORDER.indexOf(name);
    return index === -1 ? VARIANT_ORDER.length : index;
  };
  return Object.entries(variants).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * A table of the variants: name, size, dimensions, URL; '' when there are none.
 *
 *   variant  size     dimensions  url
 *   thumb    9.2 kB   256×160     http://…/variants/thumb
 */
export function variantsTable(variants: FileInfo['variants'] | undefined): string {
  const rows = sortedVariants(variants).map(([name, v]) => [name, formatBytes(v.size), dimensions(v) ?? '?', v.url]);
  if (rows.length === 0) return '';
  const header = ['variant', 'size', 'dimensions', 'url'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  // Sizes right-aligned so that they compare at a glance; the URL, last, is not padded.
  const cells = (row: string[]): string[] =>
    row.map((cell, column) =>
      column === 3 ? cell : column === 1 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
    );
  return [
    `  ${chalk.dim(cells(header).join('  '))}`,
    ...rows.map((row) => {
      const [name, size, dims, url] = cells(row);
      return `  ${name}  ${size}  ${dims}  ${chalk.cyan(url)}`;
    }),
  ].join('\n');
}

// ---------------------------------------------------------------- views

export function uploadView(file: UploadedFile, source: string, now = new Date()): string {
  const kind = [file.contentType, dimensions(file)].filter(Boolean).join(', ');
  return [
    `${chalk.green('✔')} Uploaded ${chalk.bold(source)} ${chalk.dim(`(${formatBytes(file.size)}, ${kind})`)}`,
    formatRows([
      ['link', chalk.cyan(file.url)],
      ['share page', file.shareUrl ? chalk.cyan(file.shareUrl) : undefined],
      ['id', file.id],
      ['downloads', formatDownloads(file.downloadsLeft, file.maxDownloads)],
      ['expires', formatWhen(file.expiresAt, now)],
      ['delete token', file.deleteToken],
      ['delete with', chalk.dim(`${cliName()} rm ${file.id} --token ${file.deleteToken}`)],
    ]),
  ].join('\n');
}

/**
 * One upload of several, on one line:
 * `✔ a.jpg  http://…/d/<id>  81 kB, 3 downloads, expires 15:15:07 (in 1 hour), delete token …`
 */
export function uploadLine(file: UploadedFile, source: string, now = new Date()): string {
  const facts = [
    formatBytes(file.size),
    `${file.maxDownloads} download${file.maxDownloads === 1 ? '' : 's'}`,
    `expires ${formatWhen(file.expiresAt, now)}`,
    `delete token ${file.deleteToken}`,
  ];
  return `${chalk.green('✔')} ${chalk.bold(source)}  ${chalk.cyan(file.url)}  ${chalk.dim(facts.join(', '))}`;
}

export function fileView(file: FileInfo, now = new Date()): string {
  return [
    `${chalk.bold(file.id)}${file.title ? `  ${file.title}` : ''}`,
    formatRows([
      ['link', chalk.cyan(file.url)],
      ['share page', file.shareUrl ? chalk.cyan(file.shareUrl) : undefined],
      ['size', `${formatBytes(file.size)} ${chalk.dim(`(${file.size} bytes)`)}`],
      ['type', [file.contentType, dimensions(file)].filter(Boolean).join(', ')],
      ['downloads', formatDownloads(file.downloadsLeft, file.maxDownloads)],
      ['created', file.createdAt ? formatWhen(file.createdAt, now) : undefined],
      ['expires', formatWhen(file.expiresAt, now)],
      ['replicas', String(file.replicas)],
      ['status', file.status ? formatStatus(file) : undefined],
      ['sha256', chalk.dim(file.sha256)],
    ]),
    variantsTable(file.variants),
  ]
    .filter((block) => block !== '')
    .join('\n');
}

/** What `legim upload --wait` adds once the previews are made. */
export function processedView(file: FileInfo): string {
  const count = sortedVariants(file.variants).length;
  return [`${chalk.green('✔')} Processed: ${count} preview${count === 1 ? '' : 's'}`, variantsTable(file.variants)]
    .filter((block) => block !== '')
    .join('\n');
}

export interface DownloadResult {
  id: string;
  /** Set when a preview was saved rather than the original. */
  variant?: string | undefined;
  /** `-` for standard output (the line then goes to stderr). */
  path: string;
  size: number;
  sha256: string;
  /** Undefined when the server did not say (an unlimited file, an older gateway). */
  downloadsLeft: number | undefined;
}

export function downloadView(result: DownloadResult): string {
  const left =
    result.variant !== undefined
      ? `; the ${result.variant} preview, no download used`
      : result.downloadsLeft === undefined
        ? ''
        : result.downloadsLeft === 0
          ? `; ${chalk.yellow('no downloads left')}`
          : `; ${result.downloadsLeft} download${result.downloadsLeft === 1 ? '' : 's'} left`;
  const size = chalk.dim(`(${formatBytes(result.size)}, ${result.size} bytes)`);
  if (result.path === '-') return `${chalkStderr.green('✔')} Wrote ${result.id} to standard output ${size}${left}`;
  return `${chalk.green('✔')} Saved ${chalk.bold(result.path)} ${size}${left}`;
}

// ---------------------------------------------------------------- API keys

/** `10 GB, 1000 files, files ≤ 20 MB, ttl ≤ 7 days, ≤ 10 downloads`, or `none`. */
export function formatQuotas(quotas: KeyQuotas): string {
  const parts = [
    quotas.maxBytes !== undefined ? formatBytes(quotas.maxBytes) : undefined,
    quotas.maxFiles !== undefined ? `${quotas.maxFiles} files` : undefined,
    quotas.maxFileBytes !== undefined ? `files ≤ ${formatBytes(quotas.maxFileBytes)}` : undefined,
    quotas.maxTtlSeconds !== undefined ? `ttl ≤ ${formatDuration(quotas.maxTtlSeconds)}` : undefined,
    quotas.maxDownloads !== undefined ? `≤ ${quotas.maxDownloads} downloads` : undefined,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

export function createdKeyView(key: CreatedKey): string {
  return [
    `${chalk.green('✔')} Created API key ${chalk.bold(key.id)} (${key.name})`,
    formatRows([
      ['secret', chalk.bold(key.secret)],
      ['scopes', key.scopes.join(', ')],
      ['quotas', formatQuotas(key.quotas)],
    ]),
    chalk.yellow('  Keep the secret now: it is not shown again (the gateway stores only its hash).'),
  ].join('\n');
}

export function revokedKeyView(key: ApiKey): string {
  return `${chalk.green('✔')} Revoked API key ${chalk.bold(key.id)} (${key.name}); its ${key.usage.files} file(s) stay until they expire`;
}

/** One line per key: id, name, scopes, state, usage, quotas. */
export function keysTable(keys: ApiKey[]): string {
  if (keys.length === 0) return chalk.dim(`no API keys; make one with "${cliName()} keys create <name>"`);
  const rows = keys.map((key) => [
    key.id,
    key.name,
    key.scopes.join(','),
    key.revokedAt === null ? 'active' : 'revoked',
    `${key.usage.files} files, ${formatBytes(key.usage.bytes)}`,
    formatQuotas(key.quotas),
  ]);
  const header = ['id', 'name', 'scopes', 'state', 'holds', 'quotas'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [chalk.dim(line(header)), ...rows.map(line)].join('\n');
}

/** A URL with its password, if any, replaced by `***`: `amqp://guest:***@127.0.0.1:5672`. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = '***';
    return url.toString();
  } catch {
    return raw.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}

/** The backends a gateway uses for what gateways must agree on, and for its jobs. */
export interface BackendSummary {
  /** The index as configured: undefined or `sqlite…` for SQLite, else a postgres:// URL. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  amqpUrl: string | undefined;
  queuePrefix: string;
  /** Who runs the image jobs, e.g. `2 at once in this gateway`. */
  jobsRunBy: string;
}

/** `index`, `counters` (download counters and locks) and `jobs` rows, with any password in the URLs masked. */
export function backendRows(backends: BackendSummary): Array<readonly [string, string]> {
  const postgres = isPostgres(backends.databaseUrl);
  const engine = postgres ? 'PostgreSQL' : 'SQLite';
  return [
    [
      'index',
      postgres
        ? `PostgreSQL ${chalk.cyan(redactUrl(backends.databaseUrl!))} ${chalk.dim('(shared by gateways on any host)')}`
        : `SQLite ${chalk.dim('(in the data directory)')}`,
    ],
    [
      'counters',
      backends.redisUrl === undefined
        ? `${engine} ${chalk.dim('(download counters and locks in the index)')}`
        : `Redis ${chalk.cyan(redactUrl(backends.redisUrl))} ${chalk.dim(`(download counters, locks, cache invalidation; keys ${backends.redisPrefix}…)`)}`,
    ],
    [
      'jobs',
      backends.amqpUrl === undefined
        ? `embedded queue ${chalk.dim('(in the index)')}, run ${backends.jobsRunBy}`
        : `RabbitMQ ${chalk.cyan(redactUrl(backends.amqpUrl))} ${chalk.dim(`(queues ${backends.queuePrefix}.…)`)}, run ${backends.jobsRunBy}`,
    ],
  ];
}

/** For `--json`: which backends, with any password in their URLs masked. */
export function backendsJson(backends: BackendSummary): Record<string, string> {
  const index = isPostgres(backends.databaseUrl) ? 'postgres' : 'sqlite';
  return {
    index,
    ...(index === 'postgres' && { database: redactUrl(backends.databaseUrl!) }),
    counter: backends.redisUrl === undefined ? index : 'redis',
    ...(backends.redisUrl !== undefined && { redis: redactUrl(backends.redisUrl), redisPrefix: backends.redisPrefix }),
    jobs: backends.amqpUrl === undefined ? 'embedded' : 'rabbitmq',
    ...(backends.amqpUrl !== undefined && { amqp: redactUrl(backends.amqpUrl), queuePrefix: backends.queuePrefix }),
  };
}

function isPostgres(databaseUrl: string | undefined): boolean {
  return databaseUrl !== undefined && /^postgres(ql)?:/.test(databaseUrl);
}

interface Member {
  name: string;
  url: string;
  pid: number | undefined;
}

export interface ClusterSummary {
  /** `legim up`'s own process: `kill <pid>` stops the cluster as Ctrl-C does. */
  pid: number;
  /** The settings profile the gateway was saved in. */
  profile: {
    name: string;
    /** Commands without --profile or LEGIM_PROFILE use it. */
    isDefault: boolean;
  };
  /** The first gateway (the nodes' parent, saved in the settings). */
  gateway: Member;
  gateways: Member[];
  nodes: Member[];
  workers: Array<{ name: string; pid: number | undefined }>;
  backends: BackendSummary;
  dataDir: string;
  settings: string;
  /** With `legim up --tls`: the CA the clients must trust. */
  ca?: string | undefined;
}

export function clusterView(summary: ClusterSummary): string {
  const g = summary.gateways.length;
  const n = summary.nodes.length;
  const w = summary.workers.length;
  const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  const parts = [
    g === 1 ? 'a gateway' : plural(g, 'gateway'),
    ...(n === 0 ? [] : [plural(n, 'storage node')]),
    ...(w === 0 ? [] : [w === 1 ? 'an image worker' : plural(w, 'image worker')]),
  ];
  const listed = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
  const what = n === 0 && g === 1 && w === 0 ? 'a gateway storing on its own disk' : `${listed}, each its own process`;
  const pid = (m: { pid: number | undefined }): string => chalk.dim(`pid ${m.pid ?? '?'}`);
  const member = (m: Member): string => `${chalk.cyan(m.url)}  ${pid(m)}`;
  const { profile } = summary;
  // Commands reach a profile that is not the default only when told which.
  const profileFlag = profile.isDefault ? '' : ` --profile ${profile.name}`;
  return [
    `${chalk.green('✔')} Legim is up: ${what} ${chalk.dim(`(legim up is pid ${summary.pid})`)}`,
    formatRows([
      ...summary.gateways.map((gateway) => [gateway.name, member(gateway)] as const),
      ...summary.nodes.map((node) => [node.name, member(node)] as const),
      ...summary.workers.map((worker) => [worker.name, `image jobs  ${pid(worker)}`] as const),
      ...backendRows(summary.backends),
      ['data', summary.dataDir],
      ...(summary.ca === undefined ? [] : [['tls ca', summary.ca] as const]),
      [
        'settings',
        `server${g > 1 ? ` (${summary.gateway.name})` : ''}${summary.ca === undefined ? ' and apiKey' : ', apiKey and ca'} saved to profile ${chalk.bold(profile.name)}${profile.isDefault ? ' (the default)' : ''} in ${summary.settings}`,
      ],
    ]),
    ...(profile.isDefault
      ? []
      : [
          `Commands reach this cluster with ${chalk.bold(`--profile ${profile.name}`)} (or LEGIM_PROFILE=${profile.name}); ` +
            `without it they keep using the default profile (${chalk.bold(`${cliName()} config use ${profile.name}`)} changes that).`,
        ]),
    ...(g > 1 ? [`For failover, put nginx in front of the gateways: see ${chalk.bold('docs/operations.md')}.`] : []),
    `Try ${chalk.bold(`${cliName()} upload photo.jpg --downloads 3 --ttl 1h${profileFlag}`)} in another terminal,`,
    `or open ${chalk.cyan(`${summary.gateway.url}/`)} in a browser to upload by drag and drop.`,
    ...(summary.ca === undefined
      ? []
      : [
          `With curl: ${chalk.bold(`curl --cacert ${summary.ca} ${summary.gateway.url}/d/<id> -o photo.jpg`)}`,
          `(a browser warns about the certificate until ${summary.ca} is imported as a trusted CA)`,
        ]),
    `Press Ctrl-C to stop, or run ${chalk.bold(`kill ${summary.pid}`)} from elsewhere`,
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

/** A yellow line on stderr: the command succeeded, but something deserves attention. */
export function printWarning(message: string, streams: Streams = defaultStreams): void {
  streams.stderr.write(`${chalkStderr.yellow(`⚠ ${oneLine(message)}`)}\n`);
}

export interface ElapsedLine {
  /** Erases the line; the caller prints the result afterwards. */
  done(): void;
}

/**
 * `<label> 3s`, redrawn in place once a second on stderr, without a
 * spinner. On anything but a terminal it draws nothing at all.
 */
export function createElapsedLine(
  label: string,
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
  intervalMs = 1000,
): ElapsedLine {
  if (!stream.isTTY) return { done() {} };
  const started = Date.now();
  const draw = (): void => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    stream.write(`\r\x1b[2K${label} ${chalkStderr.dim(`${seconds}s`)}`);
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  timer.unref?.();
  let active = true;
  return {
    done() {
      if (!active) return;
      active = false;
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
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
