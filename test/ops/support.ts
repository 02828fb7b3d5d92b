/**
 * Shared fixtures for the operator CLI tests: a captured io, a fake clock whose sleep advances it,
 * and stack outputs shaped exactly as the stacks write them (lib/stack-outputs.ts helpers).
 */
import type { Output } from '@aws-sdk/client-cloudformation';
import { defaultAwsClients, type OpsRuntime } from '../../lib/ops/aws-runtime';
import type { CommandIo } from '../../lib/ops/command';
import { routeTable, targetName, type Route } from '../../lib/route-table';
import { StatefulOutput, targetOutputKey } from '../../lib/stack-outputs';
import { configKeysOf, deadLetterOutputKeys, deadLetterQueues } from '../../lib/ops/deployment';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-fastio`;
export const ARCHIVE_NAME = 'dev-fastio-all';
export const RECORDER_RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/dev-fastio/dev-fastio-recorder`;
export const ARCHIVE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:archive/${ARCHIVE_NAME}`;
export const NOW = new Date('2026-11-22T12:00:00.000Z');

export interface Captured {
  readonly io: CommandIo;
  readonly out: string[];
  readonly err: string[];
  stdout(): string;
  stderr(): string;
}

export function capture(interactive = false): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (line) => out.push(line), err: (line) => err.push(line), interactive },
    out,
    err,
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

export interface FakeRuntime {
  readonly runtime: OpsRuntime;
  readonly sleeps: number[];
  /** Current fake time in ms. */
  now(): number;
}

/** Clients are the real SDK classes: aws-sdk-client-mock intercepts every instance. */
export function fakeRuntime(start: Date = NOW): FakeRuntime {
  let now = start.getTime();
  const sleeps: number[] = [];
  return {
    runtime: {
      clients: defaultAwsClients,
      now: () => new Date(now),
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      random: () => 0.5,
      pollIntervalMs: 5_000,
    },
    sleeps,
    now: () => now,
  };
}

export const ruleArn = (route: string, target: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/dev-fastio/${route}-${target}-rule`;
/** One of a target's queues: a DLQ role, or 'buffer'. */
export const queueName = (route: string, target: string, what: string) => `dev-fastio-routing-${route}-${target}-${what}`;
export const queueUrl = (route: string, target: string, what: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueName(route, target, what)}`;
export const queueArn = (route: string, target: string, what: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName(route, target, what)}`;
export const functionArn = (route: string, target: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:dev-fastio-${route}-${target}-consumer`;
export const stateMachineArn = (route: string, target: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${route}-${target}-workflow`;
export const topicArn = (route: string, target: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:dev-fastio-${route}-${target}`;
export const apiDestinationArn = (route: string, target: string) =>
  `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/dev-fastio-${route}-${target}/0a1b2c3d-0000-4000-8000-000000000000`;
/** The secret an http target from config names, as the deployment resolved it. */
export const configuredSecretArn = (route: string, target: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${route}-${target}-AbCdEf`;

function output(key: string, value: string): Output {
  return { OutputKey: key, OutputValue: value };
}

export const statefulOutputs: Output[] = [
  output(StatefulOutput.eventBusName, 'dev-fastio'),
  output(StatefulOutput.eventBusArn, BUS_ARN),
  output(StatefulOutput.archiveName, ARCHIVE_NAME),
  output(StatefulOutput.archiveArn, ARCHIVE_ARN),
  output(StatefulOutput.recorderRuleArn, RECORDER_RULE_ARN),
];

/**
 * Everything the routing stack writes for a table, per target (lib/stack-outputs.ts targetOutputKey).
 * A target whose values come from config is in the outputs only when `configured` says it was deployed.
 */
export function routingOutputsFor(table: readonly Route[], options: { configured?: boolean } = {}): Output[] {
  const deployed = table.map((route) => ({ ...route, targets: route.targets.filter((target) => options.configured === true || configKeysOf(target).length === 0) }));
  const outputs = deployed.flatMap((route) => [
    // One rule per target.
    ...route.targets.map((target) => output(targetOutputKey(route.name, targetName(target), 'RuleArn'), ruleArn(route.name, targetName(target)))),
    ...route.targets.flatMap((target) => {
      const name = targetName(target);
      const key = (resource: Parameters<typeof targetOutputKey>[2], value: string) => output(targetOutputKey(route.name, name, resource), value);
      if ('consumer' in target && target.kind === 'queue') return [key('BufferQueueUrl', queueUrl(route.name, name, 'buffer')), key('BufferQueueArn', queueArn(route.name, name, 'buffer'))];
      if ('consumer' in target) return [key('FunctionArn', functionArn(route.name, name))];
      if ('workflow' in target) return [key('StateMachineArn', stateMachineArn(route.name, name))];
      if (target.kind === 'topic' && target.topicArn === undefined) return [key('TopicArn', topicArn(route.name, name))];
      if (target.kind === 'http') {
        const auth = target.authorization;
        const named = auth.type === 'api-key' ? auth.secretArn : auth.type === 'basic' ? auth.passwordSecretArn : auth.clientSecretArn;
        return [key('ApiDestinationArn', apiDestinationArn(route.name, name)), key('SecretArn', typeof named === 'string' ? named : configuredSecretArn(route.name, name))];
      }
      return [];
    }),
  ]);
  return outputs.concat(
    deadLetterQueues(deployed).flatMap((queue) => {
      const keys = deadLetterOutputKeys(queue);
      return [output(keys.url, queueUrl(queue.route.name, queue.targetName, queue.role)), output(keys.arn, queueArn(queue.route.name, queue.targetName, queue.role))];
    }),
  );
}

/** The shipped table's outputs. */
export const routingOutputs: Output[] = routingOutputsFor(routeTable);

export function stack(name: string, outputs: Output[]) {
  return { Stacks: [{ StackName: name, StackStatus: 'UPDATE_COMPLETE' as const, CreationTime: NOW, Outputs: outputs }] };
}

export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** An EventBridge event as the bus delivers it. */
export function event(eventId: string, detailType = 'file.uploaded', detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: `id-${eventId}`,
    'detail-type': detailType,
    source: 'fastio',
    account: ACCOUNT,
    time: '2026-11-22T10:30:00Z',
    region: REGION,
    resources: [],
    detail: { eventId, workspaceId: 'ws-1', fileId: `f-${eventId}`, extension: 'pdf', ...detail },
  };
}
