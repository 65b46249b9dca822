import { resolve } from 'node:path';
import Conf from 'conf';
import { CliError } from './errors.js';
import { cliName } from './invocation.js';

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

/** The profile `legim up` writes, and the one used when none is chosen. */
export const DEFAULT_PROFILE = 'local';

const ENV_NAMES: Record<SettingKey, string> = { server: 'LEGIM_URL', apiKey: 'LEGIM_API_KEY', ca: 'LEGIM_CA' };

/** Picks the profile, as `--profile` does. */
export const PROFILE_ENV = 'LEGIM_PROFILE';

/** One named set of settings: one cluster. */
export type Profile = Partial<Record<SettingKey, string>>;

/**
 * The settings file. `profile` is the default profile (`legim config use`);
 * the top-level `server`, `apiKey` and `ca` are the file of CLI versions
 * before profiles, moved into the `local` profile when it is opened.
 */
interface Stored extends Profile {
  profile?: string;
  profiles?: Record<string, Profile>;
}

export interface ResolvedProfile {
  name: string;
  source: SettingSource;
  /** False for a profile nothing was saved in yet. */
  exists: boolean;
}

/** A profile as `legim config ls` shows it. */
export interface ProfileEntry {
  name: string;
  /** Chosen by `legim config use` (or the first one saved). */
  isDefault: boolean;
  /** The one this command uses: the default, or another chosen by --profile or LEGIM_PROFILE. */
  inUse: boolean;
  settings: Profile;
}

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}

/** The global flags that override a setting, and `--profile`, which picks the profile. */
export type SettingFlags = Partial<Record<'server' | 'ca' | 'profile', string | undefined>>;

/**
 * The CLI's persistent settings (a `conf` store, `~/.config/legim/config.json`
 * by default, XDG_CONFIG_HOME respected), held in named profiles, one per
 * cluster, with the environment and the global `--server` and `--ca` flags
 * layered on top. The profile is `--profile`, else `LEGIM_PROFILE`, else the
 * default one (`legim config use`), else `local`. The store is opened
 * lazily, so commands that never read it never touch the disk.
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
    if (this.#store === undefined) {
      // The file may hold an admin key: keep it private to the user.
      this.#store = new Conf<Stored>({ projectName: 'legim', projectSuffix: '', configFileMode: 0o600 });
      migrateToProfiles(this.#store);
    }
    return this.#store;
  }

  /** The config file's path (it may not exist yet). */
  get path(): string {
    return this.#conf.path;
  }

  /** The profile this command uses, and what chose it. */
  get profile(): ResolvedProfile {
    const stored = this.#conf.store;
    const exists = (name: string): boolean => Object.hasOwn(stored.profiles ?? {}, name);
    const flag = this.#flags.profile;
    if (flag !== undefined) return { name: profileName(flag), source: 'flag', exists: exists(profileName(flag)) };
    const fromEnv = this.#env[PROFILE_ENV];
    if (fromEnv) return { name: profileName(fromEnv), source: 'env', exists: exists(profileName(fromEnv)) };
    if (typeof stored.profile === 'string' && exists(stored.profile))
      return { name: stored.profile, source: 'config', exists: true };
    return { name: DEFAULT_PROFILE, source: 'default', exists: exists(DEFAULT_PROFILE) };
  }

  resolve(key: SettingKey): ResolvedSetting {
    const flag = key === 'apiKey' ? undefined : this.#flags[key];
    if (flag !== undefined) return { value: normalize(key, flag), source: 'flag' };
    const fromEnv = this.#env[ENV_NAMES[key]];
    if (fromEnv) return { value: normalize(key, fromEnv), source: 'env' };
    const stored = this.#readProfile()[key];
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

  /** Validates and stores one key in the profile in use (made if new); returns the value as stored. */
  set(key: SettingKey, raw: string): string {
    const value = key === 'apiKey' ? validateApiKey(raw) : normalize(key, raw);
    this.#writeProfile({ [key]: value });
    return value;
  }

  /**
   * Stores several keys at once in the profile in use, or in `profile` (used
   * by `legim up`), leaving the other profiles alone.
   */
  save(values: Profile, profile?: string): void {
    const checked: Profile = {};
    for (const key of SETTING_KEYS) {
      const value = values[key];
      if (value !== undefined) checked[key] = key === 'apiKey' ? validateApiKey(value) : normalize(key, value);
    }
    this.#writeProfile(checked, profile === undefined ? undefined : profileName(profile));
  }

  /** Every saved profile, by name. */
  profiles(): ProfileEntry[] {
    const stored = this.#conf.store;
    const inUse = this.profile.name;
    const byDefault = typeof stored.profile === 'string' ? stored.profile : DEFAULT_PROFILE;
    return Object.entries(stored.profiles ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, settings]) => ({ name, isDefault: name === byDefault, inUse: name === inUse, settings }));
  }

  /** Makes a saved profile the default. */
  use(raw: string): void {
    const name = profileName(raw);
    const stored = this.#conf.store;
    if (!Object.hasOwn(stored.profiles ?? {}, name)) throw unknownProfile(name, Object.keys(stored.profiles ?? {}));
    this.#conf.store = { ...stored, profile: name };
  }

  /** The stored settings of the profile in use; a profile asked for by name must exist. */
  #readProfile(): Profile {
    const { name, source, exists } = this.profile;
    const profiles = this.#conf.store.profiles ?? {};
    if (!exists && (source === 'flag' || source === 'env')) throw unknownProfile(name, Object.keys(profiles));
    return profiles[name] ?? {};
  }

  #writeProfile(values: Profile, name: string = this.profile.name): void {
    const stored = this.#conf.store;
    const profiles = { ...stored.profiles, [name]: { ...stored.profiles?.[name], ...values } };
    // The first profile saved becomes the default; later ones leave it alone, so a second
    // cluster does not take over the commands of the first.
    const profile =
      typeof stored.profile === 'string' && Object.hasOwn(profiles, stored.profile) ? stored.profile : name;
    this.#conf.store = { ...stored, profile, profiles };
  }

  static envName(key: SettingKey): string {
    return ENV_NAMES[key];
  }
}

/**
 * A settings file from before profiles (`{server, apiKey, ca}` at the top)
 * becomes the `local` profile, the default, in place: its commands keep working.
 */
function migrateToProfiles(conf: Conf<Stored>): void {
  const stored = conf.store;
  const legacy = SETTING_KEYS.filter((key) => typeof stored[key] === 'string');
  if (legacy.length === 0) return;
  const local: Profile = { ...stored.profiles?.[DEFAULT_PROFILE] };
  for (const key of legacy) local[key] ??= stored[key];
  const rest: Stored = { ...stored };
  for (const key of SETTING_KEYS) delete rest[key];
  conf.store = {
    ...rest,
    profile: typeof stored.profile === 'string' ? stored.profile : DEFAULT_PROFILE,
    profiles: { ...stored.profiles, [DEFAULT_PROFILE]: local },
  };
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** Checks a profile name: letters, digits, `_` and `-`, 40 at most. */
export function profileName(raw: string): string {
  const name = raw.trim();
  if (!PROFILE_NAME.test(name)) {
    throw new CliError(
      'INVALID_OPTION',
      `"${raw}" is not a profile name: use up to 40 letters, digits, _ and -, starting with a letter or digit`,
    );
  }
  return name;
}

function unknownProfile(name: string, known: string[]): CliError {
  const list = known.length === 0 ? 'none is saved yet' : `the profiles are ${known.sort().join(', ')}`;
  return new CliError(
    'NO_SUCH_PROFILE',
    `no profile "${name}" in the settings (${list}); "${cliName()} up --profile ${name}" or "${cliName()} --profile ${name} config set server URL" makes one`,
  );
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
