import type { Command } from 'commander';

/**
 * The options the user actually gave (not commander's defaults), so the
 * service's own config parser can apply the environment and its defaults.
 */
export function explicitOptions<K extends string>(
  command: Command,
  keys: readonly K[],
): Partial<Record<K, string | number | boolean>> {
  const values = command.opts<Record<string, string | number | boolean | undefined>>();
  const flags: Partial<Record<K, string | number | boolean>> = {};
  for (const key of keys) {
    const value = values[key];
    const source = command.getOptionValueSource(key);
    if (value !== undefined && (source === 'cli' || source === 'env')) flags[key] = value;
  }
  return flags;
}
