#!/usr/bin/env -S npx tsx
/** The CDK app: `npm run synth`, `npx cdk deploy --all`. */
import { ConfigError } from '../lib/config';
import { buildApp } from '../lib/stacks/fastio-app';
import { RouteTableError } from '../lib/domain/route-validation';

try {
  buildApp().app.synth();
} catch (error) {
  // Mistakes in cdk.json or the route table get one line; anything else keeps its stack for debugging.
  if (!(error instanceof ConfigError || error instanceof RouteTableError)) throw error;
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(1);
}
