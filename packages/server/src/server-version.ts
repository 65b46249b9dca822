import { readFileSync } from 'node:fs';

/** The version of this package, as published; the API document carries it. */
export function serverVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
