/**
 * The app synthesized with a route table of the test's own, into a temporary cloud assembly the
 * local pipeline runs (`startTestPipeline({ assemblyDir })`), for target kinds the shipped table
 * does not use. Bundling is skipped: the local pipeline runs the handlers' TypeScript sources.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from '../../lib/route-table';
import { buildApp } from '../../lib/stacks/fastio-app';
import { cdkJsonContext } from '../infra/synthesize';

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

export interface SynthesizedAssembly {
  readonly dir: string;
  remove(): void;
}

/**
 * Synthesizes the app with `routes` and `context` over cdk.json's (as `-c key=value` would); `patch`
 * may then edit the routing template (what a deploy could not, e.g. a loopback URL).
 */
export function synthesizedAssembly(
  routes: readonly Route[],
  patch: (routing: CfnTemplate) => void = () => undefined,
  context: Readonly<Record<string, string>> = {},
): SynthesizedAssembly {
  const dir = mkdtempSync(join(tmpdir(), 'fastio-assembly-'));
  // The CLI sets enable-path-metadata; the local pipeline finds each route's resources by their construct paths.
  buildApp({ outdir: dir, context: { ...cdkJsonContext, ...context, 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true } }, routes).app.synth();
  const routingFile = readdirSync(dir).find((name) => name.endsWith('-routing.template.json'));
  if (!routingFile) throw new Error(`no routing template in ${dir}`);
  const routing = JSON.parse(readFileSync(join(dir, routingFile), 'utf8')) as CfnTemplate;
  patch(routing);
  writeFileSync(join(dir, routingFile), JSON.stringify(routing));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The configuration README's Slack section gives; a test points the synthesized URL at loopback. */
export const SLACK_CONTEXT: Readonly<Record<string, string>> = {
  slackWebhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX',
  slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-relay-AbCdEf',
};

/**
 * A `patch` pointing every API destination (http target) at `<receiverUrl>/<route>/<target>`, its
 * owner read from the construct path; refuses an assembly without one, so a test cannot pass vacuously.
 */
export function httpTargetsAt(receiverUrl: string): (routing: CfnTemplate) => void {
  return (routing) => {
    let pointed = 0;
    for (const resource of Object.values(routing.Resources)) {
      if (resource.Type !== 'AWS::Events::ApiDestination' || resource.Properties === undefined) continue;
      const path = String(resource.Metadata?.['aws:cdk:path'] ?? '');
      const owner = /\/Route-([a-z0-9-]+)\/Target-([a-z0-9-]+)\//.exec(path);
      if (owner === null) throw new Error(`an API destination outside a route target: ${path}`);
      resource.Properties.InvocationEndpoint = `${receiverUrl}/${owner[1]}/${owner[2]}`;
      pointed += 1;
    }
    if (pointed === 0) throw new Error('the assembly synthesized no http target');
  };
}
