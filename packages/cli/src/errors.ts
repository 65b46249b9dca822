import type { LegimError } from '@legim/sdk';
import { cliName } from './invocation.js';

/**
 * A user's mistake or an expected condition the CLI itself detects (a
 * missing local file, a bad flag value, a cluster that did not come up).
 * Reported as one red line, exit 1, like a `LegimError`.
 */
export class CliError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;

/** How a failure is shown: `abort` is expected (one line), `bug` is not. */
export interface Failure {
  kind: 'abort' | 'bug' | 'silent';
  message: string;
  code: string | undefined;
  exitCode: number;
}

export interface FailureContext {
  /** The server the command talked to, for network errors. */
  server?: string | undefined;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the transfer stalled',
  UND_ERR_SOCKET: 'the connection broke',
};

const FS_CODES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/** Classifies any thrown value; never throws. */
export async function describeFailure(error: unknown, context: FailureContext = {}): Promise<Failure> {
  // Loaded only on failure: commands that never talk to a server need not load the SDK.
  const { LegimError } = await import('@legim/sdk');
  if (isCommanderError(error)) {
    // --help and --version are "errors" to commander's exitOverride.
    if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
      return { kind: 'silent', message: '', code: undefined, exitCode: EXIT_OK };
    }
    // `legim config` without a subcommand: commander already printed the help.
    if (error.code === 'commander.help')
      return { kind: 'silent', message: '', code: undefined, exitCode: error.exitCode };
    const message = error.message
      .replace(/^error:\s*/i, '')
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    return abort(message, 'USAGE');
  }
  if (error instanceof CliError) return abort(error.message, error.code);
  if (LegimError.is(error)) return fromLegimError(error, context);

  const network = findCode(error, NETWORK_CODES);
  if (network) return abort(unreachable(context.server, NETWORK_CODES[network]), 'NETWORK_ERROR');

  const fsCode = findCode(error, FS_CODES);
  if (fsCode) {
    const path = pathOf(error);
    return abort(path ? `${path}: ${FS_CODES[fsCode]}` : FS_CODES[fsCode]!, fsCode);
  }
  if (hasCode(error, 'EADDRINUSE')) {
    const port = (error as { port?: number }).port;
    return abort(`${port ? `port ${port}` : 'the address'} is already in use; pick another with --port`, 'EADDRINUSE');
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    kind: 'bug',
    message: `unexpected error: ${message.split('\n')[0]}`,
    code: undefined,
    exitCode: EXIT_FAILURE,
  };
}

function fromLegimError(error: LegimError, context: FailureContext): Failure {
  if (error.details?.role === 'storage-node') {
    // A node's URL given as --server (or saved): every request is refused, and "unauthorized" would mislead.
    const url = context.server ?? 'this URL';
    return abort(
      `${url} is a storage node, not a gateway; use the gateway's URL (the one its nodes join with --parent; ` +
        `"${cliName()} up" prints it first, http://127.0.0.1:3333 by default) with --server, LEGIM_URL or "${cliName()} config set server URL"`,
      'NOT_A_GATEWAY',
    );
  }
  switch (error.code) {
    case 'DOWNLOADS_EXHAUSTED':
      return abort(`no downloads left: ${error.message}`, error.code);
    case 'EXPIRED':
      return abort(`no downloads left, the file has expired: ${error.message}`, error.code);
    case 'NETWORK_ERROR':
      // The SDK's message already names the server and the cause.
      return abort(error.message, error.code);
    case 'UNAUTHORIZED':
      return abort(
        `${error.message}; set an admin key with "${cliName()} config set apiKey KEY" or LEGIM_API_KEY`,
        error.code,
      );
    default:
      return abort(error.message, error.code);
  }
}

function unreachable(server: string | undefined, reason: string | undefined): string {
  const where = server ? `the Legim server at ${server}` : 'the Legim server';
  return `cannot reach ${where}${reason ? ` (${reason})` : ''}; start one with "${cliName()} up" or choose one with --server URL`;
}

function abort(message: string, code: string | undefined): Failure {
  return { kind: 'abort', message, code, exitCode: EXIT_FAILURE };
}

interface CommanderLike {
  code: string;
  exitCode: number;
  message: string;
}

function isCommanderError(error: unknown): error is CommanderLike {
  if (!(error instanceof Error)) return false;
  const { code, exitCode } = error as Partial<CommanderLike>;
  return typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** Looks for a known `code` on the error and its `cause` chain (undici nests them). */
function findCode(error: unknown, table: Record<string, string>): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(table, code)) return code;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const found = findCode(inner, table);
        if (found) return found;
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function pathOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const path = (current as { path?: unknown }).path;
    if (typeof path === 'string') return path;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The stack and causes, for `--debug`. */
export function debugDetails(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    parts.push(depth === 0 ? stackOf(current) : `caused by: ${stackOf(current)}`);
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return parts.join('\n');
}

function stackOf(value: unknown): string {
  return value instanceof Error ? (value.stack ?? `${value.name}: ${value.message}`) : String(value);
}
