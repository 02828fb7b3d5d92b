import { defineConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * `npm run test:routes`: what a route change needs, in seconds: the table's validation, every sample
 * against its pattern, the fixtures' expected receivers, `routes test`, the synthesized rules and
 * targets of the table, and the consumers' own tests (a consumer written by `ops new consumer`
 * included). `npm test` stays the whole suite.
 */
export const ROUTE_CHANGE_TESTS = [
  'test/routes/*.test.ts',
  'test/infra/route-table-validation.test.ts',
  'test/infra/routing-stack.test.ts',
  'test/consumers/*.test.ts',
];

// Spread, not mergeConfig: mergeConfig concatenates `include` with the base's whole-suite glob.
export default defineConfig({ test: { ...base.test, include: ROUTE_CHANGE_TESTS } });
