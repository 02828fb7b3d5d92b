/**
 * `ops dlq list|peek|redrive` and retained queues that no stack output names (left behind when a
 * logical id changed): found by the routing stack's name prefix and their tags, listed as orphaned,
 * peeked and redriven to the target they served, as deployed now.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createDlqCommands } from '../../lib/ops/dlq-commands';
import { ACCOUNT, REGION, capture, event, fakeRuntime, queueUrl, routingOutputs, stack } from './support';

const cfn = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);

const ORPHAN = 'dev-fastio-routing-RoutedocumentsTargetqueueTargetDlqOld-Zx9Yw8';
const ORPHAN_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${ORPHAN}`;
const OTHER_STAGE = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-fastio-routing-Stray-Qq1`;
const TAGS = { stage: 'dev', project: 'fastio-eventbridge', route: 'documents', target: 'queue', role: 'target-dlq' };

async function run(argv: string[]) {
  const captured = capture();
  const code = await runCli(createDlqCommands(fakeRuntime().runtime), argv, captured.io);
  return { code, ...captured };
}

beforeEach(() => {
  cfn.reset();
  sqs.reset();
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputs));
  // GIVEN ListQueues returns a queue every output names, the orphan, and a queue tagged for another stage
  sqs.on(ListQueuesCommand).resolves({ QueueUrls: [queueUrl('documents', 'queue', 'target-dlq'), ORPHAN_URL, OTHER_STAGE] });
  sqs.on(ListQueueTagsCommand, { QueueUrl: ORPHAN_URL }).resolves({ Tags: TAGS });
  sqs.on(ListQueueTagsCommand, { QueueUrl: OTHER_STAGE }).resolves({ Tags: { ...TAGS, stage: 'dev-old' } });
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: ORPHAN_URL }).resolves({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
});

describe('orphaned queues', () => {
  it('dlq list shows a retained queue no output names as orphaned, with the handle it held and its depth', async () => {
    const result = await run(['dlq', 'list', '--depth-only', '--json']);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout()) as { name: string; depth?: number; orphaned?: string }[];
    // THEN the orphan is listed once, the stage's named queues are not orphaned, and the other stage's queue is absent
    expect(rows.filter((row) => row.orphaned !== undefined)).toEqual([expect.objectContaining({ name: ORPHAN, depth: 1, orphaned: 'was documents/queue/target-dlq' })]);
    expect(rows.some((row) => row.name === 'dev-fastio-routing-Stray-Qq1')).toBe(false);
    expect(sqs.commandCalls(ListQueuesCommand)[0]?.args[0].input).toMatchObject({ QueueNamePrefix: 'dev-fastio-routing-' });
  });

  it('a queue an output names under another URL form (the legacy queue.amazonaws.com host) is not orphaned', async () => {
    // GIVEN ListQueues answers with the legacy host for the queue the outputs name
    const named = queueUrl('documents', 'queue', 'target-dlq');
    const legacy = named.replace(`https://sqs.${REGION}.amazonaws.com/`, `https://${REGION}.queue.amazonaws.com/`);
    sqs.on(ListQueuesCommand).resolves({ QueueUrls: [legacy, ORPHAN_URL] });
    sqs.on(ListQueueTagsCommand, { QueueUrl: legacy }).resolves({ Tags: TAGS });
    // WHEN
    const result = await run(['dlq', 'list', '--depth-only', '--json']);
    // THEN only the real orphan is listed as one
    const rows = JSON.parse(result.stdout()) as { name: string; orphaned?: string }[];
    expect(rows.filter((row) => row.orphaned !== undefined).map((row) => row.name)).toEqual([ORPHAN]);
  });

  it('dlq list in text says what orphaned means', async () => {
    const result = await run(['dlq', 'list', '--depth-only']);
    expect(result.stdout()).toMatch(new RegExp(`${ORPHAN}\\s+1\\s+1\\s+0 .*orphaned: was documents/queue/target-dlq`));
    expect(result.stdout()).toContain('orphaned = a retained queue of dev-fastio-routing that no stack output names');
  });

  it('dlq peek <orphan> reads the orphan and leaves the message in place', async () => {
    sqs.on(ReceiveMessageCommand, { QueueUrl: ORPHAN_URL }).resolvesOnce({ Messages: [{ MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: JSON.stringify(event('evt-orphan')) }] }).resolves({ Messages: [] });
    const result = await run(['dlq', 'peek', ORPHAN]);
    expect(result.code).toBe(0);
    expect(result.stdout()).toContain('evt-orphan');
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: ORPHAN_URL, ReceiptHandle: 'rh-1', VisibilityTimeout: 0 }]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it('dlq redrive <orphan> re-delivers to the target it served, as deployed now, then deletes', async () => {
    const body = JSON.stringify(event('evt-orphan'));
    sqs.on(ReceiveMessageCommand, { QueueUrl: ORPHAN_URL }).resolvesOnce({ Messages: [{ MessageId: 'm-1', ReceiptHandle: 'rh-1', Body: body }] }).resolves({ Messages: [] });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'sent-1' });
    const result = await run(['dlq', 'redrive', ORPHAN]);
    expect(result.code).toBe(0);
    // THEN the event went to the documents queue target's buffer once, and left the orphan
    expect(sqs.commandCalls(SendMessageCommand).map((call) => [call.args[0].input.QueueUrl, call.args[0].input.MessageBody])).toEqual([[queueUrl('documents', 'queue', 'buffer'), body]]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: ORPHAN_URL, ReceiptHandle: 'rh-1' }]);
  });

  it('refuses a name that is neither a handle nor an orphan in one line, exit 2', async () => {
    const result = await run(['dlq', 'peek', 'dev-fastio-routing-Nothing-1']);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.stderr()).toMatch(/unknown queue "dev-fastio-routing-Nothing-1": neither a queue handle .* nor an orphaned queue of dev-fastio-routing/);
  });
});
