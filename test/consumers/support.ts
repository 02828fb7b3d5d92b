/**
 * Test doubles shared by the consumer tests: a Lambda context, the idempotency key Powertools
 * stores, capture of Logger/Metrics output, an in-memory idempotency table that answers
 * DynamoDBPersistenceLayer's exact requests, and Fast.io events and SQS records to feed a consumer.
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { vi } from 'vitest';

export const fakeContext = (functionName: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: '2024/05/01/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** The key Powertools stores for `eventKeyJmesPath: 'detail.eventId'`: `<function name>#md5(JSON(eventId))`. */
export const idempotencyKey = (functionName: string, eventId: string): string =>
  `${functionName}#${createHash('md5').update(JSON.stringify(eventId)).digest('base64')}`;

export type LogEntry = Record<string, unknown> & { level: string; message: string };

/**
 * Captures what Logger and Metrics print. POWERTOOLS_DEV=true (set by the tests before importing the
 * handlers) makes both use the global console, one JSON document per call.
 */
export const captureConsole = () => {
  const printed: unknown[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      for (const arg of args) {
        if (typeof arg !== 'string') continue;
        try {
          printed.push(JSON.parse(arg));
        } catch {
          printed.push(arg);
        }
      }
    });
  }
  const objects = () =>
    printed.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null);
  return {
    logs: (): LogEntry[] =>
      objects().filter((o): o is LogEntry => typeof o.level === 'string' && typeof o.message === 'string'),
    /** Embedded-metric-format documents (what CloudWatch turns into metrics). */
    metrics: () => objects().filter((o) => '_aws' in o),
  };
};

export type Item = Record<string, AttributeValue>;

/**
 * In-memory idempotency table behind `mockClient(DynamoDBClient)`. It evaluates the PutItem
 * condition Powertools sends (key absent, or expired, or an in-progress record whose
 * in-progress expiry has passed) and answers a failed condition like DynamoDB with
 * ReturnValuesOnConditionCheckFailure=ALL_OLD.
 */
export const fakeIdempotencyTable = (ddb: AwsClientStub<DynamoDBClient>) => {
  const items = new Map<string, Item>();
  const keyOf = (key: Item | undefined): string => {
    const id = key?.id?.S;
    if (id === undefined) throw new Error('idempotency request without an `id` key');
    return id;
  };
  ddb.on(PutItemCommand).callsFake(async (input: { Item: Item; ConditionExpression?: string }) => {
    const id = keyOf(input.Item);
    const existing = items.get(id);
    if (existing) {
      const now = Date.now();
      const expired = Number(existing.expiration?.N) < now / 1000;
      const inProgressExpired =
        existing.status?.S === 'INPROGRESS' &&
        existing.in_progress_expiration !== undefined &&
        Number(existing.in_progress_expiration.N) < now;
      if (!expired && !inProgressExpired) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
          Item: existing,
        });
      }
    }
    items.set(id, { ...input.Item });
    return {};
  });
  ddb.on(GetItemCommand).callsFake(async (input: { Key: Item }) => ({ Item: items.get(keyOf(input.Key)) }));
  ddb.on(UpdateItemCommand).callsFake(
    async (input: {
      Key: Item;
      UpdateExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Item;
    }) => {
      const id = keyOf(input.Key);
      const item: Item = { ...(items.get(id) ?? input.Key) };
      for (const assignment of input.UpdateExpression.replace(/^SET /, '').split(',')) {
        const [name, value] = assignment.split('=').map((part) => part.trim());
        const attribute = input.ExpressionAttributeNames[name ?? ''];
        const attributeValue = input.ExpressionAttributeValues[value ?? ''];
        if (attribute === undefined || attributeValue === undefined) {
          throw new Error(`cannot apply ${assignment}`);
        }
        item[attribute] = attributeValue;
      }
      items.set(id, item);
      return {};
    },
  );
  ddb.on(DeleteItemCommand).callsFake(async (input: { Key: Item }) => {
    items.delete(keyOf(input.Key));
    return {};
  });
  return items;
};

/** A Fast.io event as the bus delivers it, with a small inline payload; `detail` overrides or adds fields. */
export const fastioEvent = (eventId: string, detail: Record<string, unknown> = {}) => ({
  version: '0',
  id: `eb-${eventId}`,
  'detail-type': 'file.uploaded',
  source: 'fastio',
  account: '123456789012',
  time: '2024-05-01T10:00:00Z',
  region: 'us-east-1',
  resources: [] as string[],
  detail: { eventId, eventType: 'file.uploaded', payload: { event_id: eventId }, ...detail } as Record<string, unknown>,
});

/** An SQS record as the event source mapping hands it to a queue consumer; `body` is JSON-encoded unless a string. */
export const sqsMessage = (messageId: string, body: unknown): SQSRecord => ({
  messageId,
  receiptHandle: `receipt-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1714557600000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1714557600000' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:buffer',
  awsRegion: 'us-east-1',
});

export const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
