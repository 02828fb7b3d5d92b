/**
 * defineQueueConsumer on its own, with a consumer function that records its effects: partial batch
 * responses, once per Fast.io event id, failures redone, the claim-checked body read only on demand,
 * and one log line for a message that is not a Fast.io event.
 *
 * `mockClient(DynamoDBClient)` answers Powertools' idempotency requests from an in-memory table;
 * `mockClient(S3Client)` holds claim-checked bodies.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bodyRefOf } from '../../lib/domain/fastio-envelope';
import { batch, captureConsole, fakeContext, fakeIdempotencyTable, fastioEvent as baseEvent, idempotencyKey, sqsMessage, type Item } from './support';

const FUNCTION_NAME = vi.hoisted(() => {
  const name = 'queue-consumer-fn';
  // Read by lambdas/shared/idempotency.ts and powertools.ts at import (cold start).
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency-table';
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_DEV = 'true'; // Logger and Metrics print through the global console
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_SERVICE_NAME = 'queue-consumer';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FastioEventBridge';
  return name;
});

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { defineQueueConsumer } from '../../lambdas/shared/define-queue-consumer';
import type { FastioEvent } from '../../lambdas/shared/fastio-event';

const fastioEvent = (eventId: string) => baseEvent(eventId, { fileId: `file-${eventId}` });
const sqsRecord = sqsMessage;
const context = fakeContext(FUNCTION_NAME);

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
let idempotencyItems: Map<string, Item>;
let output: ReturnType<typeof captureConsole>;
/** The consumer's effect: one entry per event id whose work completed. */
let effects: string[];

/** A consumer that records each event id it completes, failing for ids in `failing` (once each). */
const failing = new Set<string>();
const consumer = defineQueueConsumer(async (event: FastioEvent) => {
  if (failing.delete(event.detail.eventId)) throw new Error('Downstream unavailable');
  effects.push(event.detail.eventId);
  return 'done';
});

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

describe('defineQueueConsumer: partial batch responses', () => {
  it('fails only the bad message of a batch; the others complete', async () => {
    const missingId = fastioEvent('x');
    delete missingId.detail.eventId;

    const response = await consumer(batch(sqsRecord('m1', fastioEvent('evt-1')), sqsRecord('bad', missingId), sqsRecord('m3', fastioEvent('evt-3'))), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(effects.sort()).toEqual(['evt-1', 'evt-3']);
  });

  it('fails the message whose work failed, and the retry of that message redoes it (the failure was not recorded)', async () => {
    failing.add('evt-flaky');

    const first = await consumer(batch(sqsRecord('m1', fastioEvent('evt-flaky')), sqsRecord('m2', fastioEvent('evt-ok'))), context);

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(idempotencyItems.has(idempotencyKey(FUNCTION_NAME, 'evt-flaky'))).toBe(false);
    expect(output.logs().filter((l) => l.level === 'ERROR')).toEqual([
      expect.objectContaining({ message: 'Processing failed; message will be retried', eventId: 'evt-flaky', messageId: 'm1', error: { name: 'Error', message: 'Downstream unavailable' } }),
    ]);

    const retry = await consumer(batch(sqsRecord('m1', fastioEvent('evt-flaky'))), context);

    expect(retry).toEqual({ batchItemFailures: [] });
    expect(effects.sort()).toEqual(['evt-flaky', 'evt-ok']);
    expect(idempotencyItems.get(idempotencyKey(FUNCTION_NAME, 'evt-flaky'))?.status).toEqual({ S: 'COMPLETED' });
  });

  it('throws when every message failed, so the whole batch is retried', async () => {
    await expect(consumer(batch(sqsRecord('a', 'not json'), sqsRecord('b', '[]')), context)).rejects.toThrow('All records failed processing');
  });
});

describe('defineQueueConsumer: once per Fast.io event id', () => {
  it('does the work of a duplicate delivery (or a replay) once, under the key earlier deployments wrote', async () => {
    await consumer(batch(sqsRecord('m1', fastioEvent('evt-dup'))), context);
    const replayed = { ...fastioEvent('evt-dup'), id: 'eb-other', 'replay-name': 'incident-42' };
    const second = await consumer(batch(sqsRecord('m2', replayed)), context);

    expect(second).toEqual({ batchItemFailures: [] });
    expect(effects).toEqual(['evt-dup']);
    expect(idempotencyItems.get(idempotencyKey(FUNCTION_NAME, 'evt-dup'))).toMatchObject({ status: { S: 'COMPLETED' }, data: { S: 'done' } });
  });

  it('fails the second copy of an event in one batch while the first holds it, so it is retried, never done twice', async () => {
    const response = await consumer(batch(sqsRecord('m1', fastioEvent('evt-twice')), sqsRecord('m2', fastioEvent('evt-twice'))), context);

    expect(effects).toEqual(['evt-twice']);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(output.logs().find((l) => l.level === 'WARN')?.message).toBe('Same event is in progress in another invocation; message will be retried');
  });
});

describe('defineQueueConsumer: malformed messages', () => {
  it.each([
    ['not JSON', 'this is not JSON', 'body', 'Invalid Fast.io event: body is not valid JSON'],
    ['not from Fast.io', { ...fastioEvent('evt-s3'), source: 'aws.s3' }, 'source', 'Invalid Fast.io event: source must be "fastio" (got "aws.s3")'],
    ['without a required field', fastioEvent('evt-no-ws'), 'detail.workspaceId', 'Invalid Fast.io event: detail.workspaceId is missing'],
  ])('a message %s gets one log line naming the field, no stack trace, and never reaches the idempotency table', async (_, body, field, message) => {
    const needsWorkspace = defineQueueConsumer(async () => 'done', { requires: ['workspaceId'] });

    const response = await needsWorkspace(batch(sqsRecord('poison', body)), context).catch((error: unknown) => error);

    expect(response).toBeInstanceOf(Error); // the only message failed: the whole batch is retried
    const lines = output.logs();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'ERROR', message: 'Malformed message rejected; it will be retried and then land in the DLQ', messageId: 'poison', field });
    expect((lines[0]?.error as { message: string }).message.startsWith(message)).toBe(true);
    expect(JSON.stringify(lines[0])).not.toContain('stack');
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});

describe('defineQueueConsumer: what the consumer function gets', () => {
  const RAW = Buffer.from(JSON.stringify({ event_id: 'evt-big', notes: 'n'.repeat(300_000) }));
  const claimChecked = (eventId: string) => {
    const event = fastioEvent(eventId);
    delete event.detail.payload;
    event.detail.bodyRef = bodyRefOf('bodies-bucket', RAW);
    return event;
  };

  beforeEach(() => {
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(RAW) } } as never);
  });

  it('never reads a claim-checked body the function does not ask for', async () => {
    const response = await consumer(batch(sqsRecord('m1', claimChecked('evt-big'))), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(effects).toEqual(['evt-big']);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('reads it once, verified, when the function asks (twice)', async () => {
    const sizes: number[] = [];
    const reader = defineQueueConsumer(async (_event, { body }) => {
      sizes.push(JSON.stringify(await body()).length, JSON.stringify(await body()).length);
      return 'read';
    });

    await reader(batch(sqsRecord('m1', claimChecked('evt-big'))), context);

    expect(sizes).toEqual([RAW.length, RAW.length]);
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([{ Bucket: 'bodies-bucket', Key: bodyRefOf('bodies-bucket', RAW).key }]);
  });

  it('logs with the event id and message id on every line, and publishes the metrics it added', async () => {
    const noisy = defineQueueConsumer(async (event, { logger, metrics }) => {
      logger.info('working');
      metrics.addMetric('ThingsDone', MetricUnit.Count, 1);
      return event.detail.eventId;
    });

    await noisy(batch(sqsRecord('m1', fastioEvent('evt-a')), sqsRecord('m2', fastioEvent('evt-b'))), context);

    const working = output.logs().filter((l) => l.message === 'working');
    expect(working.map((l) => [l.eventId, l.messageId]).sort()).toEqual([['evt-a', 'm1'], ['evt-b', 'm2']]);
    expect(output.metrics().map((m) => m.ThingsDone)).toEqual([[1, 1]]);
  });
});
