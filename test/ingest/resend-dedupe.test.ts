/**
 * Resends recognised at the door (DESIGN.md decision 16), by effects: how many entries reach the
 * bus per Fast.io event id. The dedupe table is the local DynamoDB stand-in (the semantics of
 * conditions and ReturnValuesOnConditionCheckFailure, held to DynamoDB's in its own tests) behind
 * aws-sdk-client-mock, so the handler's real conditional writes decide.
 */
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signWebhook } from '../../lib/domain/webhook-signature';
import { LocalDynamoDb } from '../../lib/local/dynamodb';
import { AwsServiceError } from '../../lib/local/aws-service-error';
import { FaultRegistry } from '../../lib/local/faults';
import {
  CURRENT_SECRET,
  DEDUPE_TABLE,
  NOW,
  NOW_SECONDS,
  SECRET_ARN,
  apiEvent,
  bodyOf,
  captureOutput,
  fixture,
  lambdaContext,
  loadHandler,
  setEnv,
  type CapturedOutput,
  type Handler,
} from './support';

const secretsManager = mockClient(SecretsManagerClient);
const eventBridge = mockClient(EventBridgeClient);
const dynamoDb = mockClient(DynamoDBClient);

const HOUR = 3_600_000;
const DOCUMENT = fixture('document-uploaded.json');
const DOCUMENT_EVENT_ID = String((JSON.parse(DOCUMENT.toString('utf8')) as { event_id: string }).event_id);

let output: CapturedOutput;
let table: LocalDynamoDb;
let faults: FaultRegistry;
/** Entries EventBridge accepted, per Fast.io event id: what is on the bus. */
let onBus: Map<string, number>;
let eventIds: number;

function mockSecret(): void {
  secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({
    ARN: SECRET_ARN,
    VersionId: 'v-current',
    SecretString: CURRENT_SECRET,
    CreatedDate: new Date(NOW.getTime() - 30 * 24 * HOUR),
  });
  secretsManager
    .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
    .rejects(new ResourceNotFoundException({ message: 'no AWSPREVIOUS', $metadata: {} }));
}

/** The dedupe table: the stand-in answers, its errors become the SDK's. */
function backDynamoDbWithStandIn(): void {
  faults = new FaultRegistry();
  table = new LocalDynamoDb(
    [{ name: DEDUPE_TABLE, arn: `arn:aws:dynamodb:eu-west-1:123456789012:table/${DEDUPE_TABLE}`, logicalId: 'DedupeTable', partitionKey: { name: 'eventId', type: 'S' } }],
    faults,
    () => Date.now(),
  );
  const run = (operation: string) => async (input: object) => {
    try {
      return table.handle(operation, structuredClone(input) as Record<string, unknown>);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      if (error.code === 'ConditionalCheckFailedException') {
        throw new ConditionalCheckFailedException({ message: error.message, $metadata: {}, Item: error.extra.Item as never });
      }
      throw Object.assign(new Error(error.message), { name: error.code });
    }
  };
  dynamoDb.on(PutItemCommand).callsFake(run('PutItem'));
  dynamoDb.on(UpdateItemCommand).callsFake(run('UpdateItem'));
}

function publishedOnBus(input: PutEventsCommandInput) {
  eventIds += 1;
  for (const entry of input.Entries ?? []) {
    const id = String((JSON.parse(entry.Detail ?? '{}') as { eventId?: string }).eventId);
    onBus.set(id, (onBus.get(id) ?? 0) + 1);
  }
  return { FailedEntryCount: 0, Entries: [{ EventId: `eb-${eventIds}` }] };
}

const deliver = (handler: Handler, body: Buffer = DOCUMENT) =>
  handler(apiEvent({ body: body.toString(), headers: signWebhook({ rawBody: body, secret: CURRENT_SECRET, scheme: 'body-hmac', timestamp: NOW_SECONDS }) }), lambdaContext);

function claimOf(eventId: string): Record<string, unknown> | undefined {
  return table.scan(DEDUPE_TABLE).find((item) => item.eventId === eventId);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  secretsManager.reset();
  eventBridge.reset();
  dynamoDb.reset();
  onBus = new Map();
  eventIds = 0;
  mockSecret();
  backDynamoDbWithStandIn();
  eventBridge.on(PutEventsCommand).callsFake(publishedOnBus);
  setEnv();
  output = captureOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('a resend of a published event', () => {
  it('after a lost 202: answered 200 as a duplicate with the first event id, and not published again', async () => {
    // GIVEN a delivery that was published (its 202 lost on the way back)
    const handler = await loadHandler();
    const first = await deliver(handler);
    expect(first.statusCode).toBe(202);
    // WHEN Fast.io resends the same body a minute later
    vi.setSystemTime(NOW.getTime() + 60_000);
    const resend = await deliver(handler);
    // THEN it is one entry on the bus, and the resend is told so
    expect(resend.statusCode).toBe(200);
    expect(bodyOf(resend)).toEqual({ fastioEventId: DOCUMENT_EVENT_ID, duplicate: true, eventBridgeEventId: (bodyOf(first) as { eventBridgeEventId: string }).eventBridgeEventId });
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(1);
    expect(output.metrics('WebhookDuplicate')).toHaveLength(1);
    expect(output.records().find((record) => record.outcome === 'duplicate')).toMatchObject({ level: 'INFO', eventId: DOCUMENT_EVENT_ID });
  });

  it('on a cold start too: the table, not the container, remembers', async () => {
    expect((await deliver(await loadHandler())).statusCode).toBe(202);
    expect((await deliver(await loadHandler())).statusCode).toBe(200);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(1);
  });

  it('after the window: published again (an expired claim counts as none, before TTL deletes it)', async () => {
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(202);
    vi.setSystemTime(NOW.getTime() + 24 * HOUR + 1_000);
    expect((await deliver(handler)).statusCode).toBe(202);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(2);
  });

  it('stores the claim with a TTL at the end of the window and the published event id', async () => {
    await deliver(await loadHandler());
    expect(claimOf(DOCUMENT_EVENT_ID)).toMatchObject({ status: 'published', expiresAt: NOW_SECONDS + 24 * 3600, eventBridgeEventId: 'eb-1' });
  });
});

describe('a concurrent duplicate', () => {
  it('is answered 503 with retry-after while the first publishes, then as a duplicate: one entry on the bus', async () => {
    // GIVEN a first delivery whose PutEvents is still in flight
    let finishFirst: () => void = () => undefined;
    const firstInFlight = new Promise<void>((resolve) => (finishFirst = resolve));
    eventBridge.on(PutEventsCommand).callsFakeOnce(async (input: PutEventsCommandInput) => {
      await firstInFlight;
      return publishedOnBus(input);
    });
    const handler = await loadHandler();
    const first = deliver(handler);
    await vi.waitFor(() => expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1));
    // WHEN the same event arrives again meanwhile
    const concurrent = await deliver(handler);
    // THEN it is deferred (not dropped, not published), until the first claim's lease could end
    expect(concurrent.statusCode).toBe(503);
    expect(Number(concurrent.headers?.['retry-after'])).toBe(Math.ceil((lambdaContext.getRemainingTimeInMillis() + 1_000) / 1000));
    expect(output.records().find((record) => record.outcome === 'resend-in-progress')).toMatchObject({ level: 'WARN', eventId: DOCUMENT_EVENT_ID });
    expect(output.metrics('ResendInProgress')).toHaveLength(1);
    expect(output.metrics('WebhookRejected')).toHaveLength(0);
    finishFirst();
    expect((await first).statusCode).toBe(202);
    // AND Fast.io's retry finds it published
    expect((await deliver(handler)).statusCode).toBe(200);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(1);
  });
});

describe('a resend of an event whose publish failed', () => {
  it('is published: the failed publish released its claim', async () => {
    // GIVEN PutEvents fails for the first delivery
    eventBridge.on(PutEventsCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).callsFake(publishedOnBus);
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(503);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBeUndefined();
    expect(claimOf(DOCUMENT_EVENT_ID)).toMatchObject({ status: 'failed' });
    // WHEN Fast.io resends at once
    const resend = await deliver(handler);
    // THEN it is published, once
    expect(resend.statusCode).toBe(202);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(1);
    expect(output.metrics('WebhookRepublished')).toHaveLength(0);
  });

  it('is published after the lease when the claim could not be released either, and is not counted as a republish', async () => {
    eventBridge.on(PutEventsCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).callsFake(publishedOnBus);
    faults.add({ service: 'dynamodb', operation: 'UpdateItem', errorCode: 'InternalServerError', statusCode: 500, times: 1 });
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(503);
    expect(output.records().find((record) => record.message === 'releasing the dedupe claim failed')).toMatchObject({ errorCode: 'InternalServerError' });
    // inside the lease: deferred; after it: published
    expect((await deliver(handler)).statusCode).toBe(503);
    vi.setSystemTime(NOW.getTime() + 12_000);
    expect((await deliver(handler)).statusCode).toBe(202);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(1);
  });
});

describe('an invocation that died between PutEvents and its mark', () => {
  it('leaves a claim that a resend takes over after the lease: published again, logged and counted as republished', async () => {
    // GIVEN the event was published but the mark failed (the same as a crash right after PutEvents)
    faults.add({ service: 'dynamodb', operation: 'UpdateItem', errorCode: 'ProvisionedThroughputExceededException', times: 1 });
    const handler = await loadHandler();
    const first = await deliver(handler);
    // THEN the first delivery still gets 202: its event is on the bus, and a 5xx would only cause the resend
    expect(first.statusCode).toBe(202);
    expect(output.metrics('DedupeStoreFailed')).toHaveLength(1);
    expect(output.records().find((record) => record.message === 'marking the event published in the dedupe table failed')).toMatchObject({ level: 'WARN' });
    // WHEN a resend arrives after the lease
    vi.setSystemTime(NOW.getTime() + 12_000);
    expect((await deliver(handler)).statusCode).toBe(202);
    // THEN the second publish is not silent
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(2);
    expect(output.metrics('WebhookRepublished')).toHaveLength(1);
    expect(output.records().filter((record) => record.message === 'webhook accepted').map((record) => record.republished)).toEqual([undefined, true]);
  });
});

describe('the dedupe table failing', () => {
  it.each([
    ['throttled', 'ProvisionedThroughputExceededException', 400],
    ['a 5xx', 'InternalServerError', 500],
    ['access denied', 'AccessDeniedException', 400],
  ])('%s on the claim: 503 with retry-after, a log line and a metric, nothing published', async (_name, errorCode, statusCode) => {
    faults.add({ service: 'dynamodb', operation: 'PutItem', errorCode, statusCode });
    const handler = await loadHandler();
    const response = await deliver(handler);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('30');
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(output.metrics('DedupeStoreFailed')).toHaveLength(1);
    expect(output.records().find((record) => record.outcome === 'dedupe-unavailable')).toMatchObject({ level: 'ERROR', errorCode, eventId: DOCUMENT_EVENT_ID });
    // AND Fast.io's resend, once the table answers, is published once
    faults.remove();
    expect((await deliver(handler)).statusCode).toBe(202);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(1);
  });
});

describe('what the dedupe leaves alone', () => {
  it('DEDUPE_WINDOW_HOURS=0 turns it off: every delivery is published, the table is never called', async () => {
    setEnv({ DEDUPE_WINDOW_HOURS: '0', DEDUPE_TABLE_NAME: undefined });
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(202);
    expect((await deliver(handler)).statusCode).toBe(202);
    expect(onBus.get(DOCUMENT_EVENT_ID)).toBe(2);
    expect(dynamoDb.calls()).toHaveLength(0);
  });

  it('quarantined deliveries (no Fast.io event id, only a hash of the bytes) are published without a claim', async () => {
    const notJson = Buffer.from('this is not json');
    const handler = await loadHandler();
    expect((await deliver(handler, notJson)).statusCode).toBe(202);
    expect((await deliver(handler, notJson)).statusCode).toBe(202);
    expect([...onBus.values()]).toEqual([2]);
    expect(dynamoDb.calls()).toHaveLength(0);
  });

  it('a positive window without a table name fails the cold start', async () => {
    setEnv({ DEDUPE_TABLE_NAME: undefined });
    await expect(loadHandler()).rejects.toThrow('DEDUPE_TABLE_NAME is required while DEDUPE_WINDOW_HOURS is above 0');
  });
});
