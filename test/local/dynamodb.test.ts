/**
 * Local DynamoDB is dynalite behind the loopback AWS endpoint: tables with the synthesized key
 * schemas, the conditional writes the consumers and Powertools Idempotency send answered by a real
 * DynamoDB implementation through the real SDK client, and injected faults answered in its place.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsEndpoint, close, listen } from '../../lib/local/aws-endpoint';
import { LocalDynamoDb, type TableDefinition } from '../../lib/local/dynamodb';
import type { LocalEventBus } from '../../lib/local/event-bus';
import { FaultRegistry } from '../../lib/local/faults';
import { Flow } from '../../lib/local/flow';
import type { LocalSecret } from '../../lib/local/secrets';

// The catalog consumer's own request builder; its module reads its configuration when imported.
process.env.CATALOG_TABLE_NAME ??= 'catalog';
process.env.IDEMPOTENCY_TABLE_NAME ??= 'idempotency';
const { buildCatalogUpdate } = await import('../../lambdas/catalog-consumer/handler');

const fileEvent = (eventId: string, occurredAt: string): Parameters<typeof buildCatalogUpdate>[0] => ({
  version: '0',
  id: `eb-${eventId}`,
  'detail-type': 'file.uploaded',
  source: 'fastio',
  account: '123456789012',
  time: occurredAt,
  region: 'us-east-1',
  resources: [],
  detail: { eventId, eventType: 'file.uploaded', occurredAt, workspaceId: 'ws_c1', fileId: 'file_c1', fileName: 'report.pdf', extension: 'pdf', sizeBytes: 1234, payload: {} },
});

const tables: TableDefinition[] = [
  { name: 'catalog', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/catalog', logicalId: 'CatalogTable', partitionKey: { name: 'workspaceId', type: 'S' }, sortKey: { name: 'fileId', type: 'S' } },
  { name: 'idempotency', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/idempotency', logicalId: 'IdempotencyTable', partitionKey: { name: 'id', type: 'S' } },
];
const faults = new FaultRegistry();
const dynamodb = new LocalDynamoDb(tables, faults);
let server: Server;
let client: DynamoDBClient;

beforeAll(async () => {
  await dynamodb.start();
  server = createAwsEndpoint({ dynamodb, bus: {} as LocalEventBus, secret: {} as LocalSecret, flow: new Flow() });
  const port = await listen(server, 0);
  client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  if (server) await close(server);
  await dynamodb.stop();
});

describe('local DynamoDB (dynalite)', () => {
  it('a stale catalog update fails its condition as ConditionalCheckFailedException and leaves the newer item', async () => {
    const documents = DynamoDBDocumentClient.from(client);
    const newer = fileEvent('evt_newer', '2025-11-18T14:32:07.000Z');
    const older = fileEvent('evt_older', '2025-11-18T14:00:00.000Z');
    await documents.send(new UpdateCommand(buildCatalogUpdate(newer, 'catalog')));
    const error = await documents.send(new UpdateCommand(buildCatalogUpdate(older, 'catalog'))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ConditionalCheckFailedException');
    expect(await dynamodb.scan('catalog')).toEqual([expect.objectContaining({ workspaceId: 'ws_c1', fileId: 'file_c1', lastEventId: 'evt_newer' })]);
  });

  it('Powertools Idempotency’s put condition refuses a live record with ConditionalCheckFailedException', async () => {
    const put = (status: string) =>
      new PutItemCommand({
        TableName: 'idempotency',
        Item: { id: { S: 'fn#1' }, status: { S: status }, expiration: { N: String(Math.floor(Date.now() / 1000) + 3600) } },
        ConditionExpression: 'attribute_not_exists(#id) OR #expiry < :now',
        ExpressionAttributeNames: { '#id': 'id', '#expiry': 'expiration' },
        ExpressionAttributeValues: { ':now': { N: String(Date.now() / 1000) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    await client.send(put('INPROGRESS'));
    await expect(client.send(put('COMPLETED'))).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await client.send(new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: 'fn#1' } }, ConsistentRead: true }))).Item?.status).toEqual({ S: 'INPROGRESS' });
  });

  it('tables have the template’s key schema', async () => {
    await expect(client.send(new GetItemCommand({ TableName: 'catalog', Key: { workspaceId: { S: 'ws' } } }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'x' } } }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('an injected fault fails only the matching calls, as the service would, and the log shows it', async () => {
    faults.add({ service: 'dynamodb', operation: 'GetItem', table: 'idempotency', key: { id: 'fn#2' }, errorCode: 'ProvisionedThroughputExceededException', times: 1 });
    const get = (id: string) => client.send(new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: id } } }));
    await expect(get('fn#1')).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    await expect(get('fn#2')).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });
    await expect(get('fn#2')).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(dynamodb.operations.slice(-3).map(({ key, outcome }) => [key.id, outcome])).toEqual([
      ['fn#1', 'ok'],
      ['fn#2', 'ProvisionedThroughputExceededException (injected)'],
      ['fn#2', 'ok'],
    ]);
  });
});
