// ESLint for the workspace (`npm run lint`, part of `npm test`).
// Sources get the type-aware rules (they need the TypeScript program, so they
// read each package's tsconfig.json); tests and test support get the
// recommended syntactic set only, which keeps the run short.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SOURCES = ['packages/*/src/**/*.{ts,tsx}'];
const TESTS = ['packages/*/test/**/*.{ts,tsx,mjs}', 'test-support/**/*.{ts,mjs}'];

export default defineConfig(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'coverage/**', 'bench/**', 'examples/**'] },

  // Sources: recommended + type-checked. No console: the SDK is a library and the
  // command line prints through its output module.
  {
    files: SOURCES,
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `typeof import('x')` stays allowed: it is the exact type of a lazy `await import('x')`
      // (engines and the SDK load only when used), default export of a CommonJS module included.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // An async method that implements a Promise-returning interface synchronously (the SQLite
      // engine, the in-memory outbox) is the point: its throws become rejections, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // Rejecting with `signal.reason` (typed any) is how an aborted wait ends.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true }],
      'no-console': 'error',
    },
  },
  // Tests and test support: the recommended set, without type information.
  {
    files: TESTS,
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Tests read JSON answers loosely and assert on their fields.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Browser-side code evaluated by the upload page tests.
    files: ['packages/server/test/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
