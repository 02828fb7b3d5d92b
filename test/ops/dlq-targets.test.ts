/**
 * `dlq list|peek|redrive` for every target kind (test/infra/all-kinds-table.ts): each dead letter goes
 * back to its own target alone, with the target's input applied to a target DLQ's original event, and
 * is deleted only once that delivery succeeded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeApiDestinationCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createDlqCommands } from '../../lib/ops/dlq-commands';
import { deadLetterQueues } from '../../lib/ops/deployment';
import { ALL_KINDS, allKindsTable } from '../infra/all-kinds-table';
import { capture, configuredSecretArn, event, fakeRuntime, functionArn, queueUrl, routingOutputsFor, stack, stateMachineArn, topicArn } from './support';

const cfn = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

const API_KEY = 'api-key-value-never-printed';
const PASSWORD = 'password-never-printed';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}
let server: Server;
let received: Received[];
let status: number;
let endpoint: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let log: string[];

beforeEach(() => {
  for (const mock of [cfn, sqs, lambda, sfn, sns, events, secrets]) mock.reset();
  received = [];
  status = 200;
  log = [];
  deployed({ configured: false });
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
  sqs.on(DeleteMessageCommand).callsFake((input: { QueueUrl: string; ReceiptHandle: string }) => {
    log.push(`delete ${input.ReceiptHandle}`);
    return {};
  });
  sqs.on(ChangeMessageVisibilityCommand).callsFake((input: { ReceiptHandle: string }) => {
    log.push(`visible ${input.ReceiptHandle}`);
    return {};
  });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'new' });
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
  sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  secrets.on(GetSecretValueCommand, { SecretId: ALL_KINDS.apiKeySecretArn }).resolves({ SecretString: API_KEY });
  secrets.on(GetSecretValueCommand, { SecretId: configuredSecretArn('announce', 'chat') }).resolves({ SecretString: PASSWORD });
  events.on(DescribeApiDestinationCommand).resolves({ InvocationEndpoint: endpoint, HttpMethod: 'POST' });
});

function deployed(options: { configured: boolean }): void {
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputsFor(allKindsTable, options)));
}

const run = async (...argv: string[]) => {
  const captured = capture();
  const code = await runCli(createDlqCommands(fakeRuntime().runtime, allKindsTable), argv, captured.io);
  return { code, ...captured };
};

/** One message in the queue at `url`, once; the queue looks empty afterwards. */
function deadLetter(url: string, body: string): void {
  sqs.on(GetQueueAttributesCommand, { QueueUrl: url }).resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
  sqs.on(ReceiveMessageCommand, { QueueUrl: url }).resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh-m1', Body: body }] }).resolves({});
}

const original = event('evt-7', 'file.uploaded');
const originalBody = JSON.stringify(original);

/** Every SDK call but the reads of the stack and of the dead-letter queue itself. */
function deliveries(): string[] {
  const of = (service: string, mock: { calls(): { args: unknown[] }[] }) =>
    mock.calls().map((call) => {
      const command = call.args[0] as { constructor: { name: string } };
      return `${service}:${command.constructor.name.replace(/Command$/, '')}`;
    });
  return [
    ...of('sqs', sqs).filter((call) => !['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'].includes(call)),
    ...of('lambda', lambda),
    ...of('states', sfn),
    ...of('sns', sns),
    ...of('events', events),
  ];
}

describe('dlq handles per target', () => {
  it('names each target queue <route>/<target>/<role>, with the roles its kind has', () => {
    expect(deadLetterQueues(allKindsTable).map((queue) => queue.name)).toEqual([
      'own/queue/target-dlq',
      'own/queue/buffer-dlq',
      'own/function/target-dlq',
      'own/function/on-failure',
      'own/workflow/target-dlq',
      'own/workflow/workflow-failures',
      'existing/queue/target-dlq',
      'existing/encrypted-queue/target-dlq',
      'existing/function/target-dlq',
      'existing/workflow/target-dlq',
      'fan-out/topic/target-dlq',
      'fan-out/topic/subscription-dlq',
      'fan-out/their-topic/target-dlq',
      'fan-out/bus/target-dlq',
      'webhooks/http/target-dlq',
      'announce/queue/target-dlq',
      'announce/queue/buffer-dlq',
      'announce/chat/target-dlq',
    ]);
  });

  it('an unknown handle is bad input (exit 2) that lists the valid ones, before any AWS call', async () => {
    const result = await run('dlq', 'peek', 'own/target-dlq');
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^error: unknown queue "own\/target-dlq"; valid names: own\/queue\/target-dlq, own\/queue\/buffer-dlq, /);
    expect(cfn.calls()).toHaveLength(0);
  });
});

describe('dlq list with targets from config', () => {
  it('lists a configured-off target as not deployed and reads none of its queues', async () => {
    const result = await run('dlq', 'list', '--depth-only');

    expect(result.code).toBe(0);
    const read = sqs.commandCalls(GetQueueAttributesCommand).map((call) => call.args[0].input.QueueUrl);
    expect(read).toHaveLength(17);
    expect(read).not.toContain(queueUrl('announce', 'chat', 'target-dlq'));
    expect(result.stdout()).not.toMatch(/^announce\/chat\//m);
    expect(result.stdout()).toContain(
      'not deployed: announce/chat is not deployed in dev-fastio-routing: it is deployed only when config announceUrl and announceSecretArn are set (cdk.json context or -c at deploy)',
    );
  });

  it('lists it like any other once the deployment has it', async () => {
    deployed({ configured: true });
    const result = await run('dlq', 'list', '--depth-only', '--json');

    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout()) as { name: string; depth?: number; deployed?: boolean }[];
    expect(rows).toHaveLength(18);
    expect(rows.find((row) => row.name === 'announce/chat/target-dlq')).toMatchObject({ depth: 0 });
    expect(rows.some((row) => row.deployed === false)).toBe(false);
  });

  it('peek of a configured-off target says so in one line (exit 1) and reads no queue', async () => {
    const result = await run('dlq', 'peek', 'announce/chat/target-dlq');
    expect(result.code).toBe(1);
    expect(result.err).toEqual([
      'error: announce/chat is not deployed in dev-fastio-routing: it is deployed only when config announceUrl and announceSecretArn are set (cdk.json context or -c at deploy)',
    ]);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('dlq redrive delivers to that target alone', () => {
  it('own queue, target DLQ: to its buffer queue', async () => {
    deadLetter(queueUrl('own', 'queue', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'own/queue/target-dlq');

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: queueUrl('own', 'queue', 'buffer'), MessageBody: originalBody }]);
    expect(deliveries()).toEqual(['sqs:SendMessage']);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('own function, target DLQ: asynchronous Invoke of that function', async () => {
    deadLetter(queueUrl('own', 'function', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'own/function/target-dlq');

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input)).toEqual([{ FunctionName: functionArn('own', 'function'), InvocationType: 'Event', Payload: originalBody }]);
    expect(deliveries()).toEqual(['lambda:Invoke']);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('own workflow with an InputPath, target DLQ: StartExecution with the input applied to the original event', async () => {
    deadLetter(queueUrl('own', 'workflow', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'own/workflow/target-dlq');

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineArn: stateMachineArn('own', 'workflow'), input: JSON.stringify(original.detail) },
    ]);
    expect(deliveries()).toEqual(['states:StartExecution']);
  });

  it('own workflow with an InputPath, failure queue: the input it was given, unchanged (not an event)', async () => {
    const given = { eventId: 'evt-8', fileId: 'f-8' };
    deadLetter(queueUrl('own', 'workflow', 'workflow-failures'), JSON.stringify({ executionArn: 'arn:x', error: 'States.TaskFailed', cause: 'boom', input: given }));
    const result = await run('dlq', 'redrive', 'own/workflow/workflow-failures');

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([{ stateMachineArn: stateMachineArn('own', 'workflow'), input: JSON.stringify(given) }]);
  });

  it('queueArn: SendMessage to that queue', async () => {
    deadLetter(queueUrl('existing', 'queue', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'existing/queue/target-dlq');

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: `https://sqs.us-east-1.amazonaws.com/111122223333/their-queue`, MessageBody: originalBody },
    ]);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('functionArn: asynchronous Invoke of that function', async () => {
    deadLetter(queueUrl('existing', 'function', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'existing/function/target-dlq');

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input.FunctionName)).toEqual([ALL_KINDS.functionArn]);
    expect(deliveries()).toEqual(['lambda:Invoke']);
  });

  it('stateMachineArn: StartExecution of that state machine', async () => {
    deadLetter(queueUrl('existing', 'workflow', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'existing/workflow/target-dlq');

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([{ stateMachineArn: ALL_KINDS.stateMachineArn, input: originalBody }]);
  });

  it('created topic: Publish to that topic; existing topic: Publish to it', async () => {
    deadLetter(queueUrl('fan-out', 'topic', 'target-dlq'), originalBody);
    deadLetter(queueUrl('fan-out', 'their-topic', 'target-dlq'), originalBody);
    expect((await run('dlq', 'redrive', 'fan-out/topic/target-dlq')).code).toBe(0);
    expect((await run('dlq', 'redrive', 'fan-out/their-topic/target-dlq')).code).toBe(0);

    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      { TopicArn: topicArn('fan-out', 'topic'), Message: originalBody },
      { TopicArn: ALL_KINDS.topicArn, Message: originalBody },
    ]);
    expect(deliveries()).toEqual(['sns:Publish', 'sns:Publish']);
  });

  it('bus: PutEvents to the target bus, never to ours', async () => {
    deadLetter(queueUrl('fan-out', 'bus', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'fan-out/bus/target-dlq');

    expect(result.code).toBe(0);
    expect(events.commandCalls(PutEventsCommand).map((call) => call.args[0].input)).toEqual([
      {
        Entries: [
          { EventBusName: ALL_KINDS.eventBusArn, Source: 'fastio', DetailType: 'file.uploaded', Detail: JSON.stringify(original.detail), Resources: [], Time: new Date('2026-11-22T10:30:00Z') },
        ],
      },
    ]);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('bus: an entry PutEvents refuses stays in the queue', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    deadLetter(queueUrl('fan-out', 'bus', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'fan-out/bus/target-dlq');

    expect(result.code).toBe(1);
    expect(result.stderr()).toContain('failed: message m1: re-delivery failed: PutEvents refused the entry: AccessDeniedException: not authorized');
    expect(log).toEqual(['visible rh-m1']);
  });

  it('http: POSTs the transformed event to the API destination endpoint with the API key, which is never printed', async () => {
    deadLetter(queueUrl('webhooks', 'http', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'webhooks/http/target-dlq');

    expect(result.code).toBe(0);
    expect(events.commandCalls(DescribeApiDestinationCommand).map((call) => call.args[0].input)).toEqual([{ Name: 'dev-fastio-webhooks-http' }]);
    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: ALL_KINDS.apiKeySecretArn }]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/services/T000/B000/XXXX', body: JSON.stringify({ text: 'file.uploaded: f-evt-7' }) });
    expect(received[0]?.headers['x-api-key']).toBe(API_KEY);
    expect(received[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(log).toEqual(['delete rh-m1']);
    // The webhook URL's path authenticates too: only its origin is shown.
    expect(result.stdout()).toContain(`redrive webhooks/http/target-dlq → API destination dev-fastio-webhooks-http (POST ${new URL(endpoint).origin}/…)`);
    expect(`${result.stdout()}${result.stderr()}`).not.toContain(API_KEY);
    expect(`${result.stdout()}${result.stderr()}`).not.toContain('/services/T000');
  });

  it('http from config: basic auth with the deployed secret, the method the API destination has', async () => {
    deployed({ configured: true });
    events.on(DescribeApiDestinationCommand).resolves({ InvocationEndpoint: endpoint, HttpMethod: 'PUT' });
    deadLetter(queueUrl('announce', 'chat', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'announce/chat/target-dlq');

    expect(result.code).toBe(0);
    expect(received.map((request) => [request.method, request.headers.authorization, request.body])).toEqual([
      ['PUT', `Basic ${Buffer.from(`fastio:${PASSWORD}`).toString('base64')}`, originalBody],
    ]);
    expect(`${result.stdout()}${result.stderr()}`).not.toContain(PASSWORD);
  });

  it('http: a non-2xx answer leaves the message in the queue (exit 1)', async () => {
    status = 500;
    deadLetter(queueUrl('webhooks', 'http', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'webhooks/http/target-dlq');

    expect(result.code).toBe(1);
    expect(received).toHaveLength(1);
    expect(result.stderr()).toContain(`failed: message m1: re-delivery failed: ${new URL(endpoint).origin}/… answered HTTP 500`);
    expect(log).toEqual(['visible rh-m1']);
  });

  it('a subscription DLQ is refused in one line before any AWS call, and its messages stay', async () => {
    const result = await run('dlq', 'redrive', 'fan-out/topic/subscription-dlq');

    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^error: fan-out\/topic\/subscription-dlq cannot be redriven: a subscription DLQ does not record which of the topic's subscriptions failed/);
    expect(cfn.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('peek of a subscription DLQ shows the event inside the SNS notification', async () => {
    const notification = JSON.stringify({ Type: 'Notification', MessageId: 'sns-9', TopicArn: topicArn('fan-out', 'topic'), Message: originalBody });
    sqs.on(ReceiveMessageCommand, { QueueUrl: queueUrl('fan-out', 'topic', 'subscription-dlq') }).resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh-m1', Body: notification }] }).resolves({});
    const result = await run('dlq', 'peek', 'fan-out/topic/subscription-dlq', '--json');

    expect(result.code).toBe(0);
    const view = (JSON.parse(result.stdout()) as { messages: { event: unknown; failure: Record<string, string> }[] }).messages[0];
    expect(view?.event).toEqual(original);
    expect(view?.failure).toMatchObject({ topicArn: topicArn('fan-out', 'topic'), snsMessageId: 'sns-9' });
    expect(log).toEqual(['visible rh-m1']);
  });
});
