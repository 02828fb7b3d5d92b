/**
 * The local DynamoDB stand-in: the expressions the consumers, Powertools Idempotency and the review
 * workflow send, DynamoDB's validation, and the JSON protocol as the real SDK client sees it.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsEndpoint, close, listen } from '../../lib/local/aws-endpoint';
import { DynamoDbError, Placeholders, parseCondition, parseUpdate, type AttributeValue, type Item } from '../../lib/local/dynamodb-expressions';
import { LocalDynamoDb, type TableDefinition } from '../../lib/local/dynamodb';
import type { LocalEventBus } from '../../lib/local/event-bus';
import { FaultRegistry } from '../../lib/local/faults';
import { Flow } from '../../lib/local/flow';
import type { LocalSecret } from '../../lib/local/secrets';
import type { LocalS3 } from '../../lib/local/s3';

// The catalog consumer's own condition strings; its module reads its configuration when imported.
process.env.CATALOG_TABLE_NAME ??= 'catalog';
process.env.IDEMPOTENCY_TABLE_NAME ??= 'idempotency';
const { DELETE_CONDITION, UPSERT_CONDITION } = await import('../../lambdas/catalog-consumer/handler');

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function condition(expression: string, item: Item | undefined, names?: Record<string, string>, values?: Record<string, AttributeValue>): boolean {
  const placeholders = new Placeholders(names, values);
  const compiled = parseCondition(expression, placeholders);
  placeholders.assertAllUsed();
  return compiled.matches(item);
}

describe('condition expressions', () => {
  const names = { '#lastEventAt': 'lastEventAt', '#lastEventId': 'lastEventId', '#deleted': 'deleted' };
  const values = { ':eventAt': S('2025-11-18T14:32:07.000Z'), ':eventId': S('evt_b'), ':false': { BOOL: false } };
  const SAME_SECOND = S('2025-11-18T14:32:07.000Z');

  it.each([
    ['a new file', undefined, true],
    ['an older, live file', { lastEventAt: S('2025-11-18T10:00:00.000Z'), deleted: { BOOL: false } }, true],
    ['a newer file', { lastEventAt: S('2025-11-18T20:00:00.000Z'), deleted: { BOOL: false } }, false],
    ['a deleted file', { lastEventAt: S('2025-11-18T10:00:00.000Z'), deleted: { BOOL: true } }, false],
    ['a live file last changed in the same second by a smaller event id', { lastEventAt: SAME_SECOND, lastEventId: S('evt_a'), deleted: { BOOL: false } }, true],
    ['a live file last changed in the same second by a larger event id', { lastEventAt: SAME_SECOND, lastEventId: S('evt_c'), deleted: { BOOL: false } }, false],
    ['a live file last changed by this very event', { lastEventAt: SAME_SECOND, lastEventId: S('evt_b'), deleted: { BOOL: false } }, false],
  ] as const)('the catalog upsert condition on %s', (_what, item, expected) => {
    expect(condition(UPSERT_CONDITION, item as Item | undefined, names, values)).toBe(expected);
  });

  it.each([
    ['a new file (tombstone)', undefined, true],
    ['a live file, even a newer one', { lastEventAt: S('2025-11-18T20:00:00.000Z'), deleted: { BOOL: false } }, true],
    ['an older delete', { lastEventAt: S('2025-11-18T10:00:00.000Z'), deleted: { BOOL: true } }, true],
    ['a newer delete', { lastEventAt: S('2025-11-18T20:00:00.000Z'), deleted: { BOOL: true } }, false],
    ['a delete in the same second by a smaller event id', { lastEventAt: SAME_SECOND, lastEventId: S('evt_a'), deleted: { BOOL: true } }, true],
    ['a delete in the same second by a larger event id', { lastEventAt: SAME_SECOND, lastEventId: S('evt_c'), deleted: { BOOL: true } }, false],
  ] as const)('the catalog delete condition on %s', (_what, item, expected) => {
    expect(condition(DELETE_CONDITION, item as Item | undefined, names, values)).toBe(expected);
  });

  it('Powertools Idempotency’s put condition: absent, expired, or an expired in-progress record', () => {
    const expression = 'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)';
    const idNames = { '#id': 'id', '#expiry': 'expiration', '#in_progress_expiry': 'in_progress_expiration', '#status': 'status' };
    const now = 1_800_000_000_000;
    const idValues = { ':now': N(now / 1000), ':now_in_millis': N(now), ':inprogress': S('INPROGRESS') };
    const record = (status: string, expiration: number, inProgress?: number): Item => ({
      id: S('fn#hash'),
      status: S(status),
      expiration: N(expiration),
      ...(inProgress === undefined ? {} : { in_progress_expiration: N(inProgress) }),
    });
    expect(condition(expression, undefined, idNames, idValues)).toBe(true);
    expect(condition(expression, record('COMPLETED', now / 1000 + 60), idNames, idValues)).toBe(false);
    expect(condition(expression, record('COMPLETED', now / 1000 - 1), idNames, idValues)).toBe(true);
    expect(condition(expression, record('INPROGRESS', now / 1000 + 60, now + 1000), idNames, idValues)).toBe(false);
    expect(condition(expression, record('INPROGRESS', now / 1000 + 60, now - 1), idNames, idValues)).toBe(true);
  });

  it('numbers compare as numbers, strings as UTF-8 bytes, and mismatched types never order', () => {
    expect(condition('a < :v', { a: N(9) }, undefined, { ':v': N(10) })).toBe(true);
    expect(condition('a < :v', { a: S('9') }, undefined, { ':v': S('10') })).toBe(false);
    expect(condition('a = :v', { a: N(1) }, undefined, { ':v': { N: '1.00' } })).toBe(true);
    expect(condition('a < :v', { a: S('1') }, undefined, { ':v': N(2) })).toBe(false);
    expect(condition('NOT a = :v', { a: S('x') }, undefined, { ':v': S('x') })).toBe(false);
    expect(condition('a <> :v', undefined, undefined, { ':v': S('x') })).toBe(true);
    expect(condition('a BETWEEN :lo AND :hi', { a: N(5) }, undefined, { ':lo': N(1), ':hi': N(5) })).toBe(true);
    expect(condition('a IN (:x, :y)', { a: S('y') }, undefined, { ':x': S('x'), ':y': S('y') })).toBe(true);
    expect(condition('begins_with(a, :p) AND size(a) > :n', { a: S('prefix-1') }, undefined, { ':p': S('pre'), ':n': N(3) })).toBe(true);
    expect(condition('contains(tags, :t) AND attribute_type(tags, :ss)', { tags: { SS: ['a', 'b'] } }, undefined, { ':t': S('b'), ':ss': S('SS') })).toBe(true);
    expect(condition('m.k[1] = :v', { m: { M: { k: { L: [S('x'), S('y')] } } } }, undefined, { ':v': S('y') })).toBe(true);
  });

  it.each([
    ['a reserved word as a plain name (use #placeholders)', 'status = :v', { ':v': S('x') }, undefined, /reserved keyword; reserved keyword: status/],
    ['an undefined value placeholder', 'a = :nope', { ':v': S('x') }, undefined, /attribute value: :nope/],
    ['an unused value placeholder', 'a = :v', { ':v': S('x'), ':w': S('y') }, undefined, /unused in expressions: keys: \{:w\}/],
    ['an undefined name placeholder', '#a = :v', { ':v': S('x') }, { '#b': 'b' }, /attribute name: #a/],
    ['a syntax error', 'a = = :v', { ':v': S('x') }, undefined, /Syntax error; token: "="/],
    ['an unknown function', 'exists(a)', undefined, undefined, /Invalid function name; function: exists/],
    ['a stray character', 'a = :v ;', { ':v': S('x') }, undefined, /Syntax error; token: ";"/],
  ])('fails loudly with a ValidationException on %s', (_what, expression, values, names, message) => {
    let thrown: unknown;
    try {
      condition(expression, {}, names, values as Record<string, AttributeValue> | undefined);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DynamoDbError);
    expect((thrown as DynamoDbError).code).toBe('ValidationException');
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('update expressions', () => {
  const apply = (expression: string, item: Item | undefined, values?: Record<string, AttributeValue>, names?: Record<string, string>) => {
    const placeholders = new Placeholders(names, values);
    const update = parseUpdate(expression, placeholders, ['pk']);
    placeholders.assertAllUsed();
    return update.apply(item, { pk: S('k') });
  };

  it('SET with placeholders creates the item from its key, as the workflow’s first UpdateItem does', () => {
    expect(apply('SET reviewStatus = :pending, reviewEventId = :eventId', undefined, { ':pending': S('PENDING'), ':eventId': S('evt-1') })).toEqual({
      pk: S('k'),
      reviewStatus: S('PENDING'),
      reviewEventId: S('evt-1'),
    });
  });

  it('SET arithmetic, if_not_exists and list_append; REMOVE; ADD; DELETE', () => {
    const item: Item = { pk: S('k'), n: N(1), l: { L: [S('a')] }, gone: S('x'), tags: { SS: ['a', 'b'] } };
    expect(
      apply('SET n = n + :one, created = if_not_exists(created, :now), l = list_append(l, :more) REMOVE gone ADD visits :one DELETE tags :a', item, {
        ':one': N(1),
        ':now': S('t0'),
        ':more': { L: [S('b')] },
        ':a': { SS: ['a'] },
      }),
    ).toEqual({ pk: S('k'), n: N(2), created: S('t0'), l: { L: [S('a'), S('b')] }, visits: N(1), tags: { SS: ['b'] } });
  });

  it('rejects updating a key attribute and overlapping paths', () => {
    expect(() => apply('SET pk = :v', undefined, { ':v': S('x') })).toThrow(/Cannot update attribute pk. This attribute is part of the key/);
    expect(() => apply('SET a = :v REMOVE a', undefined, { ':v': S('x') })).toThrow(/Two document paths overlap/);
    expect(() => apply('SET a = :v SET b = :v', undefined, { ':v': S('x') })).toThrow(/can only be used once/);
  });
});

describe('the DynamoDB JSON protocol through the real SDK client', () => {
  const tables: TableDefinition[] = [
    { name: 'catalog', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/catalog', logicalId: 'CatalogTable', partitionKey: { name: 'workspaceId', type: 'S' }, sortKey: { name: 'fileId', type: 'S' } },
    { name: 'idempotency', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/idempotency', logicalId: 'IdempotencyTable', partitionKey: { name: 'id', type: 'S' } },
  ];
  const faults = new FaultRegistry();
  const dynamodb = new LocalDynamoDb(tables, faults);
  let server: Server;
  let client: DynamoDBClient;

  beforeAll(async () => {
    server = createAwsEndpoint({ dynamodb, bus: {} as LocalEventBus, secret: {} as LocalSecret, s3: {} as LocalS3, flow: new Flow() });
    const port = await listen(server, 0);
    client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await close(server);
  });

  it('a failed condition is a ConditionalCheckFailedException carrying the item for ReturnValuesOnConditionCheckFailure', async () => {
    const put = (status: string) =>
      new PutItemCommand({
        TableName: 'idempotency',
        Item: { id: { S: 'fn#1' }, status: { S: status } },
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': 'id' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    await client.send(put('INPROGRESS'));
    const error = await client.send(put('COMPLETED')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect((error as ConditionalCheckFailedException).Item).toEqual({ id: { S: 'fn#1' }, status: { S: 'INPROGRESS' } });
    expect((await client.send(new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: 'fn#1' } }, ConsistentRead: true }))).Item?.status).toEqual({ S: 'INPROGRESS' });
  });

  it('the catalog consumer’s document-client UpdateItem, and the key schema checks', async () => {
    const documents = DynamoDBDocumentClient.from(client);
    await documents.send(
      new UpdateCommand({
        TableName: 'catalog',
        Key: { workspaceId: 'ws-1', fileId: 'f-1' },
        UpdateExpression: 'SET #lastEventAt = :eventAt, #lastEventId = :eventId, #deleted = :deleted',
        ConditionExpression: UPSERT_CONDITION,
        ExpressionAttributeNames: { '#lastEventAt': 'lastEventAt', '#lastEventId': 'lastEventId', '#deleted': 'deleted' },
        ExpressionAttributeValues: { ':eventAt': '2025-11-18T14:32:07.000Z', ':eventId': 'evt_1', ':deleted': false, ':false': false },
      }),
    );
    expect(dynamodb.scan('catalog')).toEqual([{ workspaceId: 'ws-1', fileId: 'f-1', lastEventAt: '2025-11-18T14:32:07.000Z', lastEventId: 'evt_1', deleted: false }]);
    await expect(client.send(new UpdateItemCommand({ TableName: 'catalog', Key: { workspaceId: { S: 'ws-1' } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } }))).rejects.toThrow(
      'The provided key element does not match the schema',
    );
    await expect(client.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'x' } } }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('an injected fault answers the call as the service would', async () => {
    faults.add({ service: 'dynamodb', operation: 'GetItem', table: 'idempotency', errorCode: 'ProvisionedThroughputExceededException', times: 1 });
    await expect(client.send(new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: 'x' } } }))).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    await expect(client.send(new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: 'x' } } }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });
});
