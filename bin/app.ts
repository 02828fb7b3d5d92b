#!/usr/bin/env -S npx tsx
/** The CDK app: `npm run synth`, `npx cdk deploy --all`. */
import { ConfigError } from '../lib/config';
import { buildApp } from '../lib/fastio-app';

try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`error: ${error.message}\n`);
  process.exit(1);
}
