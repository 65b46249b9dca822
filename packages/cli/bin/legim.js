#!/usr/bin/env node
// The `legim` command. The CLI itself is built into dist/ (by the root's
// `prepare` after `npm ci`, or `npm run build`), but npm links a bin only if
// its file exists at install time, which is before that build: so the bin is
// this small file, present from the start, and it loads the build.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('✖ legim is not built yet: run "npm run build" at the repository root (NOT_BUILT)\n');
  process.exit(1);
}
await import(main.href);
