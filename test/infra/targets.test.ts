import { CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { routeConstructId } from '../../lib/synthesized-template';
import { targetOutputKey } from '../../lib/stack-outputs';
import { ACCOUNT, ARNS, TRANSFORMER, allKindsTable } from './all-kinds-table';
import { synthesize, type SynthesizedApp } from './synthesize';
import type { Resources } from './template-helpers';

const RETRY_POLICY = { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 };

describe('every target kind, deployed from one route table', () => {
  let synthesized: SynthesizedApp;
  let routing: Template;
  let resources: Resources;

  beforeAll(() => {
    // GIVEN a route table with every kind and every ARN variant, WHEN the app synthesizes it
    synthesized = synthesize({}, allKindsTable);
    routing = synthesized.templates.routing;
    resources = routing.toJSON().Resources as Resources;
  });

  /** The logical id of `Route-<route>/<path>` in the routing stack (its CloudFormation resource). */
  function logicalId(route: string, path: string): string {
    const stack = synthesized.routing;
    const node = stack.node.findChild(routeConstructId(route));
    let construct = node;
    for (const id of path.split('/')) construct = construct.node.findChild(id);
    // L2s name their resource `Resource`, or (Connection, ApiDestination) after themselves.
    const element = construct instanceof CfnElement ? construct : (construct.node.defaultChild ?? construct.node.children.find((child) => child instanceof CfnResource));
    if (!(element instanceof CfnElement)) throw new Error(`Route-${route}/${path} has no CloudFormation resource`);
    return stack.resolve(stack.getLogicalId(element)) as string;
  }
  const targetId = (route: string, target: string, child: string) => logicalId(route, `Target-${target}/${child}`);
  const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
  /** Each target has its own rule, `Route-<route>/Target-<target>/Rule`. */
  const ruleArn = (route: string, target: string) => getAtt(targetId(route, target, 'Rule'));

  /** The only Targets entry of a target's own rule. */
  function entry(route: string, target: string): Record<string, unknown> {
    const rule = resources[targetId(route, target, 'Rule')];
    if (!rule) throw new Error(`no rule for ${route}/${target}`);
    expect(rule.Properties.Targets).toHaveLength(1);
    return rule.Properties.Targets[0];
  }

  function statementsOfRole(roleId: string): unknown[] {
    return Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy' && resource.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
  }

  /** The trust policy every EventBridge role here has: this account's EventBridge, for rules of this bus. */
  function expectEventBridgeTrust(roleId: string): void {
    expect(resources[roleId]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      },
    ]);
    const condition = resources[roleId]?.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike['aws:SourceArn'];
    expect(JSON.stringify(condition)).toContain(':rule/');
  }

  const everyTarget = allKindsTable.flatMap((route) => route.targets.map((target) => [route.name, target.name ?? target.kind] as const));

  describe.each(everyTarget)('%s/%s', (route, target) => {
    it('has a rule of its own on the bus: the route pattern, plus replay-name absent exactly when the target skips replays', () => {
      const table = allKindsTable.find((candidate) => candidate.name === route);
      const spec = table?.targets.find((candidate) => (candidate.name ?? candidate.kind) === target);
      if (!table || !spec) throw new Error(`no target ${route}/${target}`);
      const rule = resources[targetId(route, target, 'Rule')];
      const skips = (spec.replays ?? (spec.kind === 'http' || spec.kind === 'topic' ? 'skip' : 'deliver')) === 'skip';
      expect(rule?.Properties.EventPattern).toEqual(skips ? { ...table.pattern, 'replay-name': [{ exists: false }] } : table.pattern);
      expect(rule?.Properties.EventBusName).toBeDefined();
    });

    it('has its own target DLQ and the explicit retry policy on its rule entry', () => {
      expect(entry(route, target)).toMatchObject({ DeadLetterConfig: { Arn: getAtt(targetId(route, target, 'TargetDlq')) }, RetryPolicy: RETRY_POLICY });
    });

    it('lets only its rule write to its target DLQ', () => {
      routing.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: targetId(route, target, 'TargetDlq') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': ruleArn(route, target) } },
            }),
          ]),
        },
      });
    });

    it('alarms on any message in its target DLQ, and outputs it under its target key', () => {
      synthesized.templates.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `dev-fastio-${route}-${target}-target-dlq-Queue-Message-Count-Max-Critical`,
        Threshold: 1,
      });
      const outputs = routing.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs[targetOutputKey(route, target, 'TargetDlqUrl')]?.Value).toEqual({ Ref: targetId(route, target, 'TargetDlq') });
      expect(outputs[targetOutputKey(route, target, 'TargetDlqArn')]?.Value).toEqual(getAtt(targetId(route, target, 'TargetDlq')));
      expect(outputs[targetOutputKey(route, target, 'DestinationArn')]).toBeDefined();
    });
  });

  describe('own queue consumer (own-kinds/queue)', () => {
    it('is delivered to its buffer queue without a role or input', () => {
      const target = entry('own-kinds', 'queue');
      expect(target.Arn).toEqual(getAtt(targetId('own-kinds', 'queue', 'BufferQueue')));
      expect(target).not.toHaveProperty('RoleArn');
      expect(target).not.toHaveProperty('InputPath');
      expect(target).not.toHaveProperty('InputTransformer');
    });

    it('tells its handler the route and target, and the bucket it declared', () => {
      const consumer = resources[targetId('own-kinds', 'queue', 'Consumer')];
      expect(consumer?.Properties.Environment.Variables).toMatchObject({ ROUTE_NAME: 'own-kinds', TARGET_NAME: 'queue', ARCHIVE_BUCKET: 'media-archive-bucket' });
    });

    it('may read the declared bucket and nothing else of S3', () => {
      const s3 = statementsOfRole(targetId('own-kinds', 'queue', 'ConsumerRole')).filter((statement) => JSON.stringify(statement).includes('s3:'));
      const bucketArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::media-archive-bucket']] };
      const objectsArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::media-archive-bucket/*']] };
      expect(s3).toEqual([{ Action: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'], Effect: 'Allow', Resource: [bucketArn, objectsArn] }]);
    });
  });

  describe('own function (own-kinds/function)', () => {
    it('is invoked by its rule only, with its on-failure destination', () => {
      const consumerId = targetId('own-kinds', 'function', 'Consumer');
      expect(entry('own-kinds', 'function').Arn).toEqual(getAtt(consumerId));
      routing.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', FunctionName: getAtt(consumerId), Principal: 'events.amazonaws.com', SourceArn: ruleArn('own-kinds', 'function') });
      routing.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        DestinationConfig: { OnFailure: { Destination: getAtt(targetId('own-kinds', 'function', 'OnFailureQueue')) } },
      });
      expect(resources[consumerId]?.Properties.Environment.Variables).toMatchObject({ ROUTE_NAME: 'own-kinds', TARGET_NAME: 'function' });
    });
  });

  describe('own workflow (own-kinds/workflow)', () => {
    it('is started with its role, which may start this state machine and nothing else', () => {
      const machineId = targetId('own-kinds', 'workflow', 'StateMachine');
      const roleId = targetId('own-kinds', 'workflow', 'Role');
      expect(entry('own-kinds', 'workflow')).toMatchObject({ Arn: { Ref: machineId }, RoleArn: getAtt(roleId) });
      expectEventBridgeTrust(roleId);
      expect(statementsOfRole(roleId)).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } }]);
    });

    it('logs to its own log group with retention, traces, and catches everything into its failure queue', () => {
      const machine = resources[targetId('own-kinds', 'workflow', 'StateMachine')];
      expect(machine?.Properties).toMatchObject({
        StateMachineName: 'dev-fastio-routing-own-kinds',
        TracingConfiguration: { Enabled: true },
        StateMachineType: 'EXPRESS',
        LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(targetId('own-kinds', 'workflow', 'Logs')) } }] },
      });
      expect(resources[targetId('own-kinds', 'workflow', 'Logs')]?.Properties.RetentionInDays).toBe(30);
      expect(JSON.stringify(machine?.Properties.DefinitionString)).toContain(targetId('own-kinds', 'workflow', 'FailureQueue'));
    });
  });

  describe('queues by ARN (arn-kinds)', () => {
    it.each([
      ['plain-queue', ARNS.plainQueue],
      ['managed-queue', ARNS.managedQueue],
      ['kms-queue', ARNS.kmsQueue],
    ])('%s: the queue policy lets this rule alone send', (target, queueArn) => {
      expect(entry('arn-kinds', target).Arn).toBe(queueArn);
      expect(entry('arn-kinds', target)).not.toHaveProperty('RoleArn');
      const name = queueArn.split(':').at(-1);
      expect(resources[targetId('arn-kinds', target, 'QueuePolicy')]).toEqual({
        Type: 'AWS::SQS::QueueInlinePolicy',
        Properties: {
          Queue: { 'Fn::Join': ['', ['https://sqs.eu-west-1.', { Ref: 'AWS::URLSuffix' }, `/${ACCOUNT}/${name}`]] },
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: expect.any(String),
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': ruleArn('arn-kinds', target) } },
              },
            ],
          },
        },
      });
    });

    it('applies the input transformer exactly as the table writes it', () => {
      expect(entry('arn-kinds', 'plain-queue').InputTransformer).toEqual({ InputPathsMap: TRANSFORMER.paths, InputTemplate: TRANSFORMER.template });
    });

    it('outputs the key-policy statement a customer-managed key needs, and only for that queue', () => {
      const outputs = routing.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
      const output = outputs[targetOutputKey('arn-kinds', 'kms-queue', 'KeyPolicyStatement')];
      expect(output?.Description).toContain(ARNS.queueKey);
      const rendered = JSON.stringify(output?.Value);
      for (const fragment of ['events.amazonaws.com', 'kms:GenerateDataKey', 'kms:Decrypt', 'aws:SourceArn', targetId('arn-kinds', 'kms-queue', 'Rule')]) expect(rendered).toContain(fragment);
      expect(outputs[targetOutputKey('arn-kinds', 'plain-queue', 'KeyPolicyStatement')]).toBeUndefined();
      expect(outputs[targetOutputKey('arn-kinds', 'managed-queue', 'KeyPolicyStatement')]).toBeUndefined();
    });
  });

  describe('function by ARN (arn-kinds/function)', () => {
    it('gets a Lambda permission for this rule and account, and the input path', () => {
      expect(entry('arn-kinds', 'function')).toMatchObject({ Arn: ARNS.function, InputPath: '$.detail' });
      expect(resources[targetId('arn-kinds', 'function', 'Permission')]?.Properties).toEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: ARNS.function,
        Principal: 'events.amazonaws.com',
        SourceArn: ruleArn('arn-kinds', 'function'),
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
    });
  });

  describe('state machine by ARN (arn-kinds/workflow)', () => {
    it('is started with a role allowed StartExecution on that ARN only', () => {
      const roleId = targetId('arn-kinds', 'workflow', 'Role');
      expect(entry('arn-kinds', 'workflow')).toMatchObject({ Arn: ARNS.stateMachine, RoleArn: getAtt(roleId) });
      expectEventBridgeTrust(roleId);
      expect(statementsOfRole(roleId)).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: ARNS.stateMachine }]);
    });
  });

  describe('topics (fan-out-kinds)', () => {
    it('an existing topic gets a topic policy for this rule alone', () => {
      expect(entry('fan-out-kinds', 'existing-topic').Arn).toBe(ARNS.topic);
      expect(resources[targetId('fan-out-kinds', 'existing-topic', 'TopicPolicy')]?.Properties).toEqual({
        TopicArn: ARNS.topic,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: expect.any(String),
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: ARNS.topic,
              Condition: { ArnEquals: { 'aws:SourceArn': ruleArn('fan-out-kinds', 'existing-topic') } },
            },
          ],
        },
      });
    });

    it('a created topic is encrypted with its own rotated key that EventBridge of this account may use', () => {
      const topicId = targetId('fan-out-kinds', 'new-topic', 'Topic');
      const keyId = targetId('fan-out-kinds', 'new-topic', 'TopicKey');
      expect(entry('fan-out-kinds', 'new-topic')).toMatchObject({ Arn: { Ref: topicId }, InputPath: '$.detail' });
      expect(resources[topicId]?.Properties.KmsMasterKeyId).toEqual(getAtt(keyId));
      expect(resources[keyId]?.Properties.EnableKeyRotation).toBe(true);
      expect(resources[keyId]?.Properties.KeyPolicy.Statement).toContainEqual({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        Resource: '*',
      });
    });

    it('a created topic takes TLS only and publishes from this rule alone', () => {
      const topicId = targetId('fan-out-kinds', 'new-topic', 'Topic');
      routing.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topicId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': ruleArn('fan-out-kinds', 'new-topic') } } }),
          ]),
        },
      });
    });

    it('subscribes the table\'s email, queue and https endpoint, each redriving to the subscription DLQ', () => {
      const topicId = targetId('fan-out-kinds', 'new-topic', 'Topic');
      const redrive = { deadLetterTargetArn: getAtt(targetId('fan-out-kinds', 'new-topic', 'SubscriptionDlq')) };
      for (const [protocol, endpoint] of [
        ['email', 'media@example.com'],
        ['sqs', ARNS.subscribedQueue],
        ['https', 'https://hooks.example.com/fastio'],
      ]) {
        routing.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: { Ref: topicId }, Protocol: protocol, Endpoint: endpoint, RedrivePolicy: redrive });
      }
      const outputs = routing.toJSON().Outputs as Record<string, unknown>;
      expect(outputs[targetOutputKey('fan-out-kinds', 'new-topic', 'SubscriptionDlqUrl')]).toBeDefined();
      expect(outputs[targetOutputKey('fan-out-kinds', 'new-topic', 'TopicArn')]).toBeDefined();
    });
  });

  describe('http targets', () => {
    it.each([
      ['own-kinds', 'teams', 'BASIC', { BasicAuthParameters: { Username: 'fastio', Password: `{{resolve:secretsmanager:${ARNS.passwordSecret}:SecretString:::}}` } }],
      ['fan-out-kinds', 'slack', 'API_KEY', { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: `{{resolve:secretsmanager:${ARNS.apiKeySecret}:SecretString:::}}` } }],
      [
        'fan-out-kinds',
        'crm',
        'OAUTH_CLIENT_CREDENTIALS',
        {
          OAuthParameters: {
            AuthorizationEndpoint: 'https://auth.example.com/oauth/token',
            HttpMethod: 'POST',
            ClientParameters: { ClientID: 'fastio', ClientSecret: `{{resolve:secretsmanager:${ARNS.clientSecret}:SecretString:::}}` },
            OAuthHttpParameters: {
              BodyParameters: [
                { Key: 'grant_type', Value: 'client_credentials', IsValueSecret: false },
                { Key: 'scope', Value: 'events.write', IsValueSecret: false },
              ],
            },
          },
        },
      ],
    ] as const)('%s/%s: a connection whose %s secret is a Secrets Manager reference', (route, target, type, authParameters) => {
      expect(resources[targetId(route, target, 'Connection')]?.Properties).toMatchObject({ AuthorizationType: type, AuthParameters: authParameters });
    });

    it.each([
      ['own-kinds', 'teams', 'https://example.webhook.office.com/webhookb2/abc', 'POST', 300],
      ['fan-out-kinds', 'slack', 'https://hooks.slack.com/services/T000/B000/XXXX', 'POST', 10],
      ['fan-out-kinds', 'crm', 'https://api.example.com/events', 'PUT', 300],
    ])('%s/%s: an API destination invoked with a role allowed that destination only', (route, target, url, method, rate) => {
      const destinationId = targetId(route, target, 'ApiDestination');
      const roleId = targetId(route, target, 'Role');
      expect(resources[destinationId]?.Properties).toMatchObject({
        ConnectionArn: getAtt(targetId(route, target, 'Connection')),
        InvocationEndpoint: url,
        HttpMethod: method,
        InvocationRateLimitPerSecond: rate,
      });
      expect(entry(route, target)).toMatchObject({ Arn: getAtt(destinationId), RoleArn: getAtt(roleId) });
      expectEventBridgeTrust(roleId);
      expect(statementsOfRole(roleId)).toEqual([{ Action: 'events:InvokeApiDestination', Effect: 'Allow', Resource: getAtt(destinationId) }]);
    });

    it.each([
      ['own-kinds', 'teams', 'Idempotency-Key'],
      ['fan-out-kinds', 'slack', 'Idempotency-Key'],
      ['fan-out-kinds', 'crm', 'X-Request-Id'],
    ])('%s/%s: sends the Fast.io event id in the %s header on every call', (route, target, header) => {
      expect(entry(route, target).HttpParameters).toEqual({ HeaderParameters: { [header]: '$.detail.eventId' } });
    });

    it('sends the transformed input to the Slack webhook', () => {
      expect(entry('fan-out-kinds', 'slack').InputTransformer).toEqual({ InputPathsMap: TRANSFORMER.paths, InputTemplate: TRANSFORMER.template });
    });
  });

  describe('another bus (fan-out-kinds/bus)', () => {
    it('is reached with a role allowed PutEvents on that bus only, with the retry policy CDK leaves out', () => {
      const roleId = targetId('fan-out-kinds', 'bus', 'Role');
      expect(entry('fan-out-kinds', 'bus')).toMatchObject({ Arn: ARNS.bus, RoleArn: getAtt(roleId), RetryPolicy: RETRY_POLICY });
      expectEventBridgeTrust(roleId);
      expect(statementsOfRole(roleId)).toEqual([{ Action: 'events:PutEvents', Effect: 'Allow', Resource: ARNS.bus }]);
    });
  });

  it('grants no action on "*" beyond the acknowledged X-Ray and log-delivery actions', () => {
    const acknowledged = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const onEverything = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((statement) => [statement.Resource].flat().includes('*'))
      .flatMap((statement) => [statement.Action].flat());
    expect(onEverything.length).toBeGreaterThan(0);
    expect(onEverything.filter((action) => !acknowledged.has(action))).toEqual([]);
  });

  it('puts no secret value in the template, only references to Secrets Manager', () => {
    const template = JSON.stringify(routing.toJSON());
    for (const secretArn of [ARNS.apiKeySecret, ARNS.passwordSecret, ARNS.clientSecret]) {
      expect(template).toContain(`{{resolve:secretsmanager:${secretArn}:SecretString:::}}`);
    }
    for (const connection of Object.values(resources).filter((resource) => resource.Type === 'AWS::Events::Connection')) {
      const secrets = JSON.stringify(connection.Properties.AuthParameters).match(/"(Password|ApiKeyValue|ClientSecret)":"[^"]*"/g) ?? [];
      expect(secrets.length).toBe(1);
      for (const secret of secrets) expect(secret).toMatch(/\{\{resolve:secretsmanager:arn:aws:secretsmanager:/);
    }
  });

  it('synthesizes with cdk-nag (AwsSolutions, Serverless) and schema validation finding nothing', () => {
    // THEN every validation plugin ran at synth, and any finding would have thrown
    expect(() => synthesized.app.synth()).not.toThrow();
    expect(Stack.of(synthesized.routing).stackName).toBe('dev-fastio-routing');
  });
});
