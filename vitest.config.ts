import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs Python's moto server: `npm run test:emulator` (vitest.emulator.config.ts).
    exclude: ['**/node_modules/**', 'test/emulator/**'],
    environment: 'node',
    setupFiles: ['lib/local/node20-polyfills.ts'],
    // Synthesizing stacks bundles Lambda code with esbuild; give those suites room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
