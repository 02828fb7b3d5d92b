/**
 * Shared fixtures for the operator CLI tests: a captured io, a fake clock whose sleep advances it,
 * and stack outputs shaped exactly as the stacks write them (lib/stack-outputs.ts helpers).
 */
import type { Output } from '@aws-sdk/client-cloudformation';
import { defaultAwsClients, type OpsRuntime } from '../../lib/ops/aws-runtime';
import type { CommandIo } from '../../lib/ops/command';
import { routeTable } from '../../lib/route-table';
import { DEAD_LETTER_KEYS, StatefulOutput, routeOutputKey } from '../../lib/stack-outputs';
import { deadLetterQueues } from '../../lib/ops/deployment';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-fastio`;
export const ARCHIVE_NAME = 'dev-fastio-all';
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

export const ruleArn = (route: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/dev-fastio/${route}-rule`;
export const queueName = (route: string, what: string) => `dev-fastio-routing-${route}-${what}`;
export const queueUrl = (route: string, what: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueName(route, what)}`;
export const queueArn = (route: string, what: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName(route, what)}`;
export const functionArn = (route: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:dev-fastio-${route}-consumer`;
export const stateMachineArn = (route: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${route}-review`;

function output(key: string, value: string): Output {
  return { OutputKey: key, OutputValue: value };
}

export const statefulOutputs: Output[] = [
  output(StatefulOutput.eventBusName, 'dev-fastio'),
  output(StatefulOutput.eventBusArn, BUS_ARN),
  output(StatefulOutput.archiveName, ARCHIVE_NAME),
  output(StatefulOutput.archiveArn, ARCHIVE_ARN),
];

/** Everything RoutingStack.outputChain writes, for every route of the table. */
export const routingOutputs: Output[] = routeTable.flatMap((route) => {
  const outputs = [output(routeOutputKey(route.name, 'RuleArn'), ruleArn(route.name))];
  if (route.targets[0]?.kind === 'queue') {
    outputs.push(output(routeOutputKey(route.name, 'BufferQueueUrl'), queueUrl(route.name, 'buffer')));
    outputs.push(output(routeOutputKey(route.name, 'BufferQueueArn'), queueArn(route.name, 'buffer')));
  }
  if (route.targets[0]?.kind !== 'workflow') outputs.push(output(routeOutputKey(route.name, 'FunctionArn'), functionArn(route.name)));
  if (route.targets[0]?.kind === 'workflow') outputs.push(output(routeOutputKey(route.name, 'StateMachineArn'), stateMachineArn(route.name)));
  return outputs;
}).concat(
  deadLetterQueues().flatMap((queue) => [
    output(routeOutputKey(queue.route.name, `${DEAD_LETTER_KEYS[queue.role]}Url`), queueUrl(queue.route.name, queue.role)),
    output(routeOutputKey(queue.route.name, `${DEAD_LETTER_KEYS[queue.role]}Arn`), queueArn(queue.route.name, queue.role)),
  ]),
);

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
