import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { LegimError, formatDuration, parseDuration } from '@legim/sdk';
import { loadTlsSettings, parseByteSize, type TlsSettings } from '@legim/node';
import type { BackendConfig } from './backends/open-backends.js';
import { parseDatabase } from './backends/database-config.js';
import type { UploadMode } from './access/access-gate.js';
import { TrustedProxies } from './access/trusted-proxies.js';
import { parseRateLimit, type RateLimits } from './rate-limit/rate-limits.js';
import type { PreviewCaching } from './variants/preview-caching.js';
import type { PurgeSettings } from './cdn/cdn-purger.js';
import { DEFAULT_VARIANTS, VARIANTS, isVariantName, type VariantName } from './processing/variants.js';
import { MasterKeys } from './encryption/master-keys.js';

/** Everything the gateway needs to know, validated once at the edge. */
export interface GatewayConfig extends BackendConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Base of the links handed to users; defaults to http(s)://host:port. */
  publicUrl: string | undefined;
  /** HTTPS (with a certificate) and the CA the storage nodes' certificates must chain to. */
  tls: TlsSettings;
  /** Undefined: read from or generated into the data directory. */
  adminKey: string | undefined;
  clusterSecret: string | undefined;
  /** Whether the gateway keeps replicas on its own disk too. */
  store: boolean;
  replicas: number;
  writeQuorum: number;
  maxUploadBytes: number;
  maxPixels: number;
  defaultDownloads: number;
  maxDownloads: number;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  deleteGraceMs: number;
  /** How long the client of a cut download may fetch its rest without taking another (credits and Legim-Resume tokens). */
  resumeWindowMs: number;
  sweepIntervalMs: number;
  healthIntervalMs: number;
  /** A node down this long is lost: its copies are made again on other nodes. */
  repairAfterMs: number;
  /** Images made at once by the gateway (in its low-priority image process); 0 leaves them to `legim worker` processes. */
  workers: number;
  /** Check every JSON answer against the API document (development and tests); a mismatch answers 500. */
  checkAnswers: boolean;
  /** `open`: anyone may upload; `key`: uploads need an API key with the `upload` scope (anything public). */
  uploads: UploadMode;
  rateLimits: RateLimits;
  /** Proxies whose `X-Forwarded-For` names the client. */
  trustedProxies: TrustedProxies;
  /** Whether shared caches (a CDN) may keep previews until the file expires, or only browsers. */
  previewCaching: PreviewCaching;
  /** The previews the workers make of each image. */
  variants: readonly VariantName[];
  /** The CDN to tell when a file is gone before its expiry; undefined: none. */
  purge: PurgeSettings | undefined;
  /** Whether new uploads are stored encrypted (`--encrypt`). */
  encrypt: boolean;
  /**
   * The master keys given (`--master-key-file`, `LEGIM_MASTER_KEY`); undefined:
   * `<data>/master.key`, generated there with `--encrypt` on a one-host (SQLite) index.
   */
  masterKeys: MasterKeys | undefined;
}

/** A list (`trustedProxy`) is one string, its items separated by commas or spaces. */
export type GatewayFlags = Partial<Record<keyof typeof FLAG_ENV, string | number | boolean | undefined>>;

/** Flag name → environment variable; flags win over the environment. */
const FLAG_ENV = {
  host: 'LEGIM_HOST',
  port: 'LEGIM_PORT',
  data: 'LEGIM_DATA',
  publicUrl: 'LEGIM_PUBLIC_URL',
  adminKey: 'LEGIM_ADMIN_KEY',
  adminKeyFile: 'LEGIM_ADMIN_KEY_FILE',
  secret: 'LEGIM_CLUSTER_SECRET',
  secretFile: 'LEGIM_CLUSTER_SECRET_FILE',
  database: 'LEGIM_DATABASE_URL',
  indexWait: 'LEGIM_INDEX_WAIT',
  store: 'LEGIM_STORE',
  replicas: 'LEGIM_REPLICAS',
  writeQuorum: 'LEGIM_WRITE_QUORUM',
  maxUpload: 'LEGIM_MAX_UPLOAD',
  maxPixels: 'LEGIM_MAX_PIXELS',
  defaultDownloads: 'LEGIM_DEFAULT_DOWNLOADS',
  maxDownloads: 'LEGIM_MAX_DOWNLOADS',
  defaultTtl: 'LEGIM_DEFAULT_TTL',
  maxTtl: 'LEGIM_MAX_TTL',
  deleteGrace: 'LEGIM_DELETE_GRACE',
  resumeWindow: 'LEGIM_RESUME_WINDOW',
  sweepInterval: 'LEGIM_SWEEP_INTERVAL',
  healthInterval: 'LEGIM_HEALTH_INTERVAL',
  repairAfter: 'LEGIM_REPAIR_AFTER',
  workers: 'LEGIM_WORKERS',
  jobAttempts: 'LEGIM_JOB_ATTEMPTS',
  amqp: 'LEGIM_AMQP_URL',
  queuePrefix: 'LEGIM_QUEUE_PREFIX',
  redis: 'LEGIM_REDIS_URL',
  redisPrefix: 'LEGIM_REDIS_PREFIX',
  checkAnswers: 'LEGIM_CHECK_ANSWERS',
  tlsCert: 'LEGIM_TLS_CERT',
  tlsKey: 'LEGIM_TLS_KEY',
  ca: 'LEGIM_CA',
  allowHttpLoopback: 'LEGIM_ALLOW_HTTP_LOOPBACK',
  uploads: 'LEGIM_UPLOADS',
  uploadRate: 'LEGIM_UPLOAD_RATE',
  uploadRatePerAddress: 'LEGIM_UPLOAD_RATE_PER_ADDRESS',
  downloadRate: 'LEGIM_DOWNLOAD_RATE',
  downloadRatePerAddress: 'LEGIM_DOWNLOAD_RATE_PER_ADDRESS',
  authFailureRate: 'LEGIM_AUTH_FAILURE_RATE',
  trustedProxy: 'LEGIM_TRUSTED_PROXY',
  previewCache: 'LEGIM_PREVIEW_CACHE',
  variants: 'LEGIM_VARIANTS',
  purgeUrl: 'LEGIM_PURGE_URL',
  purgeMethod: 'LEGIM_PURGE_METHOD',
  purgeHeader: 'LEGIM_PURGE_HEADER',
  encrypt: 'LEGIM_ENCRYPT',
  masterKeyFile: 'LEGIM_MASTER_KEY_FILE',
  masterKey: 'LEGIM_MASTER_KEY',
} as const;

/**
 * The rate limits' defaults with `--uploads key` (a public gateway). With
 * `open` uploads (a private network, tests) only failed authentications
 * are limited unless a limit is given.
 */
const PUBLIC_RATES = {
  uploadRate: '60/min',
  uploadRatePerAddress: '120/min',
  downloadRate: '600/min',
  downloadRatePerAddress: '300/min',
} as const;
const AUTH_FAILURE_RATE = '20/min';
/** A resume window longer than a day would let one cut download be fetched again for days. */
const MAX_RESUME_WINDOW_SECONDS = 86_400;

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  return join(base, 'legim');
}

export function parseGatewayConfig(input: { flags?: GatewayFlags; env?: NodeJS.ProcessEnv }): GatewayConfig {
  const env = input.env ?? {};
  const flags = input.flags ?? {};
  const pick = (name: keyof typeof FLAG_ENV): string | undefined => {
    const value = flags[name] ?? env[FLAG_ENV[name]];
    return value === undefined || value === '' ? undefined : String(value);
  };
  const uploads = uploadMode(pick('uploads'));
  const rate = (name: keyof typeof PUBLIC_RATES) => {
    const raw = pick(name) ?? (uploads === 'key' ? PUBLIC_RATES[name] : undefined);
    return raw === undefined ? undefined : parseRateLimit(name, raw);
  };

  const replicas = integer('replicas', pick('replicas'), 3, 1, 16);
  const dataDir = resolve(pick('data') ?? join(defaultDataDir(env), 'gateway'));
  const config: GatewayConfig = {
    host: pick('host') ?? '127.0.0.1',
    port: integer('port', pick('port'), 3333, 0, 65535),
    dataDir,
    database: parseDatabase(pick('database'), dataDir),
    indexWaitMs: seconds('indexWait', pick('indexWait'), 60, 0) * 1000,
    publicUrl: url('publicUrl', pick('publicUrl')),
    tls: loadTlsSettings({
      cert: pick('tlsCert'),
      key: pick('tlsKey'),
      ca: pick('ca'),
      allowHttpLoopback: boolean('allowHttpLoopback', pick('allowHttpLoopback'), false),
    }),
    adminKey: secret('adminKey', pick('adminKey') ?? fromFile('adminKeyFile', pick('adminKeyFile'))),
    clusterSecret: secret('secret', pick('secret') ?? fromFile('secretFile', pick('secretFile'))),
    store: boolean('store', pick('store'), true),
    checkAnswers: boolean('checkAnswers', pick('checkAnswers'), false),
    replicas,
    writeQuorum: integer('writeQuorum', pick('writeQuorum'), Math.min(2, replicas), 1, replicas),
    maxUploadBytes: bytes('maxUpload', pick('maxUpload'), 100 * 1024 * 1024),
    maxPixels: integer('maxPixels', pick('maxPixels'), 100_000_000, 1, 2 ** 40),
    defaultDownloads: integer('defaultDownloads', pick('defaultDownloads'), 3, 1, 2 ** 31),
    maxDownloads: integer('maxDownloads', pick('maxDownloads'), 1000, 1, 2 ** 31),
    defaultTtlSeconds: seconds('defaultTtl', pick('defaultTtl'), 3600),
    maxTtlSeconds: seconds('maxTtl', pick('maxTtl'), 30 * 86400),
    deleteGraceMs: seconds('deleteGrace', pick('deleteGrace'), 60, 0) * 1000,
    resumeWindowMs: seconds('resumeWindow', pick('resumeWindow'), 3600, 1, MAX_RESUME_WINDOW_SECONDS) * 1000,
    sweepIntervalMs: seconds('sweepInterval', pick('sweepInterval'), 1, 0.05) * 1000,
    healthIntervalMs: seconds('healthInterval', pick('healthInterval'), 1, 0.05) * 1000,
    // Long enough that a restart or a short network cut is no reason to copy everything it held.
    repairAfterMs: seconds('repairAfter', pick('repairAfter'), 300, 0.05) * 1000,
    // With RabbitMQ, image work is for `legim worker` processes unless asked for here too.
    workers: integer('workers', pick('workers'), pick('amqp') === undefined ? 2 : 0, 0, 64),
    jobAttempts: integer('jobAttempts', pick('jobAttempts'), 5, 1, 100),
    amqpUrl: amqpUrl(pick('amqp')),
    queuePrefix: queuePrefix(pick('queuePrefix')),
    redisUrl: redisUrl(pick('redis')),
    redisPrefix: redisPrefix(pick('redisPrefix')),
    uploads,
    rateLimits: {
      upload: { perKey: rate('uploadRate'), perAddress: rate('uploadRatePerAddress') },
      download: { perKey: rate('downloadRate'), perAddress: rate('downloadRatePerAddress') },
      authFailures: parseRateLimit('authFailureRate', pick('authFailureRate') ?? AUTH_FAILURE_RATE),
    },
    trustedProxies: new TrustedProxies((pick('trustedProxy') ?? '').split(/[\s,]+/).filter(Boolean)),
    previewCaching: previewCaching(pick('previewCache')),
    variants: variantNames(pick('variants')),
    purge: purgeSettings(pick('purgeUrl'), pick('purgeMethod'), pick('purgeHeader')),
    encrypt: boolean('encrypt', pick('encrypt'), false),
    masterKeys: masterKeys(pick('masterKey'), pick('masterKeyFile')),
  };
  if (config.defaultDownloads > config.maxDownloads) {
    throw invalid('defaultDownloads', `must not exceed maxDownloads (${config.maxDownloads})`);
  }
  if (config.defaultTtlSeconds > config.maxTtlSeconds) {
    throw invalid('defaultTtl', `must not exceed maxTtl (${formatDuration(config.maxTtlSeconds)})`);
  }
  return config;
}

function invalid(name: string, why: string): LegimError {
  return new LegimError('INVALID_OPTION', `invalid ${name}: ${why}`);
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function seconds(name: string, raw: string | undefined, fallback: number, min = 1, max = Infinity): number {
  if (raw === undefined) return fallback;
  // Sub-second values are allowed for the intervals (tests run them fast).
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : parseDuration(raw);
  if (!(value >= min)) throw invalid(name, `expected a duration of at least ${min}s, got "${raw}"`);
  if (value > max) throw invalid(name, `expected a duration of at most ${max}s, got "${raw}"`);
  return value;
}

function bytes(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  return parseByteSize(raw, name);
}

function boolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw invalid(name, `expected true or false, got "${raw}"`);
}

function url(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return new URL(raw).toString().replace(/\/$/, '');
  } catch {
    throw invalid(name, `expected an http(s) URL, got "${raw}"`);
  }
}

/** A secret kept in a file (a mounted secret, or one file shared by the hosts' deployments): its first line. */
function fromFile(name: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8').split('\n', 1)[0]!.trim();
  } catch (error) {
    throw invalid(name, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function secret(name: string, raw: string | undefined): string | undefined {
  if (raw !== undefined && raw.length < 16) throw invalid(name, 'must be at least 16 characters long');
  return raw;
}

function amqpUrl(raw: string | undefined): string | undefined {
  if (raw !== undefined && !/^amqps?:\/\//.test(raw))
    throw invalid('amqp', `expected amqp://user:pass@host:5672, got "${raw}"`);
  return raw;
}

function queuePrefix(raw: string | undefined): string {
  if (raw !== undefined && !/^[A-Za-z0-9_]{1,40}$/.test(raw)) throw invalid('queuePrefix', 'use letters, digits and _');
  return raw ?? 'legim';
}

function redisUrl(raw: string | undefined): string | undefined {
  if (raw !== undefined && !/^rediss?:\/\//.test(raw))
    throw invalid('redis', `expected redis://[:password@]host:6379[/db], got "${raw}"`);
  return raw;
}

function uploadMode(raw: string | undefined): UploadMode {
  if (raw === undefined || raw === 'open' || raw === 'key') return raw ?? 'open';
  throw invalid('uploads', `expected open or key, got "${raw}"`);
}

function previewCaching(raw: string | undefined): PreviewCaching {
  if (raw === undefined || raw === 'public' || raw === 'private') return raw ?? 'public';
  throw invalid('previewCache', `expected public or private, got "${raw}"`);
}

function variantNames(raw: string | undefined): readonly VariantName[] {
  if (raw === undefined) return DEFAULT_VARIANTS;
  const names = raw.split(/[\s,]+/).filter(Boolean);
  const unknown = names.find((name) => !isVariantName(name));
  if (unknown !== undefined || names.length === 0 || new Set(names).size !== names.length) {
    throw invalid('variants', `expected some of ${Object.keys(VARIANTS).join(', ')}, each once; got "${raw}"`);
  }
  return names as VariantName[];
}

const PURGE_METHODS = ['POST', 'PURGE', 'DELETE', 'GET'] as const;

function purgeSettings(
  template: string | undefined,
  method: string | undefined,
  header: string | undefined,
): PurgeSettings | undefined {
  if (template === undefined) {
    if (method !== undefined || header !== undefined)
      throw invalid('purgeUrl', 'is needed by purgeMethod and purgeHeader');
    return undefined;
  }
  if (!template.includes('{id}') && !template.includes('{path}')) {
    throw invalid('purgeUrl', 'must hold {path} (one request per preview) or {id} (one per file)');
  }
  const example = URL.parse(template.replaceAll('{id}', 'id').replaceAll('{path}', '/path'));
  if (example?.protocol !== 'http:' && example?.protocol !== 'https:') {
    throw invalid('purgeUrl', `expected an http(s) URL template, got "${template}"`);
  }
  const upper = (method ?? 'POST').toUpperCase();
  if (!PURGE_METHODS.includes(upper as PurgeSettings['method'])) {
    throw invalid('purgeMethod', `expected one of ${PURGE_METHODS.join(', ')}, got "${method}"`);
  }
  const match = header === undefined ? undefined : /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.+)$/.exec(header);
  if (header !== undefined && !match) throw invalid('purgeHeader', 'expected "Name: value"');
  return {
    template,
    method: upper as PurgeSettings['method'],
    ...(match && { header: { name: match[1]!, value: match[2]! } }),
  };
}

function redisPrefix(raw: string | undefined): string {
  if (raw !== undefined && !/^[A-Za-z0-9_:.-]{1,60}$/.test(raw))
    throw invalid('redisPrefix', 'use letters, digits and _ : . -');
  return raw ?? 'legim:';
}

/** The master keys from the environment (`LEGIM_MASTER_KEY`) or a file (`--master-key-file`), not both. */
export function masterKeys(text: string | undefined, path: string | undefined): MasterKeys | undefined {
  if (text !== undefined && path !== undefined) {
    throw invalid('masterKeyFile', 'give the master keys either in LEGIM_MASTER_KEY or in --master-key-file, not both');
  }
  if (text !== undefined) return MasterKeys.parse(text, 'LEGIM_MASTER_KEY');
  if (path === undefined) return undefined;
  let contents: string;
  try {
    contents = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(
      'masterKeyFile',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return MasterKeys.parse(contents, path);
}
