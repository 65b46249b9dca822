import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The test images (see test-support/fixtures/images/MANIFEST.md); LEGIM_FIXTURES overrides. */
export const fixturesDir = process.env.LEGIM_FIXTURES ?? resolve(repoRoot, 'test-support/fixtures/images');

export function fixture(name: string): string {
  return join(fixturesDir, name);
}

export function fixtureBytes(name: string): Buffer<ArrayBuffer> {
  return readFileSync(fixture(name));
}

export function sha256(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export { repoRoot };
