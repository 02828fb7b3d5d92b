import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { RoutingStack } from '../../lib/stacks/routing-stack';
import { routeTable, type Route } from '../../lib/route-table';
import { StatefulStack } from '../../lib/stacks/stateful-stack';
import { cdkJsonContext, synthesize, type SynthesizedApp } from './synthesize';
import { targetLogicalIdPrefix } from '../../lib/synthesized-template';
import { targetName } from '../../lib/route-table';
import { configKeysOf } from '../../lib/domain/route-validation';
import { BODY_OBJECTS_ARN, onlyResource, renderDefinition, resourcesMatching, routeIdFragment, type Resources } from './template-helpers';

const routesOfKind = (kind: Route['targets'][number]['kind']) => routeTable.filter((route) => route.targets[0]?.kind === kind).map((route) => [route.name]);

/** The logical-id prefix of the first (in the shipped table: only) target of a route. */
function firstTargetFragment(routeName: string, table: readonly Route[] = routeTable): string {
  const target = table.find((route) => route.name === routeName)?.targets[0];
  if (!target) throw new Error(`no route ${routeName}`);
  return targetLogicalIdPrefix(routeName, targetName(target));
}

function routingProps(stateful: StatefulStack) {
  const { eventBus, catalogTable, auditTable, idempotencyTable } = stateful;
  return { eventBus, catalogTable, auditTable, idempotencyTable };
}

function policyStatementsOf(template: Template, roleFragment: string): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  return Object.values(policies)
    .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.includes(roleFragment)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('RoutingStack', () => {
  let synthesized: SynthesizedApp;
  let routing: Template;
  beforeAll(() => {
    synthesized = synthesize();
    routing = synthesized.templates.routing;
  });

  describe.each(routeTable.map((route) => [route.name, route] as const))('route %s', (_name, route) => {
    const fragment = routeIdFragment(route.name);
    const targetFragment = firstTargetFragment(route.name);

    it('becomes one rule on the bus with the pattern exactly as the table has it', () => {
      const [, rule] = onlyResource(routing, 'AWS::Events::Rule', fragment);
      expect(rule.Properties.EventPattern).toEqual(route.pattern);
      expect(rule.Properties.EventBusName).toBeDefined();
      expect(rule.Properties.State).toBe('ENABLED');
    });

    it('has one target with its own dead-letter queue and an explicit retry policy', () => {
      const [, rule] = onlyResource(routing, 'AWS::Events::Rule', fragment);
      const [targetDlqId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}TargetDlq`);
      expect(rule.Properties.Targets).toHaveLength(1);
      expect(rule.Properties.Targets[0]).toMatchObject({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [targetDlqId, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
      });
    });

    it('lets only its own rule send to its target DLQ', () => {
      const [targetDlqId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}TargetDlq`);
      const [ruleId] = onlyResource(routing, 'AWS::Events::Rule', fragment);
      routing.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: targetDlqId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      });
    });
  });

  describe.each(routesOfKind('queue'))('queue route %s', (name) => {
    const fragment = routeIdFragment(name);
    const targetFragment = firstTargetFragment(name);

    it('sends to a buffer queue that redrives to its DLQ after 5 receives', () => {
      const [bufferId, buffer] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}BufferQueue`);
      const [bufferDlqId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}BufferDlq`);
      const [, rule] = onlyResource(routing, 'AWS::Events::Rule', fragment);
      expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [bufferId, 'Arn'] });
      expect(buffer.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [bufferDlqId, 'Arn'] }, maxReceiveCount: 5 });
    });

    it('keeps the buffer visibility timeout at six times the consumer timeout', () => {
      const [, buffer] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}BufferQueue`);
      const [, consumer] = onlyResource(routing, 'AWS::Lambda::Function', `${targetFragment}Consumer`);
      expect(buffer.Properties.VisibilityTimeout).toBe(consumer.Properties.Timeout * 6);
    });

    it('feeds the consumer through an event source mapping with partial batch responses and bounded concurrency', () => {
      const [bufferId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}BufferQueue`);
      const [consumerId] = onlyResource(routing, 'AWS::Lambda::Function', `${targetFragment}Consumer`);
      routing.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [bufferId, 'Arn'] },
        FunctionName: { Ref: consumerId },
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      });
    });

    it('takes the consumer concurrency from -c consumerMaxConcurrency', () => {
      const { templates } = synthesize({ consumerMaxConcurrency: '12' });
      templates.routing.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 12 } });
    });
  });

  describe.each(routesOfKind('function'))('function route %s', (name) => {
    const fragment = routeIdFragment(name);
    const targetFragment = firstTargetFragment(name);

    it('invokes the function asynchronously with retries, a maximum event age and an on-failure queue', () => {
      const [consumerId] = onlyResource(routing, 'AWS::Lambda::Function', `${targetFragment}Consumer`);
      const [onFailureId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}OnFailureQueue`);
      const [, rule] = onlyResource(routing, 'AWS::Events::Rule', fragment);
      expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [consumerId, 'Arn'] });
      routing.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: consumerId },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [onFailureId, 'Arn'] } } },
      });
    });
  });

  describe.each(routesOfKind('workflow'))('workflow route %s', (name) => {
    const fragment = routeIdFragment(name);
    const targetFragment = firstTargetFragment(name);

    it('starts an Express state machine that logs its errors to a log group with retention', () => {
      const [stateMachineId, stateMachine] = onlyResource(routing, 'AWS::StepFunctions::StateMachine', fragment);
      const [logGroupId, logGroup] = onlyResource(routing, 'AWS::Logs::LogGroup', `${targetFragment}Logs`);
      const [, rule] = onlyResource(routing, 'AWS::Events::Rule', fragment);
      expect(rule.Properties.Targets[0].Arn).toEqual({ Ref: stateMachineId });
      expect(stateMachine.Properties).toMatchObject({
        StateMachineType: 'EXPRESS',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ERROR',
          IncludeExecutionData: false,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
        },
      });
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    });

    it('catches every task failure into the failure queue with the original input', () => {
      const [, stateMachine] = onlyResource(routing, 'AWS::StepFunctions::StateMachine', fragment);
      const [failureQueueId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}FailureQueue`);
      const definition = renderDefinition(stateMachine.Properties.DefinitionString);
      const tasks = Object.entries(definition.States as Record<string, { Type: string; Catch: unknown[]; Retry: unknown[] }>).filter(([, state]) => state.Type === 'Task');
      expect(tasks.map(([taskName]) => taskName).sort()).toEqual(
        ['ClaimEvent', 'MarkCompleted', 'MarkNotified', 'MarkReviewed', 'NotifyReviewers', 'ReadClaim', 'RecordPendingReview', 'ReleaseClaim', 'SendToFailureQueue', 'TakeOverClaim'].sort(),
      );
      for (const [taskName, state] of tasks.filter(([taskName]) => taskName !== 'SendToFailureQueue' && taskName !== 'ReleaseClaim')) {
        expect(state.Catch.at(-1), taskName).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'CheckFailureCause' });
        expect(state.Retry[0]).toMatchObject({ IntervalSeconds: 1, MaxAttempts: 4, BackoffRate: 2 });
      }
      expect(definition.States.ReleaseClaim).toMatchObject({ Next: 'SendToFailureQueue', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'SendToFailureQueue' }] });
      expect(definition.States.SendToFailureQueue).toMatchObject({
        Resource: expect.stringContaining(':states:::sqs:sendMessage'),
        Parameters: { QueueUrl: `\${${failureQueueId}}`, MessageBody: { 'input.$': '$$.Execution.Input', 'error.$': '$.failure.Error' } },
        Next: 'ReviewFailed',
        Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' }],
      });
      expect(definition.States.ReviewFailed).toMatchObject({ Type: 'Fail', Error: 'ReviewFailed' });
    });
  });

  describe('every queue', () => {
    it('is encrypted, keeps messages 14 days and is retained', () => {
      const queues = Object.entries(routing.findResources('AWS::SQS::Queue') as Resources);
      expect(queues.length).toBeGreaterThan(0);
      for (const [logicalId, queue] of queues) {
        expect(queue.Properties.SqsManagedSseEnabled, logicalId).toBe(true);
        expect(queue.Properties.MessageRetentionPeriod, logicalId).toBe(14 * 24 * 3600);
        expect(queue.DeletionPolicy, logicalId).toBe('Retain');
      }
    });

    it('denies any access without TLS', () => {
      const queues = Object.keys(routing.findResources('AWS::SQS::Queue'));
      for (const queueId of queues) {
        routing.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queueId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });
  });

  describe('least privilege', () => {
    it('lets the catalog consumer update the catalog and use the idempotency table, nothing more on DynamoDB', () => {
      const name = routeTable.find((route) => route.targets[0]?.kind === 'queue')?.name ?? '';
      const statements = policyStatementsOf(routing, `${firstTargetFragment(name)}ConsumerRole`);
      const dynamo = statements.filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'));
      expect(dynamo.map((statement) => statement.Action)).toEqual([
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        'dynamodb:UpdateItem',
      ]);
    });

    it('lets the agent audit consumer put audit items and use the idempotency table, nothing more on DynamoDB', () => {
      const name = routeTable.find((route) => route.targets[0]?.kind === 'function')?.name ?? '';
      const statements = policyStatementsOf(routing, `${firstTargetFragment(name)}ConsumerRole`);
      const dynamo = statements.filter((statement) => JSON.stringify(statement.Action).includes('dynamodb:'));
      expect(dynamo.map((statement) => statement.Action)).toEqual([
        ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        'dynamodb:PutItem',
      ]);
    });

    it('lets only the agent audit read claim-checked bodies, and only GetObject on them: the others use normalized fields', () => {
      const s3Statements = (kind: string, role: string) =>
        routeTable
          .filter((route) => route.targets[0]?.kind === kind)
          .flatMap((route) => policyStatementsOf(routing, `${firstTargetFragment(route.name)}${role}`))
          .filter((statement) => JSON.stringify(statement.Action).includes('s3:'));
      expect(s3Statements('function', 'ConsumerRole')).toEqual([{ Effect: 'Allow', Action: 's3:GetObject', Resource: BODY_OBJECTS_ARN }]);
      expect(s3Statements('queue', 'ConsumerRole')).toEqual([]);
      expect(s3Statements('workflow', 'StateMachineRole')).toEqual([]);
    });

    it('lets each review workflow update the catalog, publish to the encrypted review topic and send to its own failure queue', () => {
      for (const route of routeTable.filter((candidate) => candidate.targets[0]?.kind === 'workflow')) {
        const targetFragment = firstTargetFragment(route.name);
        const [failureQueueId] = onlyResource(routing, 'AWS::SQS::Queue', `${targetFragment}FailureQueue`);
        const [topicId] = Object.keys(routing.findResources('AWS::SNS::Topic'));
        const [keyId] = Object.keys(routing.findResources('AWS::KMS::Key'));
        const scoped = policyStatementsOf(routing, `${targetFragment}StateMachineRole`).filter((statement) => statement.Resource !== '*');
        expect(scoped).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ Action: 'dynamodb:UpdateItem' }),
            expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }),
            expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [failureQueueId, 'Arn'] } }),
            expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }),
          ]),
        );
        expect(scoped.flatMap((statement) => statement.Action).sort()).toEqual([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:UpdateItem',
          'kms:Decrypt',
          'kms:GenerateDataKey*',
          'sns:Publish',
          'sqs:SendMessage',
        ]);
      }
    });

    it('lets each review workflow claim, read and advance its guard records in the idempotency table, and nothing else there', () => {
      for (const route of routeTable.filter((candidate) => candidate.targets[0]?.kind === 'workflow')) {
        const statements = policyStatementsOf(routing, `${firstTargetFragment(route.name)}StateMachineRole`);
        const onIdempotencyTable = statements.filter((statement) => JSON.stringify(statement.Resource).includes('IdempotencyTable'));
        expect(onIdempotencyTable.map((statement) => statement.Action)).toEqual([['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']]);
      }
    });

    it('gives each review workflow no Step Functions permission: the guard lease, not DescribeExecution, tells a live owner', () => {
      for (const route of routeTable.filter((candidate) => candidate.targets[0]?.kind === 'workflow')) {
        const fragment = routeIdFragment(route.name);
        const targetFragment = firstTargetFragment(route.name);
        const [, stateMachine] = onlyResource(routing, 'AWS::StepFunctions::StateMachine', fragment);
        const statements = policyStatementsOf(routing, `${targetFragment}StateMachineRole`).filter((statement) => JSON.stringify(statement.Action).includes('states:'));
        expect(statements).toEqual([]);
        expect(stateMachine.Properties.StateMachineName).toBe(`dev-fastio-routing-${route.name}`);
      }
    });

    it('lets EventBridge assume the start-execution role only for rules on this account\'s bus', () => {
      for (const route of routeTable.filter((candidate) => candidate.targets[0]?.kind === 'workflow')) {
        const fragment = routeIdFragment(route.name);
        const targetFragment = firstTargetFragment(route.name);
        const [roleId] = onlyResource(routing, 'AWS::IAM::Role', `${targetFragment}Role`);
        const [, rule] = onlyResource(routing, 'AWS::Events::Rule', fragment);
        expect(rule.Properties.Targets[0].RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
        routing.hasResourceProperties('AWS::IAM::Role', {
          Description: `EventBridge delivers route ${route.name} to workflow review with it.`,
          AssumeRolePolicyDocument: {
            Statement: [
              {
                Action: 'sts:AssumeRole',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Condition: {
                  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                  ArnLike: {
                    'aws:SourceArn': {
                      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':rule/', rule.Properties.EventBusName, '/*']],
                    },
                  },
                },
              },
            ],
          },
        });
      }
    });

    it('grants "*" resources only for X-Ray and log delivery, which have no resource-level permissions', () => {
      const policies = routing.findResources('AWS::IAM::Policy') as Resources;
      const wildcardActions = Object.values(policies)
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((statement) => statement.Resource === '*')
        .flatMap((statement) => statement.Action);
      const allowed = /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
      expect(wildcardActions.length).toBeGreaterThan(0);
      for (const action of wildcardActions) expect(action).toMatch(allowed);
    });
  });

  it('gives every function log group a retention', () => {
    for (const template of [routing, synthesized.templates.ingest]) {
      const groups = Object.values(template.findResources('AWS::Logs::LogGroup') as Resources);
      for (const group of groups) expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  it('outputs every rule, queue, function and state machine the operator CLI needs', () => {
    const outputs = Object.keys(routing.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'RouteDocumentsTargetQueueRuleArn',
        'RouteDocumentsTargetQueueBufferQueueUrl',
        'RouteDocumentsTargetQueueBufferDlqUrl',
        'RouteDocumentsTargetQueueTargetDlqUrl',
        'RouteDocumentsTargetQueueFunctionArn',
        'RouteAgentActivityTargetFunctionOnFailureQueueUrl',
        'RouteLargeMediaTargetWorkflowStateMachineArn',
        'RouteLargeMediaTargetWorkflowFailureQueueUrl',
        'RouteLargeMediaTargetWorkflowDestinationArn',
      ]),
    );
    // The per-route keys are gone: every resource is a target's, its rule included.
    expect(outputs).not.toContain('RouteDocumentsRuleArn');
    expect(outputs.filter((key) => /^Route[A-Za-z]+(BufferQueue|TargetDlq|BufferDlq|OnFailureQueue|FailureQueue)(Url|Arn)$/.test(key) && !key.includes('Target'))).toEqual([]);
  });

  describe('adding a route is a change to the table alone', () => {
    it('turns each entry, including a new one, into one rule per target with its full chain', () => {
      // GIVEN the table plus one new queue route
      const extra: Route = {
        name: 'spreadsheets-by-bot',
        description: 'A route that exists only in this test.',
        pattern: { source: ['fastio'], detail: { extension: ['xlsx'], agentId: ['agent-7'] } },
        targets: [{ kind: 'queue', consumer: 'catalog-consumer', access: { tables: [{ table: 'catalog', actions: ['dynamodb:UpdateItem'] }] } }],
        samples: { matching: [], notMatching: [] },
      };
      const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
      const config = loadConfig(app.node);
      const stateful = new StatefulStack(app, 'Stateful', { config });
      // WHEN
      const stack = new RoutingStack(app, 'Routing', { ...routingProps(stateful), config, routes: [...routeTable, extra] });
      const template = Template.fromStack(stack);
      // THEN one rule per deployed target (those whose values come from config are not deployed with cdk.json's empty ones),
      // and the new entry has rule, buffer, buffer DLQ, target DLQ and consumer
      const deployedTargets = routeTable.flatMap((route) => route.targets.filter((target) => configKeysOf(target).length === 0));
      template.resourceCountIs('AWS::Events::Rule', deployedTargets.length + 1);
      const fragment = routeIdFragment(extra.name);
      expect(Object.keys(resourcesMatching(template, 'AWS::Events::Rule', fragment))).toHaveLength(1);
      const targetFragment = firstTargetFragment(extra.name, [extra]);
      expect(Object.keys(resourcesMatching(template, 'AWS::SQS::Queue', fragment)).map((id) => id.replace(targetFragment, '').replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
        'BufferDlq',
        'BufferQueue',
        'TargetDlq',
      ]);
      expect(Object.keys(resourcesMatching(template, 'AWS::Lambda::EventSourceMapping', fragment))).toHaveLength(1);
      template.hasOutput('RouteSpreadsheetsByBotTargetQueueRuleArn', Match.anyValue());
    });

    it('rejects a route whose pattern EventBridge would refuse, naming the route and the JSON path', () => {
      const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
      const config = loadConfig(app.node);
      const stateful = new StatefulStack(app, 'Stateful', { config });
      const broken = { ...(routeTable[0] as Route), pattern: { source: ['fastio'], detail: { sizeMiB: [{ numeric: ['>', 'ten'] }] } } } as unknown as Route;
      expect(() => new RoutingStack(app, 'Routing', { ...routingProps(stateful), config, routes: [broken] })).toThrow(
        new RegExp(`^route "${broken.name}": .*\\$\\.detail\\.sizeMiB\\[0\\]\\.numeric`),
      );
    });

    it('rejects a route table with a duplicate name', () => {
      const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
      const config = loadConfig(app.node);
      const stateful = new StatefulStack(app, 'Stateful', { config });
      const first = routeTable[0] as Route;
      expect(() => new RoutingStack(app, 'Routing', { ...routingProps(stateful), config, routes: [first, first] })).toThrow(
        `route name "${first.name}" appears twice in the route table`,
      );
    });
  });
});
