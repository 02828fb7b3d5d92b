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
import type { Route } from '../../lib/route-table';
import { ARNS, allKindsTable as sharedTable } from '../infra/all-kinds-table';
import { capture, configuredSecretArn, event, fakeRuntime, functionArn, queueUrl, routingOutputsFor, stack, stateMachineArn, topicArn } from './support';

const cfn = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

/** The shared table, plus a route whose http target takes its URL and secret from config and an own target with an input. */
const allKindsTable: readonly Route[] = [
  ...sharedTable,
  {
    name: 'announce',
    description: 'An own workflow with an InputPath, and an http target off unless announceUrl and announceSecretArn are set.',
    pattern: { source: ['fastio'], 'detail-type': ['file.moved'] },
    targets: [
      { kind: 'workflow', workflow: 'review', input: { path: '$.detail' } },
      { name: 'chat', kind: 'http', url: { fromConfig: 'announceUrl' }, method: 'PUT', authorization: { type: 'basic', username: 'fastio', passwordSecretArn: { fromConfig: 'announceSecretArn' } } },
    ],
    samples: sharedTable[0]!.samples,
  },
];

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
  secrets.on(GetSecretValueCommand, { SecretId: ARNS.apiKeySecret }).resolves({ SecretString: API_KEY });
  secrets.on(GetSecretValueCommand, { SecretId: configuredSecretArn('announce', 'chat') }).resolves({ SecretString: PASSWORD });
  events.on(DescribeApiDestinationCommand).resolves({ InvocationEndpoint: endpoint, HttpMethod: 'POST' });
});

function deployed(options: { configured: boolean }): void {
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputsFor(allKindsTable, options)));
}

const run = async (...argv: string[]) => runWith(fetch, ...argv);
const runWith = async (fetchFn: typeof fetch, ...argv: string[]) => {
  const captured = capture();
  const code = await runCli(createDlqCommands({ ...fakeRuntime().runtime, fetch: fetchFn }, allKindsTable), argv, captured.io);
  return { code, ...captured };
};

/** One message in the queue at `url`, once; the queue looks empty afterwards. */
function deadLetter(url: string, body: string): void {
  sqs.on(GetQueueAttributesCommand, { QueueUrl: url }).resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
  sqs.on(ReceiveMessageCommand, { QueueUrl: url }).resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh-m1', Body: body }] }).resolves({});
}

const original = event('evt-7', 'file.uploaded', { fileName: 'demo.mp4' });
/** What the shared table's TRANSFORMER makes of it. */
const transformed = JSON.stringify({ file: 'demo.mp4', workspace: 'ws-1' });
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
      'own-kinds/queue/target-dlq',
      'own-kinds/queue/buffer-dlq',
      'own-kinds/function/target-dlq',
      'own-kinds/function/on-failure',
      'own-kinds/workflow/target-dlq',
      'own-kinds/workflow/workflow-failures',
      'own-kinds/teams/target-dlq',
      'arn-kinds/plain-queue/target-dlq',
      'arn-kinds/managed-queue/target-dlq',
      'arn-kinds/kms-queue/target-dlq',
      'arn-kinds/function/target-dlq',
      'arn-kinds/workflow/target-dlq',
      'fan-out-kinds/existing-topic/target-dlq',
      'fan-out-kinds/new-topic/target-dlq',
      'fan-out-kinds/new-topic/subscription-dlq',
      'fan-out-kinds/slack/target-dlq',
      'fan-out-kinds/crm/target-dlq',
      'fan-out-kinds/bus/target-dlq',
      'announce/workflow/target-dlq',
      'announce/workflow/workflow-failures',
      'announce/chat/target-dlq',
    ]);
  });

  it('an unknown handle is bad input (exit 2) that lists the valid ones, before any AWS call', async () => {
    const result = await run('dlq', 'peek', 'own-kinds/target-dlq');
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^error: unknown queue "own-kinds\/target-dlq"; valid names: own-kinds\/queue\/target-dlq, own-kinds\/queue\/buffer-dlq, /);
    expect(cfn.calls()).toHaveLength(0);
  });
});

describe('dlq list with targets from config', () => {
  it('lists a configured-off target as not deployed and reads none of its queues', async () => {
    const result = await run('dlq', 'list', '--depth-only');

    expect(result.code).toBe(0);
    const read = sqs.commandCalls(GetQueueAttributesCommand).map((call) => call.args[0].input.QueueUrl);
    expect(read).toHaveLength(20);
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
    expect(rows).toHaveLength(21);
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
    deadLetter(queueUrl('own-kinds', 'queue', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'own-kinds/queue/target-dlq');

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: queueUrl('own-kinds', 'queue', 'buffer'), MessageBody: originalBody }]);
    expect(deliveries()).toEqual(['sqs:SendMessage']);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('own function, target DLQ: asynchronous Invoke of that function', async () => {
    deadLetter(queueUrl('own-kinds', 'function', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'own-kinds/function/target-dlq');

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input)).toEqual([
      { FunctionName: functionArn('own-kinds', 'function'), InvocationType: 'Event', Payload: originalBody },
    ]);
    expect(deliveries()).toEqual(['lambda:Invoke']);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('own workflow with an InputPath, target DLQ: StartExecution with the input applied to the original event', async () => {
    deadLetter(queueUrl('announce', 'workflow', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'announce/workflow/target-dlq');

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineArn: stateMachineArn('announce', 'workflow'), input: JSON.stringify(original.detail) },
    ]);
    expect(deliveries()).toEqual(['states:StartExecution']);
  });

  it('own workflow with an InputPath, failure queue: the input it was given, unchanged (not an event)', async () => {
    const given = { eventId: 'evt-8', fileId: 'f-8' };
    deadLetter(queueUrl('announce', 'workflow', 'workflow-failures'), JSON.stringify({ executionArn: 'arn:x', error: 'States.TaskFailed', cause: 'boom', input: given }));
    const result = await run('dlq', 'redrive', 'announce/workflow/workflow-failures');

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([{ stateMachineArn: stateMachineArn('announce', 'workflow'), input: JSON.stringify(given) }]);
  });

  it('queueArn: SendMessage to that queue; with an InputTransformer, the rendered template', async () => {
    deadLetter(queueUrl('arn-kinds', 'managed-queue', 'target-dlq'), originalBody);
    deadLetter(queueUrl('arn-kinds', 'plain-queue', 'target-dlq'), originalBody);
    expect((await run('dlq', 'redrive', 'arn-kinds/managed-queue/target-dlq')).code).toBe(0);
    expect((await run('dlq', 'redrive', 'arn-kinds/plain-queue/target-dlq')).code).toBe(0);

    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/managed-queue', MessageBody: originalBody },
      { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/plain-queue', MessageBody: transformed },
    ]);
    expect(log).toEqual(['delete rh-m1', 'delete rh-m1']);
  });

  it('functionArn with an InputPath: asynchronous Invoke of that function with the selected value', async () => {
    deadLetter(queueUrl('arn-kinds', 'function', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'arn-kinds/function/target-dlq');

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input)).toEqual([
      { FunctionName: ARNS.function, InvocationType: 'Event', Payload: JSON.stringify(original.detail) },
    ]);
    expect(deliveries()).toEqual(['lambda:Invoke']);
  });

  it('stateMachineArn: StartExecution of that state machine', async () => {
    deadLetter(queueUrl('arn-kinds', 'workflow', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'arn-kinds/workflow/target-dlq');

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([{ stateMachineArn: ARNS.stateMachine, input: originalBody }]);
  });

  it('created topic (InputPath): Publish the selected value to that topic; existing topic: Publish the event to it', async () => {
    deadLetter(queueUrl('fan-out-kinds', 'new-topic', 'target-dlq'), originalBody);
    deadLetter(queueUrl('fan-out-kinds', 'existing-topic', 'target-dlq'), originalBody);
    expect((await run('dlq', 'redrive', 'fan-out-kinds/new-topic/target-dlq')).code).toBe(0);
    expect((await run('dlq', 'redrive', 'fan-out-kinds/existing-topic/target-dlq')).code).toBe(0);

    expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
      { TopicArn: topicArn('fan-out-kinds', 'new-topic'), Message: JSON.stringify(original.detail) },
      { TopicArn: ARNS.topic, Message: originalBody },
    ]);
    expect(deliveries()).toEqual(['sns:Publish', 'sns:Publish']);
  });

  it('bus: PutEvents to the target bus, never to ours', async () => {
    deadLetter(queueUrl('fan-out-kinds', 'bus', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'fan-out-kinds/bus/target-dlq');

    expect(result.code).toBe(0);
    expect(events.commandCalls(PutEventsCommand).map((call) => call.args[0].input)).toEqual([
      {
        Entries: [{ EventBusName: ARNS.bus, Source: 'fastio', DetailType: 'file.uploaded', Detail: JSON.stringify(original.detail), Resources: [], Time: new Date('2026-11-22T10:30:00Z') }],
      },
    ]);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('bus: an entry PutEvents refuses stays in the queue', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }] });
    deadLetter(queueUrl('fan-out-kinds', 'bus', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'fan-out-kinds/bus/target-dlq');

    expect(result.code).toBe(1);
    expect(result.stderr()).toContain('failed: message m1: re-delivery failed: PutEvents refused the entry: AccessDeniedException: not authorized');
    expect(log).toEqual(['visible rh-m1']);
  });

  it('http: POSTs the transformed event to the API destination endpoint with the API key, which is never printed', async () => {
    deadLetter(queueUrl('fan-out-kinds', 'slack', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'fan-out-kinds/slack/target-dlq');

    expect(result.code).toBe(0);
    expect(events.commandCalls(DescribeApiDestinationCommand).map((call) => call.args[0].input)).toEqual([{ Name: 'dev-fastio-fan-out-kinds-slack' }]);
    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: ARNS.apiKeySecret }]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/services/T000/B000/XXXX', body: transformed });
    expect(received[0]?.headers['x-api-key']).toBe(API_KEY);
    expect(received[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    // the same Idempotency-Key the rule sends, so a receiver that took the first attempt drops this one
    expect(received[0]?.headers['idempotency-key']).toBe('evt-7');
    expect(log).toEqual(['delete rh-m1']);
    // The webhook URL's path authenticates too: only its origin is shown.
    expect(result.stdout()).toContain(`redrive fan-out-kinds/slack/target-dlq → API destination dev-fastio-fan-out-kinds-slack (POST ${new URL(endpoint).origin}/…)`);
    expect(`${result.stdout()}${result.stderr()}`).not.toContain(API_KEY);
    expect(`${result.stdout()}${result.stderr()}`).not.toContain('/services/T000');
  });

  it('http from config: basic auth with the deployed secret, the method the API destination has', async () => {
    deployed({ configured: true });
    events.on(DescribeApiDestinationCommand).resolves({ InvocationEndpoint: endpoint, HttpMethod: 'PUT' });
    deadLetter(queueUrl('announce', 'chat', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'announce/chat/target-dlq');

    expect(result.code).toBe(0);
    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: configuredSecretArn('announce', 'chat') }]);
    expect(received.map((request) => [request.method, request.headers.authorization, request.body])).toEqual([
      ['PUT', `Basic ${Buffer.from(`fastio:${PASSWORD}`).toString('base64')}`, originalBody],
    ]);
    expect(`${result.stdout()}${result.stderr()}`).not.toContain(PASSWORD);
  });

  it('http with OAuth client credentials: a token from the token URL first, then the call with it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARNS.clientSecret }).resolves({ SecretString: 'client-secret' });
    events.on(DescribeApiDestinationCommand).resolves({ InvocationEndpoint: 'https://api.example.com/events', HttpMethod: 'PUT' });
    const calls: { url: string; method?: string; headers: Record<string, string>; body: string }[] = [];
    const recording: typeof fetch = async (url, init) => {
      calls.push({ url: String(url), method: init?.method, headers: init?.headers as Record<string, string>, body: String(init?.body) });
      return String(url).startsWith('https://auth.') ? Response.json({ access_token: 'token-1', token_type: 'Bearer' }) : new Response(null, { status: 202 });
    };
    deadLetter(queueUrl('fan-out-kinds', 'crm', 'target-dlq'), originalBody);
    const result = await runWith(recording, 'dlq', 'redrive', 'fan-out-kinds/crm/target-dlq');

    expect(result.code).toBe(0);
    expect(calls.map((call) => [call.method, call.url])).toEqual([
      ['POST', 'https://auth.example.com/oauth/token'],
      ['PUT', 'https://api.example.com/events'],
    ]);
    expect(calls[0]?.headers.authorization).toBe(`Basic ${Buffer.from('fastio:client-secret').toString('base64')}`);
    expect(calls[0]?.body).toBe('grant_type=client_credentials&scope=events.write');
    expect(calls[1]?.headers.authorization).toBe('Bearer token-1');
    expect(calls[1]?.body).toBe(originalBody);
    expect(log).toEqual(['delete rh-m1']);
  });

  it('http: a non-2xx answer leaves the message in the queue (exit 1)', async () => {
    status = 500;
    deadLetter(queueUrl('fan-out-kinds', 'slack', 'target-dlq'), originalBody);
    const result = await run('dlq', 'redrive', 'fan-out-kinds/slack/target-dlq');

    expect(result.code).toBe(1);
    expect(received).toHaveLength(1);
    expect(result.stderr()).toContain(`failed: message m1: re-delivery failed: ${new URL(endpoint).origin}/… answered HTTP 500`);
    expect(log).toEqual(['visible rh-m1']);
  });

  it('a subscription DLQ is refused in one line before any AWS call, and its messages stay', async () => {
    const result = await run('dlq', 'redrive', 'fan-out-kinds/new-topic/subscription-dlq');

    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^error: fan-out-kinds\/new-topic\/subscription-dlq cannot be redriven: a subscription DLQ does not record which of the topic's subscriptions failed/);
    expect(cfn.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('peek of a subscription DLQ shows the message inside the SNS notification', async () => {
    const notification = JSON.stringify({ Type: 'Notification', MessageId: 'sns-9', TopicArn: topicArn('fan-out-kinds', 'new-topic'), Message: originalBody });
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: queueUrl('fan-out-kinds', 'new-topic', 'subscription-dlq') })
      .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'rh-m1', Body: notification }] })
      .resolves({});
    const result = await run('dlq', 'peek', 'fan-out-kinds/new-topic/subscription-dlq', '--json');

    expect(result.code).toBe(0);
    const view = (JSON.parse(result.stdout()) as { messages: { event: unknown; failure: Record<string, string> }[] }).messages[0];
    expect(view?.event).toEqual(original);
    expect(view?.failure).toMatchObject({ topicArn: topicArn('fan-out-kinds', 'new-topic'), snsMessageId: 'sns-9' });
    expect(log).toEqual(['visible rh-m1']);
  });
});
