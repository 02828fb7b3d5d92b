#!/usr/bin/env -S npx tsx
/** The CDK app: `npm run synth`, `npx cdk deploy --all`. */
import { buildApp, synthesizeOrExplain } from '../lib/stacks/fastio-app';

synthesizeOrExplain(() => buildApp());
