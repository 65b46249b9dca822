import chalk from 'chalk';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { cliName } from '../invocation.js';
import { formatRows, print, printJson, printNote } from '../output.js';
import {
  PROFILE_ENV,
  SETTING_KEYS,
  Settings,
  isSettingKey,
  maskSecret,
  type ProfileEntry,
  type ResolvedProfile,
  type SettingKey,
} from '../settings.js';

export function registerConfig(program: Command, context: CliContext): void {
  const config = program
    .command('config')
    .description(`read and change the CLI settings (${SETTING_KEYS.join(', ')}), kept in one profile per cluster`);

  config
    .command('set')
    .description('store a setting')
    .argument('<key>', `one of: ${SETTING_KEYS.join(', ')}`, settingKey)
    .argument('<value>', 'the new value')
    .option('--json', 'print the stored setting as JSON')
    .action((key: SettingKey, value: string, options: { json?: boolean }) => {
      const stored = context.settings.set(key, value);
      const shown = key === 'apiKey' ? maskSecret(stored) : stored;
      const profile = context.settings.profile.name;
      if (options.json) printJson({ key, value: shown, profile, path: context.settings.path });
      else print(`${key} = ${shown}  ${chalk.dim(`(profile ${profile})`)}`);
      const overridden = context.settings.resolve(key);
      if (overridden.source === 'env')
        printNote(`note: ${Settings.envName(key)} is set and takes precedence over the stored value`);
    });

  config
    .command('get')
    .description('show the effective settings and where each comes from (the API key masked)')
    .argument('[key]', `one of: ${SETTING_KEYS.join(', ')}`, settingKey)
    .option('--reveal', 'show the API key in full')
    .option('--json', 'print the settings as JSON')
    .action((key: SettingKey | undefined, options: { reveal?: boolean; json?: boolean }) => {
      const keys = key === undefined ? SETTING_KEYS : [key];
      const profile = context.settings.profile;
      const entries = keys.map((name) => {
        const { value, source } = context.settings.resolve(name);
        const shown = value !== undefined && name === 'apiKey' && !options.reveal ? maskSecret(value) : value;
        return { key: name, value: shown ?? null, source };
      });
      if (options.json) {
        printJson(
          key === undefined
            ? {
                profile: { value: profile.name, source: profile.source },
                ...Object.fromEntries(entries.map((e) => [e.key, { value: e.value, source: e.source }])),
              }
            : entries[0],
        );
      } else if (key !== undefined) {
        // A single key prints the bare value, for scripts: $(legim config get server)
        if (entries[0]!.value !== null) print(String(entries[0]!.value));
      } else {
        print(
          formatRows([
            ['profile', `${profile.name}  (${profileLabel(profile)})`],
            ...entries.map(
              (e) => [e.key, `${e.value ?? '(not set)'}  (${sourceLabel(e.key, e.source, profile.name)})`] as const,
            ),
          ]),
        );
      }
    });

  config
    .command('ls')
    .description('list the profiles (one per cluster): the default one, and the one in use')
    .option('--json', 'print the profiles as JSON (API keys masked)')
    .action((options: { json?: boolean }) => {
      const profiles = context.settings.profiles();
      if (options.json) {
        printJson(
          profiles.map((p) => ({
            name: p.name,
            default: p.isDefault,
            inUse: p.inUse,
            server: p.settings.server ?? null,
            apiKey: p.settings.apiKey === undefined ? null : maskSecret(p.settings.apiKey),
            ca: p.settings.ca ?? null,
          })),
        );
      } else print(profilesTable(profiles));
    });

  config
    .command('use')
    .description('make a profile the default, for commands run without --profile or LEGIM_PROFILE')
    .argument('<name>', 'a profile "legim config ls" lists')
    .option('--json', 'print the profile as JSON')
    .action((name: string, options: { json?: boolean }) => {
      context.settings.use(name);
      const chosen = context.settings.profiles().find((p) => p.isDefault)!;
      if (options.json) printJson({ profile: chosen.name, server: chosen.settings.server ?? null });
      else
        print(
          `default profile: ${chosen.name}${chosen.settings.server ? `  ${chalk.cyan(chosen.settings.server)}` : ''}`,
        );
      if (context.settings.profile.source === 'env')
        printNote(`note: ${PROFILE_ENV} is set and takes precedence over the default profile`);
    });

  config
    .command('path')
    .description('print where the settings are stored')
    .option('--json', 'print the path as JSON')
    .action((options: { json?: boolean }) => {
      if (options.json) printJson({ path: context.settings.path });
      else print(context.settings.path);
    });
}

function settingKey(value: string): SettingKey {
  if (isSettingKey(value)) return value;
  throw new CliError('INVALID_OPTION', `unknown setting "${value}"; the settings are: ${SETTING_KEYS.join(', ')}`);
}

function sourceLabel(key: SettingKey, source: string, profile: string): string {
  switch (source) {
    case 'env':
      return `from ${Settings.envName(key)}`;
    case 'flag':
      return `from --${key}`;
    case 'config':
      return `from profile ${profile}`;
    default:
      return 'default';
  }
}

function profileLabel(profile: ResolvedProfile): string {
  const origin =
    profile.source === 'flag'
      ? 'from --profile'
      : profile.source === 'env'
        ? `from ${PROFILE_ENV}`
        : profile.source === 'config'
          ? 'the default profile'
          : 'default';
  return profile.exists ? origin : `${origin}; nothing saved in it yet`;
}

/**
 *   * local    http://127.0.0.1:3333  (default)
 *     staging  http://127.0.0.1:4000
 * The star marks the profile this command uses.
 */
function profilesTable(profiles: ProfileEntry[]): string {
  if (profiles.length === 0)
    return chalk.dim(`no profile saved yet; "${cliName()} up" saves one, "${cliName()} config set server URL" too`);
  const width = Math.max(...profiles.map((p) => p.name.length));
  const serverWidth = Math.max(...profiles.map((p) => (p.settings.server ?? '(no server)').length));
  return profiles
    .map((p) => {
      const server = (p.settings.server ?? '(no server)').padEnd(serverWidth);
      const marks = [p.isDefault ? 'default' : undefined, p.settings.ca ? 'tls' : undefined].filter(Boolean);
      const line = `${p.inUse ? '*' : ' '} ${p.name.padEnd(width)}  ${chalk.cyan(server)}  ${chalk.dim(marks.length > 0 ? `(${marks.join(', ')})` : '')}`;
      return line.trimEnd();
    })
    .join('\n');
}
