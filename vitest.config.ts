import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real gateways, nodes and servers; two cores, so keep the
    // number of files running at once small.
    maxWorkers: 2,
    // Every gateway a test starts holds each JSON answer to the API document (a mismatch answers 500).
    env: { LEGIM_CHECK_ANSWERS: '1' },
  },
});
