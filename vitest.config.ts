import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['lib/local/node20-polyfills.ts'],
    // Synthesizing stacks bundles Lambda code with esbuild; give those suites room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
