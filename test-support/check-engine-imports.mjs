#!/usr/bin/env node
// Only the backend layer knows an engine: better-sqlite3 is imported only
// under packages/server/src/backends/sqlite/, pg only under
// backends/postgres/. Part of `npm test`; prints each offending import.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RULES = [
  { module: 'better-sqlite3', home: 'packages/server/src/backends/sqlite/' },
  { module: 'pg', home: 'packages/server/src/backends/postgres/' },
];

const offences = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  for (const file of sourceFiles(join(root, 'packages', pkg, 'src'))) {
    const path = relative(root, file);
    const text = readFileSync(file, 'utf8');
    for (const { module, home } of RULES) {
      const imported = new RegExp(`(from\\s+|import\\s*\\(\\s*|require\\s*\\(\\s*)['"]${module}['"]`).test(text);
      if (imported && !path.startsWith(home)) offences.push(`${path} imports ${module} (only ${home} may)`);
    }
  }
}
if (offences.length > 0) {
  console.error(`engine imports outside their backend folder:\n  ${offences.join('\n  ')}`);
  process.exit(1);
}

function* sourceFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry.name)) yield path;
  }
}
