import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize, type SynthesizedApp } from './synthesize';
import { BODY_BUCKET_NAME, BODY_OBJECTS_ARN } from './template-helpers';

type PolicyStatement = { Effect: string; Action: string | string[]; Resource: unknown };

function statementsOfRole(synthesized: SynthesizedApp, rolePrefix: string): PolicyStatement[] {
  const policies = synthesized.templates.ingest.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith(rolePrefix)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[]);
}

/** The stateful stack's resource a cross-stack reference points at (CDK writes Fn::GetStackOutput). */
function referencedStatefulResource(synthesized: SynthesizedApp, value: unknown): unknown {
  const outputName = (value as { 'Fn::GetStackOutput'?: { OutputName: string } })['Fn::GetStackOutput']?.OutputName;
  if (!outputName) throw new Error(`not a cross-stack reference: ${JSON.stringify(value)}`);
  return synthesized.templates.stateful.toJSON().Outputs[outputName].Value;
}

describe('IngestStack', () => {
  let synthesized: SynthesizedApp;
  beforeAll(() => {
    synthesized = synthesize();
  });

  it('exposes exactly one route, POST /webhooks/fastio', () => {
    synthesized.templates.ingest.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    synthesized.templates.ingest.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/fastio',
      AuthorizationType: 'NONE',
    });
  });

  it('integrates the route with the ingest function using payload format 2.0', () => {
    synthesized.templates.ingest.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestFunction'), 'Arn'] },
    });
  });

  it('throttles the stage with the configured rate and burst', () => {
    synthesized.templates.ingest.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 5000 },
    });
  });

  it('writes JSON access logs to a log group with retention', () => {
    synthesized.templates.ingest.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AccessLogs'), 'Arn'] },
        Format: Match.serializedJson(Match.objectLike({ requestId: '$context.requestId', status: '$context.status' })),
      },
    });
    synthesized.templates.ingest.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('runs the ingest function on the newest Node.js runtime, ARM64, traced, with its own log group', () => {
    synthesized.templates.ingest.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 6,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^IngestFunctionLogGroup') } },
      Environment: {
        Variables: Match.objectLike({
          SIGNATURE_SCHEME: 'auto',
          SIGNATURE_TOLERANCE_SECONDS: '300',
          ROTATION_GRACE_HOURS: '24',
          POWERTOOLS_SERVICE_NAME: 'fastio-ingest',
        }),
      },
    });
    synthesized.templates.ingest.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gives the function the secret ARN, never a secret value', () => {
    const functions = synthesized.templates.ingest.findResources('AWS::Lambda::Function');
    const variables = Object.values(functions)[0]?.Properties.Environment.Variables;
    expect(referencedStatefulResource(synthesized, variables.SIGNING_SECRET_ARN)).toEqual({ Ref: expect.stringMatching(/^SigningSecret/) });
    expect(JSON.stringify(variables)).not.toMatch(/SecretString|resolve:secretsmanager/);
  });

  it('lets the ingest role put events on this bus only', () => {
    const statements = statementsOfRole(synthesized, 'IngestFunctionRole');
    const putEvents = statements.filter((statement) => statement.Action === 'events:PutEvents');
    expect(putEvents).toHaveLength(1);
    expect(putEvents[0]?.Effect).toBe('Allow');
    expect(referencedStatefulResource(synthesized, putEvents[0]?.Resource)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EventBus/), 'Arn'] });
  });

  it('lets the ingest role read this secret only', () => {
    const statements = statementsOfRole(synthesized, 'IngestFunctionRole');
    const secretReads = statements.filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:'));
    expect(secretReads).toHaveLength(1);
    // GetSecretValue only: the ingest never calls DescribeSecret (lambdas/ingest/signing-secret.ts).
    expect(secretReads[0]).toMatchObject({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue' });
    expect(referencedStatefulResource(synthesized, secretReads[0]?.Resource)).toEqual({ Ref: expect.stringMatching(/^SigningSecret/) });
  });

  it('lets the ingest role put claim-checked bodies into the body bucket, and do nothing else with S3', () => {
    // GIVEN the ingest role's statements that mention S3
    const statements = statementsOfRole(synthesized, 'IngestFunctionRole').filter((statement) => JSON.stringify(statement.Action).includes('s3:'));
    // THEN there is one: PutObject, on the content-addressed keys of the stateful stack's bucket
    expect(statements).toEqual([{ Effect: 'Allow', Action: 's3:PutObject', Resource: BODY_OBJECTS_ARN }]);
    synthesized.templates.stateful.hasResourceProperties('AWS::S3::Bucket', { BucketName: BODY_BUCKET_NAME });
  });

  it('tells the function the body bucket and the claim-check threshold', () => {
    synthesized.templates.ingest.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLAIM_CHECK_THRESHOLD_BYTES: '196608', BODY_BUCKET_NAME: Match.anyValue() }) },
    });
    const functions = synthesized.templates.ingest.findResources('AWS::Lambda::Function');
    const variables = Object.values(functions)[0]?.Properties.Environment.Variables;
    expect(referencedStatefulResource(synthesized, variables.BODY_BUCKET_NAME)).toEqual({ Ref: expect.stringMatching(/^BodyBucket/) });
  });

  it('grants no action on a "*" resource except X-Ray, which has no resource-level permissions', () => {
    const statements = statementsOfRole(synthesized, 'IngestFunctionRole');
    const wildcard = statements.filter((statement) => statement.Resource === '*');
    expect(wildcard.flatMap((statement) => statement.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('uses no AWS managed policy on the function role', () => {
    synthesized.templates.ingest.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('outputs the webhook URL to register in Fast.io', () => {
    synthesized.templates.ingest.hasOutput('WebhookUrl', {
      Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookApi'), 'ApiEndpoint'] }, '/webhooks/fastio']] },
    });
  });

  it('outputs the rotation grace period the function runs with, for ops secret rotate', () => {
    synthesized.templates.ingest.hasOutput('RotationGraceHours', { Value: '24' });
    synthesized.templates.ingest.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROTATION_GRACE_HOURS: '24' }) },
    });
  });

  it('reserves the configured concurrency for the ingest function, so consumers can never starve it', () => {
    // GIVEN the default config (cdk.json), THEN
    synthesized.templates.ingest.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'fastio-ingest' }) },
      ReservedConcurrentExecutions: 100,
    });
  });

  it('takes the reservation from -c ingestReservedConcurrency', () => {
    // GIVEN a context override as the CLI passes it: a string
    const { templates } = synthesize({ ingestReservedConcurrency: '250' });
    // THEN
    templates.ingest.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'fastio-ingest' }) },
      ReservedConcurrentExecutions: 250,
    });
  });

  describe('resend dedupe', () => {
    it('lets the ingest role write claims to the dedupe table only, and never read it', () => {
      // GIVEN the ingest role's statements that mention DynamoDB
      const statements = statementsOfRole(synthesized, 'IngestFunctionRole').filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'));
      // THEN one: the conditional claim (PutItem) and its mark or release (UpdateItem), on the stateful stack's dedupe table
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] });
      expect(referencedStatefulResource(synthesized, statements[0]?.Resource)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DedupeTable/), 'Arn'] });
    });

    it('tells the function the dedupe table and the window from cdk.json', () => {
      const functions = synthesized.templates.ingest.findResources('AWS::Lambda::Function');
      const variables = Object.values(functions)[0]?.Properties.Environment.Variables;
      expect(variables.DEDUPE_WINDOW_HOURS).toBe('24');
      expect(referencedStatefulResource(synthesized, variables.DEDUPE_TABLE_NAME)).toEqual({ Ref: expect.stringMatching(/^DedupeTable/) });
    });

    it('-c ingestDedupeHours=0 turns it off: no table name and no DynamoDB permission', () => {
      // GIVEN the window set to 0 as the CLI passes it
      const { templates } = synthesize({ ingestDedupeHours: '0' });
      // THEN
      const functions = templates.ingest.findResources('AWS::Lambda::Function');
      const variables = Object.values(functions)[0]?.Properties.Environment.Variables;
      expect(variables.DEDUPE_WINDOW_HOURS).toBe('0');
      expect(variables.DEDUPE_TABLE_NAME).toBeUndefined();
      const policies = JSON.stringify(templates.ingest.findResources('AWS::IAM::Policy'));
      expect(policies).not.toContain('dynamodb:');
    });
  });
});
