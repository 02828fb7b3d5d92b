import { defineConfig } from 'vitest/config';

/** `npm run test:emulator`: the CLI and the ingest bundle against moto's server; not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/emulator/**/*.emulator.test.ts'],
    environment: 'node',
    setupFiles: ['lib/local/node20-polyfills.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
