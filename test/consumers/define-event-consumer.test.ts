/**
 * defineEventConsumer on its own (EventBridge async invoke, one event), with a consumer function that
 * records its effects: once per Fast.io event id, a failure thrown and not recorded so Lambda's retry
 * redoes it, the claim-checked body read only on demand, one log line and a typed error for an event
 * that is not a Fast.io event.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bodyRefOf } from '../../lib/domain/fastio-envelope';
import { captureConsole, fakeContext, fakeIdempotencyTable, fastioEvent as baseEvent, idempotencyKey, type Item } from './support';

const FUNCTION_NAME = vi.hoisted(() => {
  const name = 'event-consumer-fn';
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency-table';
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_DEV = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_SERVICE_NAME = 'event-consumer';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FastioEventBridge';
  return name;
});

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { defineEventConsumer } from '../../lambdas/shared/define-event-consumer';
import { FastioEventError } from '../../lambdas/shared/fastio-event';

const fastioEvent = (eventId: string, detail: Record<string, unknown> = {}) =>
  baseEvent(eventId, { eventType: 'file.created', agentId: 'agent-7', ...detail });

const context = fakeContext(FUNCTION_NAME);
const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
let idempotencyItems: Map<string, Item>;
let output: ReturnType<typeof captureConsole>;
let effects: string[];
const failing = new Set<string>();

/** Records each agent action it completes; fails once for ids in `failing`. */
const consumer = defineEventConsumer(
  async (event, { metrics }) => {
    if (failing.delete(event.detail.eventId)) throw new Error('Downstream unavailable');
    effects.push(`${event.detail.agentId}:${event.detail.eventId}`);
    metrics.addMetric('ActionsSeen', MetricUnit.Count, 1);
    return { seen: event.detail.eventId };
  },
  { requires: ['agentId'], action: 'Noting the action' },
);

beforeEach(() => {
  ddb.reset();
  s3.reset();
  idempotencyItems = fakeIdempotencyTable(ddb);
  output = captureConsole();
  effects = [];
  failing.clear();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('defineEventConsumer: once per Fast.io event id', () => {
  it('resolves to the work’s result, and a duplicate (or replay) gets it back without redoing the work', async () => {
    await expect(consumer(fastioEvent('evt-1'), context)).resolves.toEqual({ seen: 'evt-1' });
    await expect(consumer({ ...fastioEvent('evt-1'), id: 'eb-replayed', 'replay-name': 'incident-42' }, context)).resolves.toEqual({ seen: 'evt-1' });

    expect(effects).toEqual(['agent-7:evt-1']);
    expect(idempotencyItems.get(idempotencyKey(FUNCTION_NAME, 'evt-1'))).toMatchObject({ status: { S: 'COMPLETED' }, data: { M: { seen: { S: 'evt-1' } } } });
    expect(output.metrics().filter((m) => m.ActionsSeen !== undefined)).toHaveLength(1);
  });

  it('throws a failure for Lambda’s async retry, records nothing, and the retry redoes the work', async () => {
    failing.add('evt-flaky');

    await expect(consumer(fastioEvent('evt-flaky'), context)).rejects.toThrow('Downstream unavailable');

    expect(idempotencyItems.has(idempotencyKey(FUNCTION_NAME, 'evt-flaky'))).toBe(false);
    expect(output.logs().filter((l) => l.level === 'ERROR')).toEqual([
      expect.objectContaining({ message: 'Noting the action failed; Lambda will retry the event', eventId: 'evt-flaky', error: { name: 'Error', message: 'Downstream unavailable' } }),
    ]);

    await expect(consumer(fastioEvent('evt-flaky'), context)).resolves.toEqual({ seen: 'evt-flaky' });
    expect(effects).toEqual(['agent-7:evt-flaky']);
  });
});

describe('defineEventConsumer: malformed events', () => {
  it.each([
    ['not from Fast.io', { ...fastioEvent('evt-s3'), source: 'aws.s3' }, 'source'],
    ['without detail.eventId', (() => { const e = fastioEvent('evt-x'); delete e.detail.eventId; return e; })(), 'detail.eventId'],
    ['without a required field', fastioEvent('evt-no-agent', { agentId: undefined }), 'detail.agentId'],
  ])('an event %s throws a FastioEventError after one log line, and never reaches the idempotency table', async (_, input, field) => {
    const error = await consumer(input, context).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FastioEventError);
    expect((error as FastioEventError).field).toBe(field);
    const lines = output.logs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message: 'Malformed event rejected; Lambda retries it, then sends it to the on-failure destination',
      eventBridgeId: input.id,
      field,
    });
    expect(JSON.stringify(lines[0])).not.toContain('stack');
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(effects).toEqual([]);
  });
});

describe('defineEventConsumer: the claim-checked body', () => {
  const RAW = Buffer.from(JSON.stringify({ event_id: 'evt-big', notes: 'n'.repeat(300_000) }));
  const claimChecked = () => {
    const event = fastioEvent('evt-big');
    delete event.detail.payload;
    event.detail.bodyRef = bodyRefOf('bodies-bucket', RAW);
    return event;
  };

  beforeEach(() => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(RAW) } } as never);
  });

  it('is not read when the function does not ask for it', async () => {
    await consumer(claimChecked(), context);

    expect(effects).toEqual(['agent-7:evt-big']);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('is read from S3 when the function asks, and a body that fails its check fails the event', async () => {
    const reader = defineEventConsumer(async (_event, { body }) => Object.keys(await body()));

    await expect(reader(claimChecked(), context)).resolves.toEqual(['event_id', 'notes']);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);

    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(Buffer.from('{}')) } } as never);
    const tampered = { ...claimChecked(), detail: { ...claimChecked().detail, eventId: 'evt-tampered' } };
    await expect(reader(tampered, context)).rejects.toThrow(/does not match its reference/);
  });
});
