/**
 * Catalog consumer: partial batch responses, idempotency across deliveries, and event-time ordering.
 *
 * DynamoDB is mocked at two levels: `mockClient(DynamoDBClient)` catches the idempotency table
 * requests Powertools sends with its own client (backed by an in-memory fake that follows
 * DynamoDBPersistenceLayer's exact requests), and `mockClient(DynamoDBDocumentClient)` catches the
 * catalog UpdateItem (backed by an in-memory catalog that evaluates the two conditions the handler
 * uses, so ordering scenarios run end to end).
 */
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureConsole, fakeContext, fakeIdempotencyTable, idempotencyKey, type Item } from './support';

const FUNCTION_NAME = vi.hoisted(() => {
  const name = 'catalog-consumer-fn';
  // Read by the handler module at import (cold start), so set before imports are evaluated.
  process.env.CATALOG_TABLE_NAME = 'catalog-table';
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency-table';
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_DEV = 'true'; // Logger and Metrics print through the global console
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO'; // these tests assert on log lines (vitest.config.ts silences Logger elsewhere)
  process.env.POWERTOOLS_METRICS_DISABLED = 'false'; // dev mode would otherwise silence Metrics
  process.env.POWERTOOLS_SERVICE_NAME = 'catalog-consumer';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FastioEventBridge';
  return name;
});

import {
  DELETE_CONDITION,
  handler,
  UPSERT_CONDITION,
} from '../../lambdas/catalog-consumer/handler';

// ---- test doubles --------------------------------------------------------------------------------


type CatalogItem = Record<string, unknown>;

/**
 * In-memory catalog behind `mockClient(DynamoDBDocumentClient)`. It evaluates the handler's two
 * condition expressions with DynamoDB's semantics (a comparison with a missing attribute is false)
 * and rejects any other expression, so a change to the expressions must come with a change here.
 */
const fakeCatalogTable = (doc: AwsClientStub<DynamoDBDocumentClient>) => {
  const items = new Map<string, CatalogItem>();
  doc.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => {
    const key = input.Key as { workspaceId: string; fileId: string };
    const id = `${key.workspaceId}/${key.fileId}`;
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const existing = items.get(id);
    const eventAt = values[':eventAt'] as string;
    const eventId = values[':eventId'] as string;
    const lastEventAt = existing?.lastEventAt as string | undefined;
    const lastEventId = existing?.lastEventId as string | undefined;
    const storedIsBefore =
      lastEventAt !== undefined && (lastEventAt < eventAt || (lastEventAt === eventAt && lastEventId !== undefined && lastEventId < eventId));
    let passes: boolean;
    if (input.ConditionExpression === UPSERT_CONDITION) {
      passes = lastEventAt === undefined || (existing?.deleted === false && storedIsBefore);
    } else if (input.ConditionExpression === DELETE_CONDITION) {
      passes = lastEventAt === undefined || existing?.deleted === false || storedIsBefore;
    } else {
      throw new Error(`unexpected condition ${input.ConditionExpression}`);
    }
    if (!passes) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    const item: CatalogItem = { ...(existing ?? key) };
    for (const assignment of (input.UpdateExpression ?? '').replace(/^SET /, '').split(',')) {
      const [name, value] = assignment.split('=').map((part) => part.trim());
      item[names[name ?? ''] ?? 'unknown'] = values[value ?? ''];
    }
    items.set(id, item);
    return {};
  });
  return items;
};

interface FileEventOptions {
  eventId: string;
  eventType?: string;
  occurredAt?: string;
  fileName?: string;
  sizeBytes?: number;
}

const fileEvent = ({
  eventId,
  eventType = 'file.uploaded',
  occurredAt = '2024-05-01T10:00:00.000Z',
  fileName = 'report.pdf',
  sizeBytes = 1234,
}: FileEventOptions) => ({
  version: '0',
  id: `eb-${eventId}`,
  'detail-type': eventType,
  source: 'fastio',
  account: '123456789012',
  time: '2024-05-01T09:59:59Z',
  region: 'us-east-1',
  resources: [] as string[],
  detail: {
    eventId,
    eventType,
    occurredAt,
    workspaceId: 'ws-1',
    fileId: 'file-1',
    fileName,
    extension: 'pdf',
    sizeBytes,
    payload: { event_id: eventId, event_type: eventType },
  } as Record<string, unknown>,
});

const sqsRecord = (messageId: string, body: unknown): SQSRecord => ({
  messageId,
  receiptHandle: `receipt-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '1714557600000',
    SenderId: 'AIDAEXAMPLE',
    ApproximateFirstReceiveTimestamp: '1714557600000',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:documents-buffer',
  awsRegion: 'us-east-1',
});

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const context = fakeContext(FUNCTION_NAME);
const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

// ---- tests ---------------------------------------------------------------------------------------

const ddb = mockClient(DynamoDBClient);
const doc = mockClient(DynamoDBDocumentClient);
let idempotencyItems: Map<string, Item>;
let catalog: Map<string, CatalogItem>;
let output: ReturnType<typeof captureConsole>;

beforeEach(() => {
  ddb.reset();
  doc.reset();
  idempotencyItems = fakeIdempotencyTable(ddb);
  catalog = fakeCatalogTable(doc);
  output = captureConsole();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('catalog consumer: the catalog write', () => {
  it('sends one conditional UpdateItem with the file attributes and normalized event time', async () => {
    const event = fileEvent({ eventId: 'evt-1', occurredAt: '2024-05-01T12:00:00+02:00' });

    const response = await handler(batch(sqsRecord('m1', event)), context);

    expect(response).toEqual({ batchItemFailures: [] });
    const calls = doc.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TableName: 'catalog-table',
      Key: { workspaceId: 'ws-1', fileId: 'file-1' },
      UpdateExpression:
        'SET #lastEventType = :eventType, #lastEventAt = :eventAt, #lastEventId = :eventId, #deleted = :deleted, ' +
        '#fileName = :fileName, #extension = :extension, #sizeBytes = :sizeBytes',
      ConditionExpression:
        'attribute_not_exists(#lastEventAt) OR (#deleted = :false AND (#lastEventAt < :eventAt OR (#lastEventAt = :eventAt AND #lastEventId < :eventId)))',
      ExpressionAttributeNames: {
        '#lastEventType': 'lastEventType',
        '#lastEventAt': 'lastEventAt',
        '#lastEventId': 'lastEventId',
        '#deleted': 'deleted',
        '#fileName': 'fileName',
        '#extension': 'extension',
        '#sizeBytes': 'sizeBytes',
      },
      ExpressionAttributeValues: {
        ':eventType': 'file.uploaded',
        ':eventAt': '2024-05-01T10:00:00.000Z',
        ':eventId': 'evt-1',
        ':deleted': false,
        ':false': false,
        ':fileName': 'report.pdf',
        ':extension': 'pdf',
        ':sizeBytes': 1234,
      },
    });
    expect(catalog.get('ws-1/file-1')).toEqual({
      workspaceId: 'ws-1',
      fileId: 'file-1',
      lastEventType: 'file.uploaded',
      lastEventAt: '2024-05-01T10:00:00.000Z',
      lastEventId: 'evt-1',
      deleted: false,
      fileName: 'report.pdf',
      extension: 'pdf',
      sizeBytes: 1234,
    });
    const emitted = output.metrics();
    expect(emitted.some((m) => m.CatalogUpdated !== undefined)).toBe(true);
  });

  it('sends a delete with the delete condition, and only the attributes the event carries', async () => {
    const event = fileEvent({ eventId: 'evt-del', eventType: 'file.deleted' });
    delete event.detail.occurredAt;
    delete event.detail.fileName;
    delete event.detail.extension;
    delete event.detail.sizeBytes;

    await handler(batch(sqsRecord('m1', event)), context);

    expect(doc.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: 'catalog-table',
      Key: { workspaceId: 'ws-1', fileId: 'file-1' },
      UpdateExpression:
        'SET #lastEventType = :eventType, #lastEventAt = :eventAt, #lastEventId = :eventId, #deleted = :deleted',
      ConditionExpression:
        'attribute_not_exists(#lastEventAt) OR #deleted = :false OR (#lastEventAt < :eventAt OR (#lastEventAt = :eventAt AND #lastEventId < :eventId))',
      ExpressionAttributeNames: {
        '#lastEventType': 'lastEventType',
        '#lastEventAt': 'lastEventAt',
        '#lastEventId': 'lastEventId',
        '#deleted': 'deleted',
      },
      ExpressionAttributeValues: {
        ':eventType': 'file.deleted',
        // no occurredAt: EventBridge's `time`, normalized
        ':eventAt': '2024-05-01T09:59:59.000Z',
        ':eventId': 'evt-del',
        ':deleted': true,
        ':false': false,
      },
    });
  });
});

describe('catalog consumer: idempotency', () => {
  it('records the event in the idempotency table with the requests Powertools documents', async () => {
    await handler(batch(sqsRecord('m1', fileEvent({ eventId: 'evt-1' }))), context);

    const key = idempotencyKey(FUNCTION_NAME, 'evt-1');
    const put = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      TableName: 'idempotency-table',
      Item: { id: { S: key }, status: { S: 'INPROGRESS' } },
      ConditionExpression:
        'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
    });
    // 7-day record expiry
    const expiration = Number(put?.Item?.expiration?.N);
    expect(expiration - Date.now() / 1000).toBeGreaterThan(7 * 86400 - 60);
    expect(expiration - Date.now() / 1000).toBeLessThanOrEqual(7 * 86400 + 1);
    expect(ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'idempotency-table',
      Key: { id: { S: key } },
      ExpressionAttributeValues: { ':status': { S: 'COMPLETED' }, ':response_data': { S: 'updated' } },
    });
    expect(idempotencyItems.get(key)?.status).toEqual({ S: 'COMPLETED' });
  });

  it('processes a duplicate delivery once: the second finds a COMPLETED record and writes nothing', async () => {
    const event = fileEvent({ eventId: 'evt-dup' });

    expect(await handler(batch(sqsRecord('m1', event)), context)).toEqual({ batchItemFailures: [] });
    // Same event again (EventBridge at-least-once, or an archive replay with `replay-name`).
    const replayed = { ...event, 'replay-name': 'incident-42' };
    expect(await handler(batch(sqsRecord('m2', replayed)), context)).toEqual({ batchItemFailures: [] });

    expect(doc.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(2); // the second one failed its condition
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(1); // completed once
  });

  it('does not record a failed attempt, and redoes it on the next delivery', async () => {
    const event = fileEvent({ eventId: 'evt-retry' });
    const key = idempotencyKey(FUNCTION_NAME, 'evt-retry');
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ProvisionedThroughputExceededException',
    });
    doc.on(UpdateCommand).rejectsOnce(throttled);

    const first = await handler(batch(sqsRecord('m1', event), sqsRecord('m2', fileEvent({ eventId: 'evt-ok' }))), context);

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: 'idempotency-table', Key: { id: { S: key } } },
    ]);
    expect(idempotencyItems.has(key)).toBe(false);
    const failure = output.logs().find((l) => l.message === 'Catalog update failed; message will be retried');
    expect(failure).toMatchObject({ level: 'ERROR', messageId: 'm1', eventId: 'evt-retry' });

    // SQS redelivers m1 after the visibility timeout.
    doc.reset();
    catalog = fakeCatalogTable(doc);
    const second = await handler(batch(sqsRecord('m1', event)), context);

    expect(second).toEqual({ batchItemFailures: [] });
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(catalog.get('ws-1/file-1')?.lastEventId).toBe('evt-retry');
    expect(idempotencyItems.get(key)?.status).toEqual({ S: 'COMPLETED' });
  });
});

describe('catalog consumer: partial batch failures', () => {
  it('lists exactly the failed message ids', async () => {
    const failing = fileEvent({ eventId: 'evt-fail' });
    failing.detail.fileId = 'file-broken';
    doc
      .on(UpdateCommand, { Key: { workspaceId: 'ws-1', fileId: 'file-broken' } })
      .rejects(new Error('Internal server error'));
    const other = fileEvent({ eventId: 'evt-other' });
    other.detail.fileId = 'file-2';

    const response = await handler(
      batch(
        sqsRecord('ok-1', fileEvent({ eventId: 'evt-ok' })),
        sqsRecord('bad-json', '{"source": "fastio", '),
        sqsRecord('dynamo-error', failing),
        sqsRecord('ok-2', other),
      ),
      context,
    );

    expect(failedIds(response)).toEqual(['bad-json', 'dynamo-error']);
    expect(catalog.get('ws-1/file-1')?.lastEventId).toBe('evt-ok');
    expect(catalog.get('ws-1/file-2')?.lastEventId).toBe('evt-other');
  });

  it('throws when every message failed, so the whole batch is retried and the invocation counts as an error', async () => {
    await expect(handler(batch(sqsRecord('a', 'not json'), sqsRecord('b', '[]')), context)).rejects.toThrow(
      'All records failed processing',
    );
  });

  const malformed: [string, () => unknown, string][] = [
    ['a non-JSON body', () => 'this is not JSON', 'Invalid Fast.io event: body is not valid JSON'],
    [
      'a missing detail.eventId',
      () => {
        const e = fileEvent({ eventId: 'x' });
        delete e.detail.eventId;
        return e;
      },
      'Invalid Fast.io event: detail.eventId is missing',
    ],
    [
      'a missing detail.workspaceId',
      () => {
        const e = fileEvent({ eventId: 'evt-no-ws' });
        delete e.detail.workspaceId;
        return e;
      },
      'Invalid Fast.io event: detail.workspaceId is missing',
    ],
    [
      'a missing detail.fileId',
      () => {
        const e = fileEvent({ eventId: 'evt-no-file' });
        delete e.detail.fileId;
        return e;
      },
      'Invalid Fast.io event: detail.fileId is missing',
    ],
    [
      'an occurredAt that is not ISO 8601',
      () => fileEvent({ eventId: 'evt-bad-time', occurredAt: 'yesterday' }),
      'Invalid Fast.io event: detail.occurredAt must be an ISO 8601 timestamp',
    ],
  ];

  it.each(malformed)('fails only the message with %s, with a log line naming the problem', async (_, body, text) => {
    const response = await handler(
      batch(sqsRecord('good', fileEvent({ eventId: 'evt-good' })), sqsRecord('poison', body())),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    const errors = output.logs().filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      message: 'Malformed message rejected; it will be retried and then land in the DLQ',
      messageId: 'poison',
    });
    expect((errors[0]?.error as { message: string }).message).toContain(text);
    // Never reached the idempotency table or the catalog.
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(1);
    expect(doc.commandCalls(UpdateCommand)).toHaveLength(1);
  });
});

describe('catalog consumer: event-time ordering', () => {
  it('keeps the newer state when an older event arrives late (stale, skipped: success, log, metric)', async () => {
    await handler(batch(sqsRecord('m1', fileEvent({ eventId: 'new', occurredAt: '2024-05-01T11:00:00Z', fileName: 'v2.pdf' }))), context);

    const response = await handler(
      batch(sqsRecord('m2', fileEvent({ eventId: 'old', occurredAt: '2024-05-01T10:00:00Z', fileName: 'v1.pdf' }))),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(catalog.get('ws-1/file-1')).toMatchObject({ lastEventId: 'new', fileName: 'v2.pdf' });
    expect(output.logs().find((l) => l.message.startsWith('Stale event skipped'))).toMatchObject({
      level: 'INFO',
      eventId: 'old',
    });
    expect(output.metrics().some((m) => m.CatalogStaleEventSkipped !== undefined)).toBe(true);
    // The stale outcome is completed work: a redelivery of `old` is not retried against the table.
    expect(idempotencyItems.get(idempotencyKey(FUNCTION_NAME, 'old'))?.data).toEqual({ S: 'stale' });
  });

  it('treats a ConditionalCheckFailedException as success, not as a batch failure', async () => {
    doc.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    );

    const response = await handler(batch(sqsRecord('m1', fileEvent({ eventId: 'evt-1' }))), context);

    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('keeps a file deleted when a create older than the delete arrives late', async () => {
    await handler(batch(sqsRecord('m1', fileEvent({ eventId: 'del', eventType: 'file.deleted', occurredAt: '2024-05-01T12:00:00Z' }))), context);
    const response = await handler(
      batch(sqsRecord('m2', fileEvent({ eventId: 'create', eventType: 'file.created', occurredAt: '2024-05-01T09:00:00Z' }))),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(catalog.get('ws-1/file-1')).toMatchObject({ deleted: true, lastEventId: 'del', lastEventType: 'file.deleted' });
  });

  it('keeps a file deleted even when an update newer than the delete arrives (file ids are never reused)', async () => {
    await handler(batch(sqsRecord('m1', fileEvent({ eventId: 'del', eventType: 'file.deleted', occurredAt: '2024-05-01T12:00:00Z' }))), context);
    await handler(
      batch(sqsRecord('m2', fileEvent({ eventId: 'late-update', eventType: 'file.updated', occurredAt: '2024-05-01T12:00:05Z' }))),
      context,
    );

    expect(catalog.get('ws-1/file-1')).toMatchObject({ deleted: true, lastEventId: 'del' });
  });

  describe('two events for one file in the same second (Fast.io times have whole seconds)', () => {
    const SECOND = '2024-05-01T10:00:07Z';
    const finalItemAfter = async (order: ReturnType<typeof fileEvent>[]) => {
      idempotencyItems.clear();
      catalog.clear();
      for (const [index, event] of order.entries()) {
        expect((await handler(batch(sqsRecord(`m${index}`, event)), context)).batchItemFailures).toEqual([]);
      }
      return catalog.get('ws-1/file-1');
    };

    it('two updates: both arrival orders give the same final item, the later event id', async () => {
      const first = fileEvent({ eventId: 'evt_01JD8Q4K7V0000000000000001', eventType: 'file.updated', occurredAt: SECOND, fileName: 'v1.pdf', sizeBytes: 1 });
      const second = fileEvent({ eventId: 'evt_01JD8Q4K7V0000000000000002', eventType: 'file.updated', occurredAt: SECOND, fileName: 'v2.pdf', sizeBytes: 2 });
      const inOrder = await finalItemAfter([first, second]);
      const reversed = await finalItemAfter([second, first]);
      expect(inOrder).toMatchObject({ lastEventId: 'evt_01JD8Q4K7V0000000000000002', fileName: 'v2.pdf', sizeBytes: 2 });
      expect(reversed).toEqual(inOrder);
    });

    it('two deletes: both arrival orders give the same tombstone', async () => {
      const first = fileEvent({ eventId: 'evt_a', eventType: 'file.deleted', occurredAt: SECOND });
      const second = fileEvent({ eventId: 'evt_b', eventType: 'file.deleted', occurredAt: SECOND });
      const inOrder = await finalItemAfter([first, second]);
      expect(inOrder).toMatchObject({ deleted: true, lastEventId: 'evt_b' });
      expect(await finalItemAfter([second, first])).toEqual(inOrder);
    });

    it('a duplicate of the stored event (same time, same id) is stale, not applied twice', async () => {
      const event = fileEvent({ eventId: 'evt_same', occurredAt: SECOND });
      await finalItemAfter([event]);
      idempotencyItems.clear(); // e.g. a replay after the idempotency records expired
      expect((await handler(batch(sqsRecord('again', event)), context)).batchItemFailures).toEqual([]);
      expect(output.metrics().some((m) => m.CatalogStaleEventSkipped !== undefined)).toBe(true);
    });
  });

  it('reaches the same final state whatever order the events arrive in, ties within a second included', async () => {
    const eventArb = fc
      .uniqueArray(
        fc.record({
          second: fc.integer({ min: 0, max: 3 }),
          tag: fc.constantFrom('a', 'b', 'c'),
          eventType: fc.constantFrom('file.created', 'file.uploaded', 'file.updated', 'file.deleted'),
        }),
        { minLength: 1, maxLength: 6, selector: (e) => `${e.second}${e.tag}` },
      )
      .chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })));

    await fc.assert(
      fc.asyncProperty(eventArb, async ([events, arrivalOrder]) => {
        idempotencyItems.clear();
        catalog.clear();
        const id = (e: { second: number; tag: string }) => `evt-${e.second}${e.tag}`;
        const build = (e: { second: number; tag: string; eventType: string }) =>
          fileEvent({
            eventId: id(e),
            eventType: e.eventType,
            occurredAt: `2024-05-01T10:00:${String(e.second).padStart(2, '0')}Z`,
          });
        for (const [index, e] of arrivalOrder.entries()) {
          const response = await handler(batch(sqsRecord(`m${index}`, build(e))), context);
          expect(response.batchItemFailures).toEqual([]);
        }
        const latest = (list: typeof events) => list.reduce((a, b) => (id(b) > id(a) ? b : a));
        const deletes = events.filter((e) => e.eventType === 'file.deleted');
        const expected = deletes.length > 0 ? latest(deletes) : latest(events);
        expect(catalog.get('ws-1/file-1')).toMatchObject({
          deleted: deletes.length > 0,
          lastEventId: id(expected),
          lastEventType: expected.eventType,
        });
      }),
      { numRuns: 60 },
    );
  });
});
