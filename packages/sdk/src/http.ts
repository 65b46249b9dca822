import { request, type Dispatcher } from 'undici';
import { LegimError, errorFromResponse } from './errors.js';
import { tlsFailure } from './tls-failure.js';

/** What every request needs; built once by `Legim`, shared by the resource modules. */
export interface HttpContext {
  /** The gateway's base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** undici's global dispatcher when undefined. */
  readonly dispatcher: Dispatcher | undefined;
  /** Headers timeout and body (inactivity) timeout; undici's defaults when undefined. */
  readonly timeoutMs: number | undefined;
}

export interface SendOptions {
  method: Dispatcher.HttpMethod;
  /** Starts with `/`; appended to the base URL. */
  path: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  body?: Dispatcher.DispatchOptions['body'];
  /** Bearer token for this request instead of the client's API key. */
  token?: string | undefined;
  signal?: AbortSignal | undefined;
}

export type Response = Dispatcher.ResponseData;

/** Error bodies are small; a reply larger than this is not ours. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Sends one request to the gateway. Resolves with a 2xx response whose body
 * the caller must consume (or dump); anything else rejects with a
 * {@link LegimError}: the server's own error rebuilt by `errorFromResponse`,
 * or `NETWORK_ERROR` when the server cannot be reached. An abort rejects with
 * the signal's reason.
 */
export async function send(ctx: HttpContext, options: SendOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = options.token ?? ctx.apiKey;
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;

  let response: Response;
  try {
    response = await request(ctx.baseUrl + options.path + queryString(options.query), {
      method: options.method,
      headers,
      body: options.body,
      signal: options.signal,
      dispatcher: ctx.dispatcher,
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
  } catch (error) {
    throw failure(ctx, error, options.signal, 'request');
  }
  if (response.statusCode >= 200 && response.statusCode < 300) return response;
  throw await rebuildError(ctx, response, options.signal);
}

/** Reads a 2xx response's JSON body. */
export async function readJson<T>(ctx: HttpContext, response: Response, signal?: AbortSignal): Promise<T> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw failure(ctx, error, signal, 'response');
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LegimError(
      'INTERNAL',
      `the server at ${ctx.baseUrl} answered HTTP ${response.statusCode} without JSON; is this the URL of a Legim gateway?`,
      { statusCode: response.statusCode },
    );
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
]);

const HINTS: Record<string, (ctx: HttpContext) => string> = {
  ECONNREFUSED: () => 'connection refused (ECONNREFUSED); is the server running, and is the URL right?',
  ENOTFOUND: () => 'host not found (ENOTFOUND); check the URL',
  EAI_AGAIN: () => 'the host name could not be resolved now (EAI_AGAIN); check the network and the URL',
  UND_ERR_CONNECT_TIMEOUT: () => 'the connection timed out (UND_ERR_CONNECT_TIMEOUT); check the network and the URL',
  UND_ERR_HEADERS_TIMEOUT: (ctx) => `no answer within ${ctx.timeoutMs ?? 300_000} ms (UND_ERR_HEADERS_TIMEOUT)`,
  UND_ERR_BODY_TIMEOUT: (ctx) => `no data for ${ctx.timeoutMs ?? 300_000} ms (UND_ERR_BODY_TIMEOUT)`,
};

/**
 * Turns what undici or a stream threw into what the SDK promises: a
 * `LegimError` stays as it is, an abort becomes the signal's reason, a
 * failure to reach the server or a connection that broke becomes
 * `NETWORK_ERROR`. Anything else (a local file, a bug) is returned untouched
 * for the caller to classify.
 */
export function failure(
  ctx: HttpContext,
  error: unknown,
  signal: AbortSignal | undefined,
  phase: 'request' | 'response',
): unknown {
  if (LegimError.is(error)) return error;
  if (signal?.aborted) return signal.reason ?? error;
  const code = errorCode(error);
  if (code === undefined || !isNetworkCode(code)) return error;
  const detail = HINTS[code]?.(ctx) ?? tlsHint(code, error) ?? `${(error as Error).message} (${code})`;
  const message =
    phase === 'request'
      ? `cannot reach the Legim server at ${ctx.baseUrl}: ${detail}`
      : `the connection to the Legim server at ${ctx.baseUrl} broke during the transfer: ${detail}`;
  return new LegimError('NETWORK_ERROR', message, { cause: error, details: { code } });
}

/** What to do about a TLS failure: an untrusted certificate, or a server that does not speak TLS. */
function tlsHint(code: string, error: unknown): string | undefined {
  const reason = `${(error as Error).message} (${code})`;
  const kind = tlsFailure(error)?.kind;
  if (kind === 'untrusted') {
    return `its TLS certificate is not trusted: ${reason}; give the CA that signed it (the SDK's \`ca\` option, the CLI's --ca or LEGIM_CA)`;
  }
  if (kind === 'not-tls') {
    return `it does not speak HTTPS on this port: ${reason}; use http://`;
  }
  return undefined;
}

function isNetworkCode(code: string): boolean {
  // HPE_*: the peer does not speak HTTP; TLS and certificate failures also mean "cannot reach".
  return (
    NETWORK_CODES.has(code) || code === 'EPROTO' || /^(HPE_|ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_)|SELF_SIGNED/.test(code)
  );
}

/** The error's `code`; Node's happy-eyeballs connect may wrap them in an AggregateError. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) return errors.map(errorCode).find((inner) => inner !== undefined);
  return undefined;
}

/** What a storage node answers in every reply, so a client given its URL instead of a gateway's can say so. */
export const ROLE_HEADER = 'legim-role';

async function rebuildError(ctx: HttpContext, response: Response, signal: AbortSignal | undefined): Promise<unknown> {
  if (headerValue(response.headers[ROLE_HEADER]) === 'storage-node') {
    await response.body.dump().catch(() => undefined);
    return new LegimError(
      'BAD_REQUEST',
      `${ctx.baseUrl} is a storage node, not a gateway; use the gateway's URL (the one its nodes join with --parent)`,
      { statusCode: response.statusCode, details: { role: 'storage-node' } },
    );
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length > MAX_ERROR_BODY) break; // leaving the loop destroys the body
    }
  } catch (error) {
    return failure(ctx, error, signal, 'response');
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    body = undefined;
  }
  return errorFromResponse(response.statusCode, body, headerDetails(response.headers));
}

/** The facts an error answer's headers carry: `Retry-After`, and a rate limit's `RateLimit-*`. */
function headerDetails(headers: Response['headers']): Record<string, unknown> | undefined {
  const seconds = (name: string): number | undefined => {
    const value = Number(headerValue(headers[name]));
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const retryAfter = seconds('retry-after');
  const limit = seconds('ratelimit-limit');
  const details = {
    ...(retryAfter !== undefined && { retryAfter }),
    ...(limit !== undefined && {
      rateLimit: { limit, remaining: seconds('ratelimit-remaining'), reset: seconds('ratelimit-reset') },
    }),
  };
  return Object.keys(details).length > 0 ? details : undefined;
}

/** The first value of a header undici may hand over as a list. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function queryString(query: SendOptions['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
