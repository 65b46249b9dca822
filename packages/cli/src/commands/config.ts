import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatRows, print, printJson, printNote } from '../output.js';
import { SETTING_KEYS, Settings, isSettingKey, maskSecret, type SettingKey } from '../settings.js';

export function registerConfig(program: Command, context: CliContext): void {
  const config = program.command('config').description(`read and change the CLI settings (${SETTING_KEYS.join(', ')})`);

  config
    .command('set')
    .description('store a setting')
    .argument('<key>', `one of: ${SETTING_KEYS.join(', ')}`, settingKey)
    .argument('<value>', 'the new value')
    .option('--json', 'print the stored setting as JSON')
    .action((key: SettingKey, value: string, options: { json?: boolean }) => {
      const stored = context.settings.set(key, value);
      const shown = key === 'apiKey' ? maskSecret(stored) : stored;
      if (options.json) printJson({ key, value: shown, path: context.settings.path });
      else print(`${key} = ${shown}`);
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
      const entries = keys.map((name) => {
        const { value, source } = context.settings.resolve(name);
        const shown = value !== undefined && name === 'apiKey' && !options.reveal ? maskSecret(value) : value;
        return { key: name, value: shown ?? null, source };
      });
      if (options.json) {
        printJson(
          key === undefined
            ? Object.fromEntries(entries.map((e) => [e.key, { value: e.value, source: e.source }]))
            : entries[0],
        );
      } else if (key !== undefined) {
        // A single key prints the bare value, for scripts: $(legim config get server)
        if (entries[0]!.value !== null) print(String(entries[0]!.value));
      } else {
        print(
          formatRows(
            entries.map((e) => [e.key, `${e.value ?? '(not set)'}  (${sourceLabel(e.key, e.source)})`] as const),
          ),
        );
      }
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

function sourceLabel(key: SettingKey, source: string): string {
  switch (source) {
    case 'env':
      return `from ${Settings.envName(key)}`;
    case 'flag':
      return `from --${key}`;
    case 'config':
      return 'from the config file';
    default:
      return 'default';
  }
}
