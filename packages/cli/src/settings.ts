import { resolve } from 'node:path';
import Conf from 'conf';
import { CliError } from './errors.js';

/** The keys `legim config` can read and write; `ca` is the path of the CA an https:// server's certificate chains to. */
export const SETTING_KEYS = ['server', 'apiKey', 'ca'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Where an effective value came from, most specific first. */
export type SettingSource = 'flag' | 'env' | 'config' | 'default';

export interface ResolvedSetting {
  value: string | undefined;
  source: SettingSource;
}

/** Used when nothing is configured: the address `legim up` listens on by default. */
export const DEFAULT_SERVER = 'http://127.0.0.1:3333';

const ENV_NAMES: Record<SettingKey, string> = { server: 'LEGIM_URL', apiKey: 'LEGIM_API_KEY', ca: 'LEGIM_CA' };

type Stored = Partial<Record<SettingKey, string>>;

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}

/** The global flags that override a setting. */
export type SettingFlags = Partial<Record<'server' | 'ca', string | undefined>>;

/**
 * The CLI's persistent settings (a `conf` store, `~/.config/legim/config.json`
 * by default, XDG_CONFIG_HOME respected) with the environment and the global
 * `--server` and `--ca` flags layered on top. The store is opened lazily, so commands that
 * never read it never touch the disk.
 */
export class Settings {
  #store: Conf<Stored> | undefined;
  readonly #env: NodeJS.ProcessEnv;
  readonly #flags: SettingFlags;

  constructor(options: { env?: NodeJS.ProcessEnv; flags?: SettingFlags } = {}) {
    this.#env = options.env ?? process.env;
    this.#flags = options.flags ?? {};
  }

  get #conf(): Conf<Stored> {
    // The file may hold an admin key: keep it private to the user.
    this.#store ??= new Conf<Stored>({ projectName: 'legim', projectSuffix: '', configFileMode: 0o600 });
    return this.#store;
  }

  /** The config file's path (it may not exist yet). */
  get path(): string {
    return this.#conf.path;
  }

  resolve(key: SettingKey): ResolvedSetting {
    const flag = key === 'apiKey' ? undefined : this.#flags[key];
    if (flag !== undefined) return { value: normalize(key, flag), source: 'flag' };
    const fromEnv = this.#env[ENV_NAMES[key]];
    if (fromEnv) return { value: normalize(key, fromEnv), source: 'env' };
    const stored = this.#conf.get(key);
    if (typeof stored === 'string' && stored !== '') return { value: stored, source: 'config' };
    if (key === 'server') return { value: DEFAULT_SERVER, source: 'default' };
    return { value: undefined, source: 'default' };
  }

  get server(): string {
    return this.resolve('server').value ?? DEFAULT_SERVER;
  }

  get apiKey(): string | undefined {
    return this.resolve('apiKey').value;
  }

  /** The CA file's absolute path, if any. */
  get ca(): string | undefined {
    return this.resolve('ca').value;
  }

  /** Validates and stores one key; returns the value as stored. */
  set(key: SettingKey, raw: string): string {
    const value = key === 'apiKey' ? validateApiKey(raw) : normalize(key, raw);
    this.#conf.set(key, value);
    return value;
  }

  /** Stores several keys at once (used by `legim up`). */
  save(values: Stored): void {
    for (const key of SETTING_KEYS) {
      const value = values[key];
      if (value !== undefined) this.set(key, value);
    }
  }

  static envName(key: SettingKey): string {
    return ENV_NAMES[key];
  }
}

/** Accepts `host:port` or a full http(s) URL; returns the URL without a trailing slash. */
export function normalizeServerUrl(raw: string): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError('INVALID_OPTION', `"${raw}" is not a server URL; expected something like http://127.0.0.1:3333`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('INVALID_OPTION', `the server URL must start with http:// or https://, got "${raw}"`);
  }
  if (url.search || url.hash) {
    throw new CliError('INVALID_OPTION', `the server URL must not have a query or fragment: "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

function normalize(key: SettingKey, raw: string): string {
  if (key === 'server') return normalizeServerUrl(raw);
  // A relative CA path is taken from where it was given, so it still holds from any other folder.
  if (key === 'ca') return resolve(raw.trim());
  return raw;
}

function validateApiKey(raw: string): string {
  const value = raw.trim();
  if (value === '' || /\s/.test(value)) {
    throw new CliError('INVALID_OPTION', 'the API key must be a non-empty string without spaces');
  }
  return value;
}

/** Shows only the last 4 characters of a secret. */
export function maskSecret(secret: string): string {
  if (secret.length <= 4) return '*'.repeat(secret.length);
  return `${'*'.repeat(Math.min(12, secret.length - 4))}${secret.slice(-4)}`;
}
