import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const benchOut = resolve(repoRoot, 'bench/.out');
/** Same rule as test-support/fixtures.ts: the images in the repository; LEGIM_FIXTURES overrides. */
export const fixturesDir = process.env.LEGIM_FIXTURES ?? resolve(repoRoot, 'test-support/fixtures/images');
