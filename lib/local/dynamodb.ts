/**
 * Local DynamoDB: dynalite (a DynamoDB implementation with an in-memory store) running in this
 * process on loopback, with the tables and key schemas of the synthesized template. Every call
 * goes through `handle`, from the AWS endpoint (the functions' SDK clients) and from the Step
 * Functions integrations alike, so faults stay injectable and the operation log sees every call;
 * dynalite answers everything else, expressions and validation included, with the service's
 * error names (ConditionalCheckFailedException, ValidationException, ...).
 */
import { createRequire } from 'node:module';
import { Agent, request, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { close, listen } from './aws-endpoint';
import { AwsServiceError } from './aws-service-error';
import type { FaultRegistry } from './faults';

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

export interface TableDefinition {
  readonly name: string;
  readonly arn: string;
  readonly logicalId: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface DynamoDbOperationRecord {
  readonly at: number;
  readonly operation: string;
  readonly table: string;
  readonly key: Record<string, string | number | undefined>;
  /** 'ok', 'ConditionalCheckFailedException', or the error code. */
  readonly outcome: string;
}

export class DynamoDbError extends AwsServiceError {}

type Json = Record<string, unknown>;
type AttributeValue = Readonly<Record<string, unknown>>;

interface DynaliteOptions {
  readonly createTableMs?: number;
  readonly deleteTableMs?: number;
  readonly updateTableMs?: number;
}
// dynalite is CommonJS without type declarations.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

// dynalite checks that a request is signed, not the signature.
const AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0';

/** DynamoDB JSON to plain values (numbers as numbers, sets as arrays), for tests and the control endpoint. */
function toPlain(value: AttributeValue): unknown {
  const [type, inner] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'N':
      return Number(inner);
    case 'NS':
      return (inner as string[]).map(Number);
    case 'M':
      return itemToPlain(inner as Record<string, AttributeValue>);
    case 'L':
      return (inner as AttributeValue[]).map(toPlain);
    case 'NULL':
      return null;
    default:
      return inner;
  }
}

function itemToPlain(item: Readonly<Record<string, AttributeValue>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, toPlain(value)]));
}

export class LocalDynamoDb {
  readonly operations: DynamoDbOperationRecord[] = [];
  readonly #tables = new Map<string, TableDefinition>();
  #server: Server | undefined;
  #port = 0;
  // node:http with keep-alive costs a fraction of fetch's CPU per call, and every item operation pays it.
  readonly #agent = new Agent({ keepAlive: true });

  constructor(
    private readonly definitions: readonly TableDefinition[],
    private readonly faults: FaultRegistry,
    private readonly now: () => number = Date.now,
  ) {
    for (const definition of definitions) {
      this.#tables.set(definition.name, definition);
      this.#tables.set(definition.arn, definition);
    }
  }

  /** Starts dynalite on an ephemeral loopback port and creates the tables. */
  async start(): Promise<void> {
    this.#server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    this.#port = await listen(this.#server, 0);
    for (const definition of this.definitions) {
      const keys = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
      await this.call('CreateTable', {
        TableName: definition.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
        KeySchema: keys.map((key, i) => ({ AttributeName: key.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      });
    }
    // Even with no creation delay, dynalite marks a table ACTIVE on a later tick.
    for (const definition of this.definitions) {
      while (((await this.call('DescribeTable', { TableName: definition.name })).Table as Json | undefined)?.TableStatus !== 'ACTIVE') await sleep(1);
    }
  }

  async stop(): Promise<void> {
    this.#agent.destroy();
    if (this.#server?.listening) await close(this.#server);
  }

  get tableNames(): string[] {
    return this.definitions.map((definition) => definition.name);
  }

  definition(nameOrFragment: string): TableDefinition | undefined {
    const direct = this.#tables.get(nameOrFragment);
    if (direct) return direct;
    const fragment = nameOrFragment.toLowerCase();
    return this.definitions.find((definition) => definition.logicalId.toLowerCase().includes(fragment));
  }

  /** Every item of a table (name, ARN, or logical id fragment such as "catalog"), as plain objects. */
  async scan(nameOrFragment: string): Promise<Record<string, unknown>[]> {
    const definition = this.definition(nameOrFragment);
    if (!definition) throw new Error(`no local table "${nameOrFragment}"; tables: ${this.tableNames.join(', ')}`);
    const items: Record<string, unknown>[] = [];
    let start: unknown;
    do {
      const page = await this.call('Scan', { TableName: definition.name, ...(start === undefined ? {} : { ExclusiveStartKey: start }) });
      for (const item of page.Items as Record<string, AttributeValue>[]) items.push(itemToPlain(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** One JSON-protocol operation: an injected fault if one matches, else dynalite's answer. Throws DynamoDbError. */
  async handle(operation: string, input: Json): Promise<Json> {
    const definition = typeof input.TableName === 'string' ? this.#tables.get(input.TableName) : undefined;
    const table = definition?.name ?? String(input.TableName ?? '');
    const key = definition ? plainKey(definition, operation === 'PutItem' ? input.Item : input.Key) : {};
    const fault = this.faults.take({ service: 'dynamodb', operation, tableName: table, ...(definition ? { tableLogicalId: definition.logicalId } : {}), key });
    const record = (outcome: string) => this.operations.push({ at: this.now(), operation, table, key, outcome });
    if (fault) {
      const code = fault.errorCode ?? 'InternalServerError';
      record(`${code} (injected)`);
      throw new DynamoDbError(code, fault.message ?? `injected by the local pipeline (fault #${fault.id})`, fault.statusCode ?? (code === 'InternalServerError' ? 500 : 400));
    }
    try {
      // DynamoDB accepts a table ARN as TableName; dynalite only names.
      const output = await this.call(operation, definition ? { ...input, TableName: definition.name } : input);
      record('ok');
      return output;
    } catch (error) {
      record(error instanceof DynamoDbError ? error.code : 'error');
      throw error;
    }
  }

  private async call(operation: string, input: Json): Promise<Json> {
    const payload = JSON.stringify(input);
    const { status, body } = await new Promise<{ status: number; body: Json }>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: this.#port,
          method: 'POST',
          agent: this.#agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': Buffer.byteLength(payload),
            'x-amz-target': `DynamoDB_20120810.${operation}`,
            'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
            authorization: AUTHORIZATION,
          },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            try {
              resolve({ status: response.statusCode ?? 500, body: JSON.parse(text) as Json });
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
    if (status === 200) return body;
    const { __type: type, message, Message, ...extra } = body;
    const code = String(type ?? 'InternalServerError').split('#').pop() as string;
    throw new DynamoDbError(code, String(message ?? Message ?? code), status, extra);
  }
}

/** The key attributes of an item or Key parameter, as plain values (for fault matching and the log). */
function plainKey(definition: TableDefinition, item: unknown): Record<string, string | number | undefined> {
  const values = (typeof item === 'object' && item !== null ? item : {}) as Record<string, AttributeValue | undefined>;
  const key: Record<string, string | number | undefined> = {};
  for (const attribute of [definition.partitionKey, definition.sortKey]) {
    if (attribute === undefined) continue;
    const inner = values[attribute.name]?.[attribute.type];
    key[attribute.name] = inner === undefined ? undefined : attribute.type === 'N' ? Number(inner) : String(inner);
  }
  return key;
}
