import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createDlqCommands, PEEK_VISIBILITY_SECONDS, REDRIVE_VISIBILITY_SECONDS } from '../../lib/ops/dlq-commands';
import { NOW, awsError, capture, event, fakeRuntime, functionArn, queueArn, queueUrl, routingOutputs, stack, stateMachineArn, type FakeRuntime } from './support';

const cfn = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);

let fake: FakeRuntime;
/** The order in which the AWS side saw re-deliveries, deletes and visibility changes. */
let log: string[];

const run = async (argv: string[], interactive = false) => {
  const captured = capture(interactive);
  const code = await runCli(createDlqCommands(fake.runtime), argv, captured.io);
  return { code, ...captured };
};

const depth = (visible: number, inFlight = 0) => ({
  Attributes: { ApproximateNumberOfMessages: String(visible), ApproximateNumberOfMessagesNotVisible: String(inFlight) },
});

function message(id: string, body: string, extra: Partial<Message> = {}): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: body,
    Attributes: { SentTimestamp: String(NOW.getTime() - 2 * 3_600_000), ApproximateReceiveCount: '1' },
    ...extra,
  };
}

const stringAttribute = (value: string) => ({ DataType: 'String', StringValue: value });
const targetDlqAttributes = {
  RULE_ARN: stringAttribute('arn:aws:events:eu-west-1:123456789012:rule/dev-fastio/agent-activity-rule'),
  TARGET_ARN: stringAttribute(functionArn('agent-activity', 'function')),
  ERROR_CODE: stringAttribute('SDK_CLIENT_ERROR'),
  ERROR_MESSAGE: stringAttribute('Unable to invoke Lambda function: Rate Exceeded'),
  EXHAUSTED_RETRY_CONDITION: stringAttribute('MaximumRetryAttempts'),
  RETRY_ATTEMPTS: stringAttribute('8'),
};

/** A Lambda on-failure destination record for an async invocation. */
const onFailureRecord = (original: Record<string, unknown>) =>
  JSON.stringify({
    version: '1.0',
    timestamp: '2026-11-22T10:31:00.000Z',
    requestContext: { requestId: 'req-1', functionArn: `${functionArn('agent-activity', 'function')}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: original,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'FastioEventError', errorMessage: 'detail.agentId is missing' },
  });

const workflowFailure = (original: Record<string, unknown>) =>
  JSON.stringify({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:review:abc', error: 'DynamoDB.AmazonDynamoDBException', cause: 'table not found', input: original });

beforeEach(() => {
  cfn.reset();
  sqs.reset();
  lambda.reset();
  sfn.reset();
  fake = fakeRuntime();
  log = [];
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputs));
  sqs.on(GetQueueAttributesCommand).resolves(depth(0));
  sqs.on(DeleteMessageCommand).callsFake((input: { ReceiptHandle: string }) => {
    log.push(`delete ${input.ReceiptHandle}`);
    return {};
  });
  sqs.on(ChangeMessageVisibilityCommand).callsFake((input: { ReceiptHandle: string; VisibilityTimeout: number }) => {
    log.push(`visible ${input.ReceiptHandle} ${input.VisibilityTimeout}`);
    return {};
  });
  sqs.on(SendMessageCommand).callsFake((input: { QueueUrl: string; MessageBody: string }) => {
    log.push(`send ${JSON.parse(input.MessageBody).detail.eventId}`);
    return { MessageId: 'new' };
  });
  lambda.on(InvokeCommand).callsFake((input: { Payload: string }) => {
    log.push(`invoke ${JSON.parse(input.Payload).detail.eventId}`);
    return { StatusCode: 202 };
  });
  sfn.on(StartExecutionCommand).callsFake((input: { input: string }) => {
    log.push(`start ${JSON.parse(input.input).detail.eventId}`);
    return { executionArn: 'arn:exec', startDate: NOW };
  });
});

describe('dlq list', () => {
  it('shows every DLQ of the deployment with its depth and an honestly labelled oldest age', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: queueUrl('documents', 'queue', 'buffer-dlq') }).resolves(depth(12, 1));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: queueUrl('agent-activity', 'function', 'on-failure') }).resolves(depth(2));
    sqs.on(ReceiveMessageCommand, { QueueUrl: queueUrl('documents', 'queue', 'buffer-dlq') }).resolves({
      Messages: [
        message('a', '{}', { Attributes: { SentTimestamp: String(NOW.getTime() - 3_600_000) } }),
        message('b', '{}', { Attributes: { SentTimestamp: String(NOW.getTime() - 7_500_000) } }),
      ],
    });
    sqs.on(ReceiveMessageCommand, { QueueUrl: queueUrl('agent-activity', 'function', 'on-failure') }).resolves({
      Messages: [message('c', '{}', { Attributes: { SentTimestamp: String(NOW.getTime() - 600_000) } }), message('d', '{}')],
    });
    const result = await run(['dlq', 'list']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(GetQueueAttributesCommand)).toHaveLength(10);
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input).toEqual({
      QueueUrl: queueUrl('documents', 'queue', 'target-dlq'),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    });
    // Only non-empty queues are looked at, and looking hides nothing (VisibilityTimeout 0).
    const receives = sqs.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input);
    expect(receives).toEqual([
      { QueueUrl: queueUrl('documents', 'queue', 'buffer-dlq'), MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['SentTimestamp'] },
      { QueueUrl: queueUrl('agent-activity', 'function', 'on-failure'), MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['SentTimestamp'] },
    ]);
    const row = (name: string) => result.out.find((line) => line.startsWith(`${name} `)) ?? '';
    expect(row('documents/queue/target-dlq')).toMatch(/documents\/queue\/target-dlq\s+0\s+0\s+0\s+-$/);
    expect(row('documents/queue/buffer-dlq')).toMatch(/\s+13\s+12\s+1\s+≥ 2h 05m \(oldest of 2 seen\)$/);
    expect(row('agent-activity/function/on-failure')).toMatch(/\s+2\s+2\s+0\s+2h 00m$/);
    expect(result.stdout()).toContain('15 dead letters in 2 queues');
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it('--depth-only receives nothing; --json gives machine-readable rows', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: queueUrl('large-media', 'workflow', 'workflow-failures') }).resolves(depth(3));
    const result = await run(['dlq', 'list', '--depth-only', '--json']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
    const rows = JSON.parse(result.stdout()) as { name: string; depth: number; oldestAgeSeconds: number | null }[];
    expect(rows.map((row) => row.name)).toEqual([
      'documents/queue/target-dlq',
      'documents/queue/buffer-dlq',
      'large-media/workflow/target-dlq',
      'large-media/workflow/workflow-failures',
      'agent-activity/function/target-dlq',
      'agent-activity/function/on-failure',
      'untrusted-agent-deletions/workflow/target-dlq',
      'untrusted-agent-deletions/workflow/workflow-failures',
      'video-uploads/catalog/target-dlq',
      'video-uploads/catalog/buffer-dlq',
      'video-uploads/slack',
    ]);
    expect(rows[3]).toMatchObject({ depth: 3, oldestAgeSeconds: null });
  });

  it('reports a queue it cannot read and exits 1 rather than a silent partial list', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: queueUrl('documents', 'queue', 'buffer-dlq') }).rejects(awsError('AccessDenied', 'not authorized to perform sqs:GetQueueAttributes'));
    const result = await run(['dlq', 'list', '--depth-only']);

    expect(result.code).toBe(1);
    expect(result.stdout()).toMatch(/documents\/queue\/buffer-dlq\s+unavailable: AccessDenied: not authorized to perform sqs:GetQueueAttributes/);
    expect(result.stdout()).toContain('0 dead letters in 0 queues and 1 queue(s) unreadable');
    expect(result.err).toEqual(['error: 1 of 10 queues could not be read: documents/queue/buffer-dlq']);
  });

  it('explains a missing stack in one line (exit 1)', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id dev-fastio-routing does not exist'));
    const result = await run(['dlq', 'list']);

    expect(result.code).toBe(1);
    expect(result.err).toEqual(['error: stack dev-fastio-routing not found: deploy first or pass --stage']);
  });

  it('reads the stage given with --stage', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'prod-fastio-routing' }).resolves(stack('prod-fastio-routing', routingOutputs));
    const result = await run(['dlq', 'list', '--stage', 'prod']);
    expect(result.code).toBe(0);
    expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({ StackName: 'prod-fastio-routing' });
  });
});

describe('dlq peek', () => {
  it("shows EventBridge's error attributes of a target DLQ and leaves the messages in place", async () => {
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message('m1', JSON.stringify(event('evt-1')), { MessageAttributes: targetDlqAttributes })] }).resolves({});
    const result = await run(['dlq', 'peek', 'agent-activity/function/target-dlq', '-n', '5']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: queueUrl('agent-activity', 'function', 'target-dlq'),
      MaxNumberOfMessages: 5,
      VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    });
    expect(log).toEqual(['visible rh-m1 0']);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    const text = result.stdout();
    expect(text).toContain('agent-activity/function/target-dlq: 1 message (left in place)');
    expect(text).toContain('#1 message m1 sent 2026-11-22T10:00:00.000Z (2h 00m ago)');
    expect(text).toContain('event    file.uploaded evt-1 (id id-evt-1, time 2026-11-22T10:30:00Z)');
    expect(text).toContain('rule     arn:aws:events:eu-west-1:123456789012:rule/dev-fastio/agent-activity-rule');
    expect(text).toContain(`target   ${functionArn('agent-activity', 'function')}`);
    expect(text).toContain('code     SDK_CLIENT_ERROR');
    expect(text).toContain('error    Unable to invoke Lambda function: Rate Exceeded');
    expect(text).toContain('gave up  MaximumRetryAttempts');
    expect(text).toContain('retries  8');
  });

  it("shows the Lambda destination record's condition and error for the on-failure queue (JSON)", async () => {
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message('m1', onFailureRecord(event('evt-7')))] }).resolves({});
    const result = await run(['dlq', 'peek', 'agent-activity/function/on-failure', '--json']);

    expect(result.code).toBe(0);
    const peeked = JSON.parse(result.stdout()) as { messages: { failure: Record<string, string>; event: { detail: { eventId: string } } }[] };
    expect(peeked.messages[0]?.failure).toEqual({
      condition: 'RetriesExhausted',
      approximateInvokeCount: '3',
      functionArn: `${functionArn('agent-activity', 'function')}:$LATEST`,
      functionError: 'Unhandled',
      errorType: 'FastioEventError',
      errorMessage: 'detail.agentId is missing',
    });
    expect(peeked.messages[0]?.event.detail.eventId).toBe('evt-7');
  });

  it('shows the error and cause of a workflow failure, and collects several batches without duplicates', async () => {
    const first = Array.from({ length: 10 }, (_, i) => message(`w${i}`, workflowFailure(event(`evt-${i}`))));
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: first }).resolvesOnce({ Messages: [message('w10', workflowFailure(event('evt-10'))), first[0] as Message] }).resolves({});
    const result = await run(['dlq', 'peek', 'large-media/workflow/workflow-failures', '-n', '12']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.MaxNumberOfMessages)).toEqual([10, 2, 1]);
    expect(result.stdout()).toContain('large-media/workflow/workflow-failures: 11 messages (left in place)');
    expect(result.stdout()).toContain('error    DynamoDB.AmazonDynamoDBException');
    expect(result.stdout()).toContain('cause    table not found');
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(12);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('exits 1 when a peeked message could not be made visible again, and says when it comes back', async () => {
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message('m1', JSON.stringify(event('evt-1')))] }).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).rejects(awsError('ReceiptHandleIsInvalid', 'gone'));
    const result = await run(['dlq', 'peek', 'documents/queue/buffer-dlq']);

    expect(result.code).toBe(1);
    expect(result.err).toEqual([`error: 1 peeked message(s) could not be made visible again: they reappear by themselves within ${PEEK_VISIBILITY_SECONDS} s`]);
  });

  it('refuses an unknown queue and lists the valid names (exit 2, no AWS call)', async () => {
    const result = await run(['dlq', 'peek', 'documents/dlq']);
    expect(result.code).toBe(2);
    expect(result.err[0]).toBe(
      'error: unknown queue "documents/dlq"; valid names: documents/queue/target-dlq, documents/queue/buffer-dlq, large-media/workflow/target-dlq, large-media/workflow/workflow-failures, agent-activity/function/target-dlq, agent-activity/function/on-failure, untrusted-agent-deletions/workflow/target-dlq, untrusted-agent-deletions/workflow/workflow-failures, video-uploads/catalog/target-dlq, video-uploads/catalog/buffer-dlq, video-uploads/slack/target-dlq',
    );
    expect(cfn.calls()).toHaveLength(0);
  });

  it('never shows more than -n even if SQS returned more', async () => {
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [1, 2, 3].map((n) => message(`m${n}`, JSON.stringify(event(`evt-${n}`)))) });
    const result = await run(['dlq', 'peek', 'documents/queue/buffer-dlq', '-n', '1']);

    expect(result.code).toBe(0);
    expect(result.stdout()).toContain('documents/queue/buffer-dlq: 1 message (left in place)');
    expect(result.stdout()).toContain('why      the consumer failed it 5 times');
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(3);
  });

  it('refuses a bad -n (exit 2)', async () => {
    const result = await run(['dlq', 'peek', 'documents/queue/buffer-dlq', '-n', '0']);
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['error: -n must be an integer from 1 to 100, got "0"']);
  });
});

describe('dlq redrive of a buffer DLQ (SQS message move task)', () => {
  it('starts a move task from the DLQ to its buffer queue at the given rate and watches it finish', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(40));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 10, ApproximateNumberOfMessagesToMove: 40 }] })
      .resolvesOnce({ Results: [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 30, ApproximateNumberOfMessagesToMove: 40 }] })
      .resolvesOnce({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 40, ApproximateNumberOfMessagesToMove: 40 }] });
    const result = await run(['dlq', 'redrive', 'documents/queue/buffer-dlq', '--rate', '10', '--wait']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: queueArn('documents', 'queue', 'buffer-dlq'),
      DestinationArn: queueArn('documents', 'queue', 'buffer'),
      MaxNumberOfMessagesPerSecond: 10,
    });
    const polls = sqs.commandCalls(ListMessageMoveTasksCommand);
    expect(polls).toHaveLength(3);
    expect(polls[0]?.args[0].input).toEqual({ SourceArn: queueArn('documents', 'queue', 'buffer-dlq'), MaxResults: 1 });
    expect(fake.sleeps).toEqual([5_000, 5_000]);
    // Off a terminal, only the finished bar.
    expect(result.err.filter((line) => line.startsWith('redrive documents/queue/buffer-dlq ['))).toHaveLength(1);
    expect(result.stdout()).toContain('moved 40 / failed 0 / left ≈ 0 in the queue');
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('exits 1 with the failure reason when the move task fails', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(5));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 2, ApproximateNumberOfMessagesToMove: 5, FailureReason: 'AWS.SimpleQueueService.NonExistentQueue' }],
    });
    const result = await run(['dlq', 'redrive', 'documents/queue/buffer-dlq', '--wait']);

    expect(result.code).toBe(1);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: queueArn('documents', 'queue', 'buffer-dlq'),
      DestinationArn: queueArn('documents', 'queue', 'buffer'),
    });
    expect(result.stdout()).toContain('moved 2 / failed 0 / left ≈ 3 in the queue');
    expect(result.err.at(-1)).toContain('message move task FAILED: AWS.SimpleQueueService.NonExistentQueue');
  });

  it('without --wait says plainly that it did not wait', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(5));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    const result = await run(['dlq', 'redrive', 'documents/queue/buffer-dlq']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)).toHaveLength(0);
    expect(result.stdout()).toContain('not waited for (add --wait to watch it finish)');
  });

  it('with --max re-delivers that many messages one by one to the buffer queue instead', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(depth(50));
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message('b1', JSON.stringify(event('evt-1'))), message('b2', JSON.stringify(event('evt-2')))] });
    const result = await run(['dlq', 'redrive', 'documents/queue/buffer-dlq', '--max', '2']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MaxNumberOfMessages).toBe(2);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.QueueUrl)).toEqual([queueUrl('documents', 'queue', 'buffer'), queueUrl('documents', 'queue', 'buffer')]);
    expect(log).toEqual(['send evt-1', 'delete rh-b1', 'send evt-2', 'delete rh-b2']);
  });

  it('says so when the DLQ is empty and makes no move', async () => {
    const result = await run(['dlq', 'redrive', 'documents/queue/buffer-dlq']);
    expect(result.code).toBe(0);
    expect(result.out).toEqual(['documents/queue/buffer-dlq is empty: nothing to redrive']);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });
});

describe('dlq redrive by re-delivery to the failed target', () => {
  const receiveOnce = (messages: Message[]) => sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({});

  it('queue route target DLQ: SendMessage of the unchanged event to the buffer queue, then delete', async () => {
    const body = JSON.stringify(event('evt-1'));
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(1)).resolves(depth(0));
    receiveOnce([message('m1', body, { MessageAttributes: targetDlqAttributes })]);
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: queueUrl('documents', 'queue', 'target-dlq'),
      MaxNumberOfMessages: 1,
      VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
    });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: queueUrl('documents', 'queue', 'buffer'), MessageBody: body });
    expect(sqs.commandCalls(DeleteMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: queueUrl('documents', 'queue', 'target-dlq'), ReceiptHandle: 'rh-m1' });
    expect(log).toEqual(['send evt-1', 'delete rh-m1']);
    expect(result.stdout()).toContain(`redrive documents/queue/target-dlq → buffer queue ${queueUrl('documents', 'queue', 'buffer')}`);
    expect(result.stdout()).toContain('moved 1 / failed 0 / left ≈ 0 in the queue');
  });

  it('function route target DLQ: asynchronous Invoke with the event as payload', async () => {
    const body = JSON.stringify(event('evt-2', 'file.created', { agentId: 'agent-7' }));
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(1)).resolves(depth(0));
    receiveOnce([message('m1', body, { MessageAttributes: targetDlqAttributes })]);
    const result = await run(['dlq', 'redrive', 'agent-activity/function/target-dlq']);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toEqual({ FunctionName: functionArn('agent-activity', 'function'), InvocationType: 'Event', Payload: body });
    expect(log).toEqual(['invoke evt-2', 'delete rh-m1']);
  });

  it("Lambda on-failure queue: Invoke with the record's requestPayload", async () => {
    const original = event('evt-3', 'file.created', { agentId: 'agent-7' });
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(1)).resolves(depth(0));
    receiveOnce([message('m1', onFailureRecord(original))]);
    const result = await run(['dlq', 'redrive', 'agent-activity/function/on-failure']);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toEqual({
      FunctionName: functionArn('agent-activity', 'function'),
      InvocationType: 'Event',
      Payload: JSON.stringify(original),
    });
    expect(log).toEqual(['invoke evt-3', 'delete rh-m1']);
  });

  it("workflow failure queue: StartExecution with the failure message's input", async () => {
    const original = event('evt-4', 'file.uploaded', { extension: 'mp4', sizeBytes: 524_288_000 });
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(1)).resolves(depth(0));
    receiveOnce([message('m1', workflowFailure(original))]);
    const result = await run(['dlq', 'redrive', 'large-media/workflow/workflow-failures']);

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({ stateMachineArn: stateMachineArn('large-media', 'workflow'), input: JSON.stringify(original) });
    expect(log).toEqual(['start evt-4', 'delete rh-m1']);
  });

  it('workflow route target DLQ: StartExecution with the event itself', async () => {
    const body = JSON.stringify(event('evt-5', 'file.deleted', { agentId: 'agent-7' }));
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(1)).resolves(depth(0));
    receiveOnce([message('m1', body, { MessageAttributes: targetDlqAttributes })]);
    const result = await run(['dlq', 'redrive', 'untrusted-agent-deletions/workflow/target-dlq']);

    expect(result.code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({ stateMachineArn: stateMachineArn('untrusted-agent-deletions', 'workflow'), input: body });
  });

  it('a fault on the 2nd of 3 re-deliveries loses nothing: 1 and 3 deleted, 2 made visible again, exit 1', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(3)).resolves(depth(1));
    receiveOnce([1, 2, 3].map((n) => message(`m${n}`, onFailureRecord(event(`evt-${n}`, 'file.created', { agentId: 'agent-7' })))));
    lambda.on(InvokeCommand).callsFake((input: { Payload: string }) => {
      const eventId = JSON.parse(input.Payload).detail.eventId as string;
      log.push(`invoke ${eventId}`);
      if (eventId === 'evt-2') throw awsError('TooManyRequestsException', 'Rate exceeded');
      return { StatusCode: 202 };
    });
    const result = await run(['dlq', 'redrive', 'agent-activity/function/on-failure']);

    expect(result.code).toBe(1);
    expect(log).toEqual(['invoke evt-1', 'delete rh-m1', 'invoke evt-2', 'invoke evt-3', 'delete rh-m3', 'visible rh-m2 0']);
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle)).toEqual(['rh-m1', 'rh-m3']);
    expect(result.stdout()).toContain('moved 2 / failed 1 / left ≈ 1 in the queue');
    expect(result.stderr()).toContain('failed: message m2: re-delivery failed: TooManyRequestsException: Rate exceeded');
    expect(result.err.at(-1)).toBe(
      'error: 1 message could not be re-delivered and stays in agent-activity/function/on-failure; see why with: npm run -s ops -- dlq peek agent-activity/function/on-failure',
    );
  });

  it('--json summary lists the failures for scripts', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(2)).resolves(depth(1));
    receiveOnce([message('m1', 'not json'), message('m2', JSON.stringify(event('evt-2')))]);
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq', '--json']);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout())).toEqual({
      queue: 'documents/queue/target-dlq',
      mode: 'redeliver',
      destination: `buffer queue ${queueUrl('documents', 'queue', 'buffer')}`,
      moved: 1,
      failed: 1,
      left: 1,
      failures: [{ messageId: 'm1', reason: 'body is not a JSON object' }],
    });
    expect(log).toEqual(['send evt-2', 'delete rh-m2', 'visible rh-m1 0']);
  });

  it('an unreadable message is never re-delivered nor deleted', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(2)).resolves(depth(2));
    receiveOnce([message('m1', JSON.stringify({ hello: 'world' })), message('m2', JSON.stringify({ requestPayload: 'x' }))]);
    const result = await run(['dlq', 'redrive', 'agent-activity/function/on-failure']);

    expect(result.code).toBe(1);
    expect(lambda.calls()).toHaveLength(0);
    expect(log).toEqual(['visible rh-m1 0', 'visible rh-m2 0']);
    expect(result.stderr()).toContain('failed: message m1: Lambda failure record has no EventBridge event in requestPayload');
  });

  it('a message re-delivered but not deleted is counted failed, with what that means', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(1)).resolves(depth(1));
    receiveOnce([message('m1', workflowFailure(event('evt-1')))]);
    sqs.on(DeleteMessageCommand).rejects(awsError('ReceiptHandleIsInvalid', 'expired'));
    const result = await run(['dlq', 'redrive', 'large-media/workflow/workflow-failures']);

    expect(result.code).toBe(1);
    expect(result.stdout()).toContain('moved 0 / failed 1');
    expect(result.stderr()).toContain('re-delivered, but could not be deleted (ReceiptHandleIsInvalid: expired)');
  });

  it('the summary names the reason of each failed message under its count', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(2)).resolves(depth(1));
    receiveOnce([message('m1', 'not json'), message('m2', JSON.stringify(event('evt-2')))]);
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq']);

    expect(result.code).toBe(1);
    expect(result.out.slice(-2)).toEqual(['  moved 1 / failed 1 / left ≈ 1 in the queue', '  failed m1: body is not a JSON object']);
  });

  it('a failure that reappears in the same run is not retried or counted twice', async () => {
    const bad = message('m1', 'garbage');
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(3)).resolves(depth(1));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [bad] })
      .resolvesOnce({ Messages: [{ ...bad, ReceiptHandle: 'rh-m1-again' }] })
      .resolves({ Messages: [message('never', JSON.stringify(event('evt-9')))] });
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq']);

    expect(result.code).toBe(1);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    expect(result.stdout()).toContain('moved 0 / failed 1');
    expect(log).toEqual(['visible rh-m1 0', 'visible rh-m1-again 0']);
  });

  it('stops at what was in the queue at the start, in batches of at most 10', async () => {
    const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => message(`m${from + i}`, JSON.stringify(event(`evt-${from + i}`))));
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(12)).resolves(depth(3));
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: batch(1, 10) }).resolvesOnce({ Messages: batch(11, 2) }).resolves({ Messages: batch(13, 3) });
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq']);

    expect(result.code).toBe(0);
    expect(sqs.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input.MaxNumberOfMessages)).toEqual([10, 2]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(12);
    expect(result.stdout()).toContain('moved 12 / failed 0 / left ≈ 3 in the queue');
    // Off a terminal, only the finished bar.
    expect(result.err.filter((line) => line.startsWith('redrive documents/queue/target-dlq ['))).toEqual([
      `redrive documents/queue/target-dlq [${'#'.repeat(30)}] 100% 12/12 moved 12 failed 0`,
    ]);
  });

  it('--rate spaces re-deliveries out', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(3)).resolves(depth(0));
    receiveOnce([1, 2, 3].map((n) => message(`m${n}`, JSON.stringify(event(`evt-${n}`)))));
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq', '--rate', '2']);

    expect(result.code).toBe(0);
    expect(fake.sleeps).toEqual([500, 500]);
  });

  it('an AWS failure mid-run stops with the counts so far and exit 1', async () => {
    sqs.on(GetQueueAttributesCommand).resolvesOnce(depth(20)).resolves(depth(19));
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1', JSON.stringify(event('evt-1')))] })
      .rejects(awsError('AccessDenied', 'not authorized to perform sqs:ReceiveMessage'));
    const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq']);

    expect(result.code).toBe(1);
    expect(result.stdout()).toContain('moved 1 / failed 0 / left ≈ 19 in the queue');
    expect(result.err.at(-1)).toBe(
      'error: redrive stopped early: AccessDenied: not authorized to perform sqs:ReceiveMessage; moved 1, failed 0; the rest is still in documents/queue/target-dlq (run it again)',
    );
  });

  it('refuses bad --max and --rate before any AWS call', async () => {
    for (const args of [['--max', '0'], ['--rate', '501'], ['--rate', 'fast']]) {
      const result = await run(['dlq', 'redrive', 'documents/queue/target-dlq', ...args]);
      expect(result.code).toBe(2);
    }
    expect(cfn.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });
});
