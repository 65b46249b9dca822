// dependency-cruiser: the import rules of the workspace (`npm run lint`, part of `npm test`).
// `npx depcruise packages/*/src packages/*/test test-support` checks them.

/** The first-level folders of the gateway (`packages/server/src/<folder>/`), each one concern. */
const SERVER_FOLDER = '^packages/server/src/[^/]+';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-file-cycles',
      comment: 'Files must not import each other in a cycle (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-server-folder-cycles',
      comment:
        'The folders of packages/server/src (one concern each) must not depend on each other in a cycle: ' +
        'move the shared type or function to the folder that owns the concern.',
      severity: 'error',
      scope: 'folder',
      from: { path: SERVER_FOLDER },
      to: { path: SERVER_FOLDER, circular: true },
    },
    {
      name: 'better-sqlite3-only-in-sqlite-backend',
      comment: 'Only the SQLite backend knows better-sqlite3 (tests may open databases themselves).',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/', pathNot: '^packages/server/src/backends/sqlite/' },
      to: { path: '^node_modules/better-sqlite3/' },
    },
    {
      name: 'pg-only-in-postgres-backend',
      comment: 'Only the PostgreSQL backend knows pg.',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/', pathNot: '^packages/server/src/backends/postgres/' },
      to: { path: '^node_modules/(pg|pg-[^/]+|@types/pg)/' },
    },
    {
      name: 'no-reaching-into-other-packages',
      comment:
        'A package uses another through its name (@legim/sdk, @legim/node, @legim/server and its exports), never its src/ or dist/ files.',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/([^/]+)/(src|dist)/', pathNot: '^packages/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    // Workspace packages stay node_modules/@legim/* (used by name), not their packages/ folder.
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
