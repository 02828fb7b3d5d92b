/**
 * Agent audit function target: the audit item, per-agent metric, idempotency across invocations,
 * and errors that must reach Lambda's async retry / on-failure destination.
 *
 * `mockClient(DynamoDBClient)` catches the idempotency requests Powertools sends with its own client
 * (backed by an in-memory fake following DynamoDBPersistenceLayer's exact requests);
 * `mockClient(DynamoDBDocumentClient)` catches the audit PutItem.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { bodyRefOf } from '../../lib/domain/fastio-envelope';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureConsole, fakeContext, fakeIdempotencyTable, idempotencyKey, type Item } from './support';

const FUNCTION_NAME = vi.hoisted(() => {
  const name = 'agent-audit-fn';
  // Read by the handler module at import (cold start), so set before imports are evaluated.
  process.env.AUDIT_TABLE_NAME = 'audit-table';
  process.env.IDEMPOTENCY_TABLE_NAME = 'idempotency-table';
  process.env.AUDIT_RETENTION_DAYS = '30';
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_DEV = 'true'; // Logger and Metrics print through the global console
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO'; // these tests assert on log lines (vitest.config.ts silences Logger elsewhere)
  process.env.POWERTOOLS_METRICS_DISABLED = 'false'; // dev mode would otherwise silence Metrics
  process.env.POWERTOOLS_SERVICE_NAME = 'agent-audit';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FastioEventBridge';
  return name;
});

import { handler, MAX_STORED_PAYLOAD_BYTES } from '../../lambdas/agent-audit/handler';

const NOW = new Date('2024-06-01T00:00:00.000Z');
const NOW_SECONDS = NOW.getTime() / 1000;

const agentEvent = (eventId = 'evt-a1') => ({
  version: '0',
  id: `eb-${eventId}`,
  'detail-type': 'file.updated',
  source: 'fastio',
  account: '123456789012',
  time: '2024-05-31T23:59:59Z',
  region: 'us-east-1',
  resources: [] as string[],
  detail: {
    eventId,
    eventType: 'file.updated',
    occurredAt: '2024-05-31T23:00:00.5+00:00',
    workspaceId: 'ws-1',
    fileId: 'file-9',
    fileName: 'summary.md',
    extension: 'md',
    sizeBytes: 42,
    agentId: 'agent-7',
    payload: { event_id: eventId, agent: { id: 'agent-7' } },
  } as Record<string, unknown>,
});

const context = fakeContext(FUNCTION_NAME);
const agentMetrics = (emitted: Record<string, unknown>[]) =>
  emitted.filter((m) => m.AgentActionRecorded !== undefined);

const ddb = mockClient(DynamoDBClient);
const doc = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let idempotencyItems: Map<string, Item>;
let output: ReturnType<typeof captureConsole>;

beforeEach(() => {
  ddb.reset();
  doc.reset();
  s3.reset();
  doc.on(PutCommand).resolves({});
  idempotencyItems = fakeIdempotencyTable(ddb);
  output = captureConsole();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('agent audit: the audit item', () => {
  it('puts one create-only item keyed by agent and time, with a TTL of AUDIT_RETENTION_DAYS', async () => {
    const event = agentEvent();

    await expect(handler(event, context)).resolves.toBe('recorded');

    const puts = doc.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toEqual({
      TableName: 'audit-table',
      Item: {
        agentId: 'agent-7',
        occurredAtEventId: '2024-05-31T23:00:00.500Z#evt-a1',
        occurredAt: '2024-05-31T23:00:00.500Z',
        eventId: 'evt-a1',
        eventType: 'file.updated',
        recordedAt: '2024-06-01T00:00:00.000Z',
        expiresAt: NOW_SECONDS + 30 * 86400,
        workspaceId: 'ws-1',
        fileId: 'file-9',
        fileName: 'summary.md',
        extension: 'md',
        sizeBytes: 42,
        payload: JSON.stringify(event.detail.payload),
      },
      ConditionExpression: 'attribute_not_exists(#agentId)',
      ExpressionAttributeNames: { '#agentId': 'agentId' },
    });
  });

  it('falls back to EventBridge time, records the replay name, and omits an oversized payload', async () => {
    const event = { ...agentEvent(), 'replay-name': 'incident-42' };
    delete event.detail.occurredAt;
    event.detail.payload = { blob: 'x'.repeat(MAX_STORED_PAYLOAD_BYTES) };

    await handler(event, context);

    const item = doc.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({
      occurredAtEventId: '2024-05-31T23:59:59.000Z#evt-a1',
      replayName: 'incident-42',
      payloadOmittedBytes: MAX_STORED_PAYLOAD_BYTES + 11,
    });
    expect(item).not.toHaveProperty('payload');
  });

  it('reads a claim-checked payload back from S3 and stores it verbatim', async () => {
    // GIVEN an event whose body the ingest stored in S3 (over the claim-check threshold, under the item limit)
    const raw = Buffer.from(JSON.stringify({ event_id: 'evt-a1', agent: { id: 'agent-7' }, notes: 'n'.repeat(250_000) }));
    const event = agentEvent();
    delete event.detail.payload;
    const bodyRef = bodyRefOf('bodies-bucket', raw);
    event.detail.bodyRef = bodyRef;
    s3.on(GetObjectCommand, { Bucket: 'bodies-bucket', Key: bodyRef.key }).resolves({ Body: { transformToByteArray: async () => new Uint8Array(raw) } } as never);
    // WHEN the audit records it
    await expect(handler(event, context)).resolves.toBe('recorded');
    // THEN the item holds the payload as if it had been inline, and where the body is
    const item = doc.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({ payload: JSON.stringify(JSON.parse(raw.toString())), bodyRef });
  });

  it('does not read a claim-checked body too large to store, and records its size', async () => {
    const event = agentEvent();
    delete event.detail.payload;
    const bodyRef = { bucket: 'bodies-bucket', key: `bodies/sha256/${'a'.repeat(64)}`, sizeBytes: 5_000_000, sha256: 'a'.repeat(64) };
    event.detail.bodyRef = bodyRef;
    await expect(handler(event, context)).resolves.toBe('recorded');
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    const item = doc.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({ payloadOmittedBytes: 5_000_000, bodyRef });
    expect(item).not.toHaveProperty('payload');
  });

  it('fails (for retry, then the on-failure queue) when the stored body does not match its reference', async () => {
    const raw = Buffer.from(JSON.stringify({ event_id: 'evt-a1' }));
    const event = agentEvent();
    delete event.detail.payload;
    event.detail.bodyRef = bodyRefOf('bodies-bucket', raw);
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(Buffer.from('{"event_id":"evt-b2"}')) } } as never);
    await expect(handler(event, context)).rejects.toThrow(/does not match its reference/);
    expect(doc.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('emits AgentActionRecorded with an AgentId dimension', async () => {
    await handler(agentEvent(), context);

    const emitted = agentMetrics(output.metrics());
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({
      AgentId: 'agent-7',
      AgentActionRecorded: 1,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'FastioEventBridge',
            Dimensions: [expect.arrayContaining(['AgentId'])],
            Metrics: [{ Name: 'AgentActionRecorded', Unit: 'Count' }],
          },
        ],
      },
    });
  });

  it('treats an audit item that already exists as done (no rewrite, no second metric)', async () => {
    doc.on(PutCommand).rejects(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    );

    await expect(handler(agentEvent(), context)).resolves.toBe('alreadyRecorded');

    expect(agentMetrics(output.metrics())).toHaveLength(0);
  });
});

describe('agent audit: idempotency', () => {
  it('records completion under the event id and processes a duplicate once', async () => {
    const key = idempotencyKey(FUNCTION_NAME, 'evt-a1');

    await expect(handler(agentEvent(), context)).resolves.toBe('recorded');
    await expect(handler({ ...agentEvent(), 'replay-name': 'incident-42' }, context)).resolves.toBe('recorded');

    expect(doc.commandCalls(PutCommand)).toHaveLength(1);
    expect(agentMetrics(output.metrics())).toHaveLength(1);
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'idempotency-table',
      Item: {
        id: { S: key },
        status: { S: 'INPROGRESS' },
        expiration: { N: String(NOW_SECONDS + 7 * 86400) },
        in_progress_expiration: { N: String(NOW.getTime() + 30_000) },
      },
    });
    expect(idempotencyItems.get(key)).toMatchObject({ status: { S: 'COMPLETED' }, data: { S: 'recorded' } });
  });

  it('does not record a failed attempt; the retry (Lambda async retry or a replay) redoes it', async () => {
    const key = idempotencyKey(FUNCTION_NAME, 'evt-a1');
    doc.on(PutCommand).rejectsOnce(new Error('Internal server error')).resolves({});

    await expect(handler(agentEvent(), context)).rejects.toThrow('Internal server error');
    expect(ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: 'idempotency-table', Key: { id: { S: key } } },
    ]);
    expect(idempotencyItems.has(key)).toBe(false);
    expect(output.logs().find((l) => l.level === 'ERROR')).toMatchObject({
      message: 'Recording agent action failed; Lambda will retry the event',
      eventId: 'evt-a1',
    });

    await expect(handler(agentEvent(), context)).resolves.toBe('recorded');
    expect(doc.commandCalls(PutCommand)).toHaveLength(2);
    expect(idempotencyItems.get(key)?.status).toEqual({ S: 'COMPLETED' });
  });
});

describe('agent audit: malformed events', () => {
  it.each([
    ['agentId', 'Invalid Fast.io event: detail.agentId is missing'],
    ['eventId', 'Invalid Fast.io event: detail.eventId is missing'],
    ['payload', 'Invalid Fast.io event: detail.payload is missing'],
  ])('throws a clear error for a missing detail.%s, logs it, and records nothing', async (field, text) => {
    const event = agentEvent();
    delete event.detail[field];

    await expect(handler(event, context)).rejects.toThrow(text);

    const errors = output.logs().filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ eventBridgeId: 'eb-evt-a1', field: `detail.${field}` });
    expect(ddb.calls()).toHaveLength(0);
    expect(doc.calls()).toHaveLength(0);
  });

  it('rejects an event that is not from Fast.io', async () => {
    await expect(handler({ ...agentEvent(), source: 'aws.s3' }, context)).rejects.toThrow(
      'Invalid Fast.io event: source must be "fastio"',
    );
  });
});

describe('agent audit: configuration at cold start', () => {
  const importFresh = async (env: Record<string, string | undefined>) => {
    vi.resetModules();
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    try {
      return await import('../../lambdas/agent-audit/handler');
    } finally {
      vi.unstubAllEnvs();
    }
  };

  it('keeps audit items 90 days when AUDIT_RETENTION_DAYS is not set', async () => {
    const fresh = await importFresh({ AUDIT_RETENTION_DAYS: undefined });

    await fresh.handler(agentEvent(), context);

    expect(doc.commandCalls(PutCommand)[0]?.args[0].input.Item?.expiresAt).toBe(NOW_SECONDS + 90 * 86400);
  });

  it.each([
    [{ AUDIT_TABLE_NAME: undefined }, 'Environment variable AUDIT_TABLE_NAME is required'],
    [{ IDEMPOTENCY_TABLE_NAME: undefined }, 'Environment variable IDEMPOTENCY_TABLE_NAME is required'],
    [{ AUDIT_RETENTION_DAYS: 'ninety' }, 'Environment variable AUDIT_RETENTION_DAYS must be a number'],
    [{ AUDIT_RETENTION_DAYS: '0' }, 'AUDIT_RETENTION_DAYS must be a positive number'],
  ])('fails the cold start when %o', async (env, message) => {
    await expect(importFresh(env)).rejects.toThrow(message);
  });
});
