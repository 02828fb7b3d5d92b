import { defineConfig } from 'vitest/config';

/** `VERBOSE=1 npm test` shows what the handlers log and what the local pipeline prints. */
const verbose = process.env.VERBOSE === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs Python's moto server: `npm run test:emulator` (vitest.emulator.config.ts).
    exclude: ['**/node_modules/**', 'test/emulator/**'],
    environment: 'node',
    setupFiles: ['lib/local/node20-polyfills.ts'],
    // Quiet by default: Logger output is noise unless a test captures it, and the tests that assert
    // on log lines set their own level (test/ingest/support.ts). README's "Node.js versions" covers
    // the SDK's notice about Node 20.
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(verbose ? {} : { POWERTOOLS_LOG_LEVEL: 'SILENT' }),
    },
    // Synthesizing stacks bundles Lambda code with esbuild; give those suites room on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
