import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import type { Route } from '../../lib/route-table';
import { buildApp, type FastioApp } from '../../lib/stacks/fastio-app';

/** The context `cdk synth` would read, so tests synthesize what a deploy would. */
export const cdkJsonContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

export interface SynthesizedApp extends FastioApp {
  readonly stateful: FastioApp['stateful'];
  readonly templates: { readonly stateful: Template; readonly ingest: Template; readonly routing: Template; readonly monitoring: Template };
}

/**
 * Synthesizes the real app with test context. Bundling is skipped (an empty bundling-stacks list)
 * because these tests read templates, not code; `npm run synth` bundles for real.
 */
export function synthesize(context: Record<string, unknown> = {}, routes?: readonly Route[]): SynthesizedApp {
  const built = buildApp({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], ...context } }, routes);
  return {
    ...built,
    templates: {
      stateful: Template.fromStack(built.stateful),
      ingest: Template.fromStack(built.ingest),
      routing: Template.fromStack(built.routing),
      monitoring: Template.fromStack(built.monitoring),
    },
  };
}
