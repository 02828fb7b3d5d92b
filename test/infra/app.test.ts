import { describe, expect, it } from 'vitest';
import { synthesize } from './synthesize';

describe('the CDK app', () => {
  it('synthesizes with cdk-nag (AwsSolutions, Serverless) and CloudFormation schema validation finding nothing', () => {
    // GIVEN the app exactly as bin/app.ts builds it
    const { app } = synthesize();
    // WHEN synthesizing, every validation plugin runs and any finding throws
    const assembly = app.synth();
    // THEN
    expect(assembly.stacks.map((stack) => stack.stackName).sort()).toEqual(['dev-fastio-ingest', 'dev-fastio-monitoring', 'dev-fastio-routing', 'dev-fastio-stateful']);
  });

  it('names the stacks after the stage', () => {
    const { app } = synthesize({ stage: 'prod' });
    expect(app.synth().stacks.map((stack) => stack.stackName).sort()).toEqual(['prod-fastio-ingest', 'prod-fastio-monitoring', 'prod-fastio-routing', 'prod-fastio-stateful']);
  });

  it('synthesizes cleanly with an alarm email, which subscribes the alarm and review topics', () => {
    const { app, templates } = synthesize({ alarmEmail: 'ops@example.com' });
    expect(() => app.synth()).not.toThrow();
    templates.routing.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});
