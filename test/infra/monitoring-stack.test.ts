import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { REJECTION_REASONS } from '../../lambdas/ingest/reasons';
import { AlarmTopic } from '../../lib/constructs/monitoring-alarm-topic';
import { buildApp } from '../../lib/stacks/fastio-app';
import { BUFFER_MAX_AGE_SECONDS } from '../../lib/stacks/monitoring-stack';
import type { DeadLetterRole } from '../../lib/constructs/secure-queue';
import { routeTable } from '../../lib/route-table';
import { DEAD_LETTER_KEYS, targetOutputKey, type TargetResource } from '../../lib/stack-outputs';
import { targetName } from '../../lib/route-table';
import { configKeysOf } from '../../lib/domain/route-validation';
import { signWebhook } from '../../lib/domain/webhook-signature';
import { cdkJsonContext, synthesize, type SynthesizedApp } from './synthesize';

type Json = Record<string, unknown>;

/** One metric as an alarm watches it, whichever of CloudFormation's two alarm shapes CDK wrote. */
interface WatchedMetric {
  readonly namespace: unknown;
  readonly metricName: unknown;
  readonly dimensions: Record<string, unknown>;
  readonly stat: unknown;
  readonly period: unknown;
}

interface AlarmProperties extends Json {
  AlarmName: string;
  AlarmDescription: string;
  Metrics?: Json[];
}

function dimensionsOf(list: unknown): Record<string, unknown> {
  const entries = (list as { Name: string; Value: unknown }[] | undefined) ?? [];
  const names = entries.map((entry) => entry.Name);
  if (new Set(names).size !== names.length) throw new Error(`duplicate dimension in ${JSON.stringify(names)}`);
  return Object.fromEntries(entries.map((entry) => [entry.Name, entry.Value]));
}

function metricStatOf(query: Json): WatchedMetric {
  const stat = query.MetricStat as { Metric: Json; Stat: unknown; Period: unknown };
  return {
    namespace: stat.Metric.Namespace,
    metricName: stat.Metric.MetricName,
    dimensions: dimensionsOf(stat.Metric.Dimensions),
    stat: stat.Stat,
    period: stat.Period,
  };
}

/** The single metric of a (non-math) alarm: top-level properties, or one MetricStat query. */
function watchedMetric(alarm: AlarmProperties): WatchedMetric {
  if (!alarm.Metrics) {
    return { namespace: alarm.Namespace, metricName: alarm.MetricName, dimensions: dimensionsOf(alarm.Dimensions), stat: alarm.Statistic, period: alarm.Period };
  }
  expect(alarm.Metrics, `${alarm.AlarmName} watches exactly one metric`).toHaveLength(1);
  const query = alarm.Metrics[0] as Json;
  expect(query.ReturnData ?? true).toBe(true);
  return metricStatOf(query);
}

/** A metric-math alarm: its returned expression and the metrics it uses, by id. */
function mathOf(alarm: AlarmProperties): { expression: string; metrics: Record<string, WatchedMetric> } {
  const queries = alarm.Metrics ?? [];
  const returned = queries.filter((query) => query.ReturnData !== false);
  expect(returned, `${alarm.AlarmName} returns one expression`).toHaveLength(1);
  const expression = (returned[0] as Json).Expression as string;
  const metrics = Object.fromEntries(
    queries.filter((query) => query.ReturnData === false).map((query) => [query.Id as string, metricStatOf(query)]),
  );
  return { expression, metrics };
}

/**
 * Replaces every Fn::GetStackOutput with what the producing stack writes into that output, tagged
 * with the producer's stack name, so a test sees which resource a dimension really points at.
 */
function resolveCrossStack(synthesized: SynthesizedApp, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveCrossStack(synthesized, item));
  if (typeof value !== 'object' || value === null) return value;
  const reference = (value as { 'Fn::GetStackOutput'?: { StackName: string; OutputName: string } })['Fn::GetStackOutput'];
  if (reference) {
    const producers = { stateful: synthesized.stateful, ingest: synthesized.ingest, routing: synthesized.routing } as const;
    const entry = Object.entries(producers).find(([, stack]) => stack.stackName === reference.StackName);
    if (!entry) throw new Error(`no stack named ${reference.StackName}`);
    const outputs = synthesized.templates[entry[0] as keyof typeof producers].toJSON().Outputs as Record<string, { Value: unknown }>;
    const output = outputs[reference.OutputName];
    if (!output) throw new Error(`${reference.StackName} has no output ${reference.OutputName}`);
    return { fromStack: reference.StackName, value: output.Value };
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveCrossStack(synthesized, item)]));
}

/** Evaluates the few intrinsics a dimension may use, given what each referenced attribute resolves to. */
function evaluate(value: unknown, attribute: (reference: unknown) => string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const node = value as Json;
  if ('fromStack' in node) return attribute(node.value);
  if ('Fn::Select' in node) {
    const [index, list] = node['Fn::Select'] as [number, unknown];
    return (evaluate(list, attribute) as string[])[index];
  }
  if ('Fn::Split' in node) {
    const [delimiter, source] = node['Fn::Split'] as [string, unknown];
    return (evaluate(source, attribute) as string).split(delimiter);
  }
  throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
}

describe('MonitoringStack', () => {
  let synthesized: SynthesizedApp;
  let alarms: AlarmProperties[];

  beforeAll(() => {
    synthesized = synthesize();
    alarms = Object.values(synthesized.templates.monitoring.findResources('AWS::CloudWatch::Alarm')).map((resource) => resource.Properties as AlarmProperties);
  });

  function alarmNamed(name: string): AlarmProperties {
    const found = alarms.filter((alarm) => alarm.AlarmName === name);
    if (found.length !== 1) throw new Error(`expected one alarm named ${name}, found ${found.length}: ${alarms.map((alarm) => alarm.AlarmName).join(', ')}`);
    return found[0] as AlarmProperties;
  }

  function resolved(value: unknown): unknown {
    return resolveCrossStack(synthesized, value);
  }

  function logicalIdOfType(template: keyof SynthesizedApp['templates'], type: string): string {
    const ids = Object.keys(synthesized.templates[template].findResources(type));
    if (ids.length !== 1) throw new Error(`expected one ${type} in ${template}, found ${ids.length}`);
    return ids[0] as string;
  }

  /** The logical id behind the routing stack's output of a target's resource (its rule included), by default of the route's first target. */
  function routeResourceId(routeName: string, resource: TargetResource, target = firstTarget(routeName)): string {
    const outputs = synthesized.templates.routing.toJSON().Outputs as Record<string, { Value: Json }>;
    const key = targetOutputKey(routeName, target, resource);
    const value = outputs[key]?.Value;
    if (!value) throw new Error(`the routing stack has no output ${key}`);
    if (typeof value.Ref === 'string') return value.Ref;
    const getAtt = value['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt) return getAtt[0];
    throw new Error(`output ${key} does not reference a resource`);
  }

  const routing = (value: Json) => ({ fromStack: 'dev-fastio-routing', value });
  const ingest = (value: Json) => ({ fromStack: 'dev-fastio-ingest', value });
  const stateful = (value: Json) => ({ fromStack: 'dev-fastio-stateful', value });

  /** Threshold, comparison and evaluation shared by every alarm of the stack. */
  function expectPagesOnFirstBreach(alarm: AlarmProperties, threshold: number): void {
    expect(alarm).toMatchObject({
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
  }

  /** The name of a route's first target, which prefixes its alarms: `<route>-<target>-…`. */
  const firstTarget = (routeName: string) => targetName(routeTable.find((route) => route.name === routeName)?.targets[0] ?? { kind: 'queue', consumer: '' });
  const alarmPrefix = (routeName: string) => `${routeName}-${firstTarget(routeName)}`;

  const expectedDeadLetterAlarm = (routeName: string, role: DeadLetterRole) =>
    role === 'buffer-dlq' ? `dev-fastio-${routeName}-buffer-DLQ-Queue-Message-Count-Max-Critical` : `dev-fastio-${routeName}-${role}-Queue-Message-Count-Max-Critical`;

  describe('alarm topic', () => {
    it('encrypts the topic with a rotating KMS key and accepts only TLS publishes', () => {
      const { monitoring } = synthesized.templates;
      const keyId = logicalIdOfType('monitoring', 'AWS::KMS::Key');
      monitoring.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      monitoring.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      monitoring.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('lets CloudWatch publish to the topic and use its key, for this deployment’s alarms only', () => {
      const { monitoring } = synthesized.templates;
      const fromOurAlarms = {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:dev-fastio-*']],
          },
        },
      };
      monitoring.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: fromOurAlarms }),
          ]),
        },
      });
      monitoring.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Condition: fromOurAlarms,
            }),
          ]),
        },
      });
      // Every alarm name carries the prefix the conditions allow.
      for (const alarm of alarms) expect(alarm.AlarmName).toMatch(/^dev-fastio-/);
    });

    it('subscribes no one by default', () => {
      synthesized.templates.monitoring.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('subscribes alarmEmail by email when it is set', () => {
      // Built alone: with alarmEmail set, the whole app currently fails cdk-nag on the routing
      // stack's review-topic subscription (Serverless-SNSRedrivePolicy), which is not this stack's.
      const stack = new Stack(new App(), 'Alone');
      const { topic } = new AlarmTopic(stack, 'AlarmTopic', { alarmNamePrefix: 'dev-fastio', email: 'oncall@example.com' });
      Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'oncall@example.com',
        TopicArn: { Ref: stack.getLogicalId(topic.node.defaultChild as CfnElement) },
      });
      // ...and the stack hands config.alarmEmail to it (read from the construct tree, before synth).
      const { monitoring } = buildApp({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], alarmEmail: 'oncall@example.com' } });
      const subscriptions = monitoring.node.findAll().filter((construct): construct is sns.CfnSubscription => construct instanceof sns.CfnSubscription);
      expect(subscriptions.map((subscription) => [subscription.protocol, subscription.endpoint])).toEqual([['email', 'oncall@example.com']]);
    });
  });

  describe('every alarm', () => {
    it('is exactly the expected set: ingest, rules, every DLQ, buffers, functions, workflows', () => {
      const expected = [
        'dev-fastio-ingest-Server-Errors-Critical',
        'dev-fastio-ingest-Body-Store-Failed-Critical',
        'dev-fastio-ingest-Deadline-Exceeded-Critical',
        'dev-fastio-ingest-function-Fault-Count-Critical',
        'dev-fastio-ingest-function-Throttled-Count-Critical',
        'dev-fastio-ingest-Rejected-Signatures-Critical',
        'dev-fastio-ingest-Publish-Failed-Critical',
        'dev-fastio-ingest-Quarantined-Critical',
        ...synthesized.routing.chains.flatMap((chain) => {
          const name = chain.route.name;
          return [
            ...chain.targets.flatMap((target) => {
              const prefix = `${name}-${target.name}`;
              return [
                `dev-fastio-rules-${prefix}-failed-invocations-Critical`,
                `dev-fastio-rules-${prefix}-dlq-delivery-failed-Critical`,
                ...Object.keys(target.deadLetterQueues).map((role) => expectedDeadLetterAlarm(prefix, role as DeadLetterRole)),
                ...(target.bufferQueue ? [`dev-fastio-${prefix}-buffer-Queue-Message-Age-Max-Critical`] : []),
                ...(target.consumerFunction ? [`dev-fastio-${prefix}-consumer-Fault-Count-Critical`] : []),
                ...(target.stateMachine ? [`dev-fastio-${prefix}-workflow-Failure-Count-Critical`, `dev-fastio-${prefix}-workflow-TimedOut-Count-Critical`] : []),
              ];
            }),
          ];
        }),
        'dev-fastio-recorder-Failed-Invocations-Critical',
        'dev-fastio-recorder-Dlq-Delivery-Failed-Critical',
        'dev-fastio-recorder-Data-Freshness-Critical',
        'dev-fastio-recorder-Delivery-Failed-Critical',
        'dev-fastio-recorder-dlq-Queue-Message-Count-Max-Critical',
      ];
      expect(alarms.map((alarm) => alarm.AlarmName).sort()).toEqual([...expected].sort());
    });

    it('notifies the alarm topic when it fires and when it clears', () => {
      const topicId = logicalIdOfType('monitoring', 'AWS::SNS::Topic');
      for (const alarm of alarms) {
        expect(alarm, alarm.AlarmName).toMatchObject({ ActionsEnabled: true, AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
      }
    });

    it('tells the operator what to do first and links the incident recovery runbook', () => {
      for (const alarm of alarms) {
        expect(alarm.AlarmDescription, alarm.AlarmName).toMatch(/First: /);
        expect(alarm.AlarmDescription, alarm.AlarmName).toContain('Runbook: README.md#incident-recovery');
        expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(1024);
      }
    });
  });

  describe('queues', () => {
    it.each(routeTable.flatMap((route) => {
      const chain = () => synthesized.routing.chains.find((candidate) => candidate.route.name === route.name);
      return (['buffer-dlq', 'target-dlq', 'on-failure', 'workflow-failures'] as const).map((role) => ({ route: route.name, role, chain }));
    }))('alarms on any message in $route/$role, on that queue', ({ route, role, chain }) => {
      const queue = chain()?.targets[0]?.deadLetterQueues[role];
      if (!queue) {
        expect(alarms.some((alarm) => alarm.AlarmName === expectedDeadLetterAlarm(alarmPrefix(route), role))).toBe(false);
        return;
      }
      const alarm = alarmNamed(expectedDeadLetterAlarm(alarmPrefix(route), role));
      expectPagesOnFirstBreach(alarm, 1);
      const queueId = routeResourceId(route, `${DEAD_LETTER_KEYS[role]}Arn`);
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: routing({ 'Fn::GetAtt': [queueId, 'QueueName'] }) },
        stat: 'Maximum',
        period: 300,
      });
    });

    it('alarms when the oldest buffered message of documents is 15 minutes old', () => {
      expect(BUFFER_MAX_AGE_SECONDS).toBe(900);
      const alarm = alarmNamed('dev-fastio-documents-queue-buffer-Queue-Message-Age-Max-Critical');
      expectPagesOnFirstBreach(alarm, 900);
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateAgeOfOldestMessage',
        dimensions: { QueueName: routing({ 'Fn::GetAtt': [routeResourceId('documents', 'BufferQueueArn'), 'QueueName'] }) },
        stat: 'Maximum',
        period: 300,
      });
    });
  });

  describe('ingest', () => {
    it('pages on 5xx answers of the webhook API stage minus the ingest\'s own deferrals, as one metric-math expression', () => {
      // GIVEN the alarm as synthesized
      const alarm = alarmNamed('dev-fastio-ingest-Server-Errors-Critical');
      expectPagesOnFirstBreach(alarm, 1);
      const apiId = logicalIdOfType('ingest', 'AWS::ApiGatewayV2::Api');
      const stage = Object.values(synthesized.templates.ingest.findResources('AWS::ApiGatewayV2::Stage'))[0]?.Properties;
      const queries = alarm.Metrics as Json[];
      const byId = Object.fromEntries(queries.map((query) => [query.Id as string, query]));
      // THEN it returns only the expression: 5xx less the awaiting-secret-refresh rejections, never below 0
      const returned = queries.filter((query) => query.ReturnData !== false);
      expect(returned).toHaveLength(1);
      expect(returned[0]?.Expression).toBe('MAX([FILL(serverErrors, 0) - FILL(deferrals, 0), FILL(serverErrors, 0) * 0])');
      expect(resolved(metricStatOf(byId.serverErrors as Json))).toEqual({
        namespace: 'AWS/ApiGateway',
        metricName: '5xx',
        dimensions: { ApiId: ingest({ Ref: apiId }), Stage: stage?.StageName },
        stat: 'Sum',
        period: 300,
      });
      expect(metricStatOf(byId.deferrals as Json)).toEqual({
        namespace: 'FastioEventBridge',
        metricName: 'WebhookRejected',
        dimensions: { service: 'fastio-ingest', Reason: REJECTION_REASONS.awaitingSecretRefresh },
        stat: 'Sum',
        period: 300,
      });
    });

    it('no longer alarms on the raw 5xx count, which a forgery flood or a secret rotation raises', () => {
      const names = Object.values(synthesized.templates.monitoring.findResources('AWS::CloudWatch::Alarm')).map((resource) => (resource.Properties as AlarmProperties).AlarmName);
      expect(names).not.toContain('dev-fastio-webhook-api-Fault-Count-Critical');
    });

    it.each([
      ['dev-fastio-ingest-Body-Store-Failed-Critical', 'BodyStoreFailed'],
      ['dev-fastio-ingest-Deadline-Exceeded-Critical', 'DeadlineExceeded'],
    ])('%s pages on the first FastioEventBridge %s (service dimension only)', (name, metricName) => {
      const alarm = alarmNamed(name);
      expectPagesOnFirstBreach(alarm, 1);
      expect(watchedMetric(alarm)).toEqual({ namespace: 'FastioEventBridge', metricName, dimensions: { service: 'fastio-ingest' }, stat: 'Sum', period: 300 });
    });

    it.each([
      ['dev-fastio-ingest-function-Fault-Count-Critical', 'Errors'],
      ['dev-fastio-ingest-function-Throttled-Count-Critical', 'Throttles'],
    ])('%s watches AWS/Lambda %s of the ingest function', (name, metricName) => {
      const alarm = alarmNamed(name);
      expectPagesOnFirstBreach(alarm, 1);
      const functionId = (synthesized.templates.ingest.toJSON().Outputs.IngestFunctionName.Value as { Ref: string }).Ref;
      expect(synthesized.templates.ingest.toJSON().Resources[functionId].Type).toBe('AWS::Lambda::Function');
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { FunctionName: ingest({ Ref: functionId }) },
        stat: 'Sum',
        period: 300,
      });
    });

    it('alarms on 5 or more rejected signatures in 5 minutes, summing every signature reason with the dimensions Powertools writes', () => {
      const alarm = alarmNamed('dev-fastio-ingest-Rejected-Signatures-Critical');
      expectPagesOnFirstBreach(alarm, 5);
      const { expression, metrics } = mathOf(alarm);
      const signatureReasons = [
        REJECTION_REASONS.missingSignature,
        REJECTION_REASONS.malformedSignature,
        REJECTION_REASONS.badSignature,
        REJECTION_REASONS.awaitingSecretRefresh,
        REJECTION_REASONS.staleTimestamp,
      ];
      expect(expression).toBe(`SUM([${Object.keys(metrics).join(', ')}])`);
      expect(Object.values(metrics)).toEqual(
        signatureReasons.map((reason) => ({
          namespace: 'FastioEventBridge',
          metricName: 'WebhookRejected',
          dimensions: { service: 'fastio-ingest', Reason: reason },
          stat: 'Sum',
          period: 300,
        })),
      );
    });

    it('alarms on any quarantined delivery (FastioEventBridge WebhookQuarantined, service dimension only)', () => {
      // GIVEN the synthesized monitoring stack, THEN one quarantined delivery in 5 minutes pages
      synthesized.templates.monitoring.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'dev-fastio-ingest-Quarantined-Critical',
        Metrics: [
          Match.objectLike({
            MetricStat: {
              Metric: { Namespace: 'FastioEventBridge', MetricName: 'WebhookQuarantined', Dimensions: [{ Name: 'service', Value: 'fastio-ingest' }] },
              Period: 300,
              Stat: 'Sum',
            },
            ReturnData: true,
          }),
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.stringLikeRegexp('fastio\\.quarantined'),
      });
    });

    it('alarms on any publish failure (FastioEventBridge PublishFailed, service dimension only)', () => {
      const alarm = alarmNamed('dev-fastio-ingest-Publish-Failed-Critical');
      expectPagesOnFirstBreach(alarm, 1);
      expect(watchedMetric(alarm)).toEqual({
        namespace: 'FastioEventBridge',
        metricName: 'PublishFailed',
        dimensions: { service: 'fastio-ingest' },
        stat: 'Sum',
        period: 300,
      });
    });

    it('uses the namespace and service name the ingest function is deployed with', () => {
      const functionId = (synthesized.templates.ingest.toJSON().Outputs.IngestFunctionName.Value as { Ref: string }).Ref;
      const variables = synthesized.templates.ingest.toJSON().Resources[functionId].Properties.Environment.Variables as Record<string, unknown>;
      expect(variables.POWERTOOLS_SERVICE_NAME).toBe('fastio-ingest');
      expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('FastioEventBridge');
    });
  });

  describe('rules', () => {
    // Targets whose values come from config are not deployed with cdk.json's empty values.
    const deployedTargets = routeTable.flatMap((route) => route.targets.filter((target) => configKeysOf(target).length === 0).map((target) => ({ route: route.name, target: targetName(target) })));
    it.each(deployedTargets.flatMap(({ route, target }) => [
      { route, target, metricName: 'FailedInvocations', alarm: `dev-fastio-rules-${route}-${target}-failed-invocations-Critical` },
      { route, target, metricName: 'InvocationsFailedToBeSentToDlq', alarm: `dev-fastio-rules-${route}-${target}-dlq-delivery-failed-Critical` },
    ]))('$alarm watches AWS/Events $metricName of the rule of $route/$target by EventBusName and RuleName', ({ route, target, metricName, alarm: name }) => {
      const alarm = alarmNamed(name);
      expectPagesOnFirstBreach(alarm, 1);
      const ruleId = routeResourceId(route, 'RuleArn', target);
      const busId = logicalIdOfType('stateful', 'AWS::Events::EventBus');
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/Events',
        metricName,
        dimensions: {
          EventBusName: stateful({ Ref: busId }),
          // The rule's Ref is "<bus>|<rule>" on a custom bus; the name is taken from its ARN instead.
          RuleName: { 'Fn::Select': [2, { 'Fn::Split': ['/', routing({ 'Fn::GetAtt': [ruleId, 'Arn'] })] }] },
        },
        stat: 'Sum',
        period: 300,
      });
    });

    it('derives the bare rule name from a custom-bus rule ARN', () => {
      const alarm = alarmNamed(`dev-fastio-rules-documents-${firstTarget('documents')}-failed-invocations-Critical`);
      const ruleName = resolved(watchedMetric(alarm).dimensions.RuleName);
      const arn = 'arn:aws:events:eu-west-1:123456789012:rule/dev-fastio/dev-fastio-routing-RoutedocumentsRuleB90F350B-1X2Y3Z4W5V6U';
      expect(evaluate(ruleName, () => arn)).toBe('dev-fastio-routing-RoutedocumentsRuleB90F350B-1X2Y3Z4W5V6U');
    });

    it('puts the bus in the rules of the same bus the dimension names', () => {
      const busId = logicalIdOfType('stateful', 'AWS::Events::EventBus');
      for (const target of synthesized.routing.chains.flatMap((chain) => chain.targets)) {
        const rule = synthesized.templates.routing.toJSON().Resources[routeResourceId(target.route.name, 'RuleArn', target.name)].Properties;
        expect(resolved(rule.EventBusName)).toEqual(stateful({ Ref: busId }));
      }
    });
  });

  describe('flight recorder', () => {
    const statefulId = (type: string, fragment: string) => {
      const ids = Object.keys(synthesized.templates.stateful.findResources(type)).filter((id) => id.includes(fragment));
      if (ids.length !== 1) throw new Error(`expected one ${type} with ${fragment} in its id, found ${ids.length}`);
      return ids[0] as string;
    };

    it.each([
      { metricName: 'FailedInvocations', alarm: 'dev-fastio-recorder-Failed-Invocations-Critical' },
      { metricName: 'InvocationsFailedToBeSentToDlq', alarm: 'dev-fastio-recorder-Dlq-Delivery-Failed-Critical' },
    ])('$alarm watches AWS/Events $metricName of the recorder rule by EventBusName and RuleName', ({ metricName, alarm: name }) => {
      const alarm = alarmNamed(name);
      expectPagesOnFirstBreach(alarm, 1);
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/Events',
        metricName,
        dimensions: {
          EventBusName: stateful({ Ref: logicalIdOfType('stateful', 'AWS::Events::EventBus') }),
          RuleName: { 'Fn::Select': [2, { 'Fn::Split': ['/', stateful({ 'Fn::GetAtt': [statefulId('AWS::Events::Rule', 'FlightRecorderRule'), 'Arn'] })] }] },
        },
        stat: 'Sum',
        period: 300,
      });
    });

    it('alarms when the oldest record of the recorder stream has waited 15 minutes for S3', () => {
      const alarm = alarmNamed('dev-fastio-recorder-Data-Freshness-Critical');
      expectPagesOnFirstBreach(alarm, 900);
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        dimensions: { DeliveryStreamName: stateful({ Ref: statefulId('AWS::KinesisFirehose::DeliveryStream', 'FlightRecorder') }) },
        stat: 'Maximum',
        period: 300,
      });
    });

    it('alarms when any S3 put of the recorder stream failed in 5 minutes', () => {
      const alarm = alarmNamed('dev-fastio-recorder-Delivery-Failed-Critical');
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.Success',
        dimensions: { DeliveryStreamName: stateful({ Ref: statefulId('AWS::KinesisFirehose::DeliveryStream', 'FlightRecorder') }) },
        stat: 'Minimum',
        period: 300,
      });
    });

    it('alarms on any message in the recorder DLQ, on that queue', () => {
      const alarm = alarmNamed('dev-fastio-recorder-dlq-Queue-Message-Count-Max-Critical');
      expectPagesOnFirstBreach(alarm, 1);
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: stateful({ 'Fn::GetAtt': [statefulId('AWS::SQS::Queue', 'FlightRecorderTargetDlq'), 'QueueName'] }) },
        stat: 'Maximum',
        period: 300,
      });
    });
  });

  describe('functions and workflows', () => {
    it.each(['documents', 'agent-activity'])('alarms on 3 or more errors of the %s consumer in 5 minutes', (route) => {
      const alarm = alarmNamed(`dev-fastio-${alarmPrefix(route)}-consumer-Fault-Count-Critical`);
      expectPagesOnFirstBreach(alarm, 3);
      const functionId = routeResourceId(route, 'FunctionArn');
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: routing({ Ref: functionId }) },
        stat: 'Sum',
        period: 300,
      });
    });

    it.each(
      ['large-media', 'untrusted-agent-deletions'].flatMap((route) => [
        { route, metricName: 'ExecutionsFailed', alarm: `dev-fastio-${alarmPrefix(route)}-workflow-Failure-Count-Critical` },
        { route, metricName: 'ExecutionsTimedOut', alarm: `dev-fastio-${alarmPrefix(route)}-workflow-TimedOut-Count-Critical` },
      ]),
    )('$alarm watches AWS/States $metricName of the $route state machine', ({ route, metricName, alarm: name }) => {
      const alarm = alarmNamed(name);
      expectPagesOnFirstBreach(alarm, 1);
      const stateMachineId = routeResourceId(route, 'StateMachineArn');
      expect(synthesized.templates.routing.toJSON().Resources[stateMachineId].Type).toBe('AWS::StepFunctions::StateMachine');
      expect(resolved(watchedMetric(alarm))).toEqual({
        namespace: 'AWS/States',
        metricName,
        dimensions: { StateMachineArn: routing({ Ref: stateMachineId }) },
        stat: 'Sum',
        period: 300,
      });
    });
  });

  describe('dashboard', () => {
    function dashboardText(): string {
      const dashboards = Object.values(synthesized.templates.monitoring.findResources('AWS::CloudWatch::Dashboard'));
      expect(dashboards).toHaveLength(1);
      expect(dashboards[0]?.Properties.DashboardName).toBe('dev-fastio-flow');
      const body = dashboards[0]?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
      return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '"<token>"')).join('');
    }

    it('shows the flow: requests, outcomes, reasons, rules, queues, dead letters, workflows', () => {
      const text = dashboardText();
      for (const title of [
        'Requests, accepted, quarantined, rejected',
        'Rejected by reason',
        'Publish failures',
        'Matched events',
        'Target invocations',
        'Failed invocations (retries exhausted)',
        'Sent to the target DLQ',
        'Message Count',
        'Oldest Message Age',
        'Visible messages',
        'Executions',
        'Recorded events',
        'Recorder rule failures',
        'Delivery to S3',
      ]) {
        expect(text, title).toContain(`"title":"${title}`);
      }
      for (const metricName of ['WebhookAccepted', 'WebhookQuarantined', 'WebhookRejected', 'MatchedEvents', 'Invocations', 'ExecutionsSucceeded']) {
        expect(text, metricName).toContain(`"${metricName}"`);
      }
      for (const reason of Object.values(REJECTION_REASONS)) expect(text).toContain(`"Reason","${reason}"`);
    });
  });
});

describe('the ingest function’s metrics, as Powertools publishes them', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const eventBridge = mockClient(EventBridgeClient);
  const SECRET = 'whsec_monitoring_test_secret_0123456789';
  // The resend dedupe's claim and mark succeed: every delivery here is a first one.
  const dynamoDb = mockClient(DynamoDBClient);
  dynamoDb.on(PutItemCommand).resolves({});
  dynamoDb.on(UpdateItemCommand).resolves({});

  let synthesized: SynthesizedApp;
  let environment: Record<string, string>;

  beforeAll(() => {
    synthesized = synthesize();
    const ingestTemplate = synthesized.templates.ingest.toJSON();
    const functionId = (ingestTemplate.Outputs.IngestFunctionName.Value as { Ref: string }).Ref;
    const variables = ingestTemplate.Resources[functionId].Properties.Environment.Variables as Record<string, unknown>;
    // The deployed environment, with the cross-stack tokens (bus name, secret ARN) made concrete.
    environment = Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [
        key,
        typeof value === 'string'
          ? value
          : key === 'SIGNING_SECRET_ARN'
            ? 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev/fastio/webhook-signing-secret-AbCdEf'
            : 'dev-fastio',
      ]),
    );
  });

  afterEach(() => {
    vi.restoreAllMocks();
    secretsManager.reset();
    eventBridge.reset();
    for (const key of Object.keys(environment)) delete process.env[key];
  });

  type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

  async function invoke(event: { body: string; headers?: Record<string, string>; method?: string }): Promise<{ statusCode: number | undefined; emf: Json[] }> {
    Object.assign(process.env, environment, { AWS_REGION: 'eu-west-1' });
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.resetModules();
    const { handler } = (await import('../../lambdas/ingest/handler')) as { handler: Handler };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const response = await handler(
      {
        version: '2.0',
        routeKey: 'POST /webhooks/fastio',
        rawPath: '/webhooks/fastio',
        rawQueryString: '',
        headers,
        body: event.body,
        isBase64Encoded: false,
        requestContext: {
          accountId: '123456789012',
          apiId: 'a1b2c3d4e5',
          domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
          domainPrefix: 'a1b2c3d4e5',
          http: { method: event.method ?? 'POST', path: '/webhooks/fastio', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
          requestId: 'req-monitoring',
          routeKey: 'POST /webhooks/fastio',
          stage: '$default',
          time: '18/Nov/2025:12:00:00 +0000',
          timeEpoch: Date.now(),
        },
      },
      { awsRequestId: 'req-monitoring', functionName: 'ingest', getRemainingTimeInMillis: () => 5000 } as unknown as Context,
    );
    const emf = written
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Json);
    return { statusCode: response.statusCode, emf };
  }

  /** The metric exactly as CloudWatch files it from one EMF record: namespace, name, dimension values. */
  function filedMetric(record: Json, metricName: string) {
    const directive = (record._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0];
    expect(directive?.Metrics.map((metric) => metric.Name)).toContain(metricName);
    expect(directive?.Dimensions, 'one dimension set per metric').toHaveLength(1);
    const names = directive?.Dimensions[0] ?? [];
    return { namespace: directive?.Namespace, metricName, dimensions: Object.fromEntries(names.map((name) => [name, record[name]])) };
  }

  function alarmMetrics(name: string): WatchedMetric[] {
    const alarm = Object.values(synthesized.templates.monitoring.findResources('AWS::CloudWatch::Alarm'))
      .map((resource) => resource.Properties as AlarmProperties)
      .find((candidate) => candidate.AlarmName === name);
    if (!alarm) throw new Error(`no alarm ${name}`);
    return alarm.Metrics?.filter((query) => query.MetricStat).map(metricStatOf) ?? [];
  }

  it('files a rejected signature under exactly the dimensions the rejected-signatures alarm sums', async () => {
    const { statusCode, emf } = await invoke({ body: '{"event_type":"file.uploaded"}' });
    expect(statusCode).toBe(401);
    const rejected = emf.filter((record) => 'WebhookRejected' in record);
    expect(rejected).toHaveLength(1);
    const filed = filedMetric(rejected[0] as Json, 'WebhookRejected');
    expect(filed.dimensions).toEqual({ service: 'fastio-ingest', Reason: REJECTION_REASONS.missingSignature });
    const watched = alarmMetrics('dev-fastio-ingest-Rejected-Signatures-Critical').map(({ namespace, metricName, dimensions }) => ({ namespace, metricName, dimensions }));
    expect(watched).toContainEqual(filed);
  });

  it('files a publish failure under exactly the dimensions the publish-failed alarm watches', async () => {
    const issued = new Date(Date.now() - 30 * 24 * 3_600_000);
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: SECRET, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: issued });
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('service unavailable'), { name: 'InternalException' }));
    const body = readFileSync(new URL('../fixtures/payloads/document-uploaded.json', import.meta.url), 'utf8');
    const headers = signWebhook({ rawBody: Buffer.from(body), secret: SECRET, scheme: 'body-hmac', timestamp: Math.floor(Date.now() / 1000), encoding: 'hex' });
    const { statusCode, emf } = await invoke({ body, headers });
    expect(statusCode).toBe(503);
    const failed = emf.filter((record) => 'PublishFailed' in record);
    expect(failed).toHaveLength(1);
    const filed = filedMetric(failed[0] as Json, 'PublishFailed');
    expect(filed.dimensions).toEqual({ service: 'fastio-ingest' });
    const watched = alarmMetrics('dev-fastio-ingest-Publish-Failed-Critical').map(({ namespace, metricName, dimensions }) => ({ namespace, metricName, dimensions }));
    expect(watched).toEqual([filed]);
  });
});
