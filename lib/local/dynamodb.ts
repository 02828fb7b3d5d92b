/**
 * The local DynamoDB stand-in: in-memory tables with the key schemas of the synthesized template,
 * and GetItem / PutItem / UpdateItem / DeleteItem with the semantics the consumers, Powertools
 * Idempotency and the review workflow rely on (conditions, ReturnValues,
 * ReturnValuesOnConditionCheckFailure, key and size validation, ConditionalCheckFailedException).
 * Requests and responses are the DynamoDB JSON protocol's shapes, so the same functions serve the
 * SDK (through the loopback endpoint) and the Step Functions integrations.
 */
import { FaultRegistry } from './faults';
import {
  DynamoDbError,
  Placeholders,
  itemSizeBytes,
  parseCondition,
  parseProjection,
  parseUpdate,
  project,
  typeOf,
  validateValue,
  validation,
  type AttributeValue,
  type Item,
} from './dynamodb-expressions';

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

const MAX_ITEM_BYTES = 400 * 1024;
const UNSUPPORTED_LEGACY = ['Expected', 'AttributeUpdates', 'ConditionalOperator', 'AttributesToGet'];

type Json = Record<string, unknown>;

class Table {
  readonly items = new Map<string, Item>();
  constructor(readonly definition: TableDefinition) {}

  get keyNames(): string[] {
    return [this.definition.partitionKey.name, ...(this.definition.sortKey ? [this.definition.sortKey.name] : [])];
  }

  /** Validates a Key parameter (exactly the key attributes) and returns its storage id. */
  keyOf(key: unknown, exact: boolean): { id: string; key: Item } {
    if (typeof key !== 'object' || key === null) throw validation('The provided key element does not match the schema');
    const given = key as Record<string, unknown>;
    const attributes = this.keyNames;
    if (exact && Object.keys(given).length !== attributes.length) throw validation('The provided key element does not match the schema');
    const parts: string[] = [];
    const normalized: Item = {};
    for (const definition of [this.definition.partitionKey, this.definition.sortKey]) {
      if (definition === undefined) continue;
      const raw = given[definition.name];
      if (raw === undefined) {
        throw validation(exact ? 'The provided key element does not match the schema' : `One or more parameter values were invalid: Missing the key ${definition.name} in the item`);
      }
      const value = validateValue(raw, definition.name);
      const type = typeOf(value);
      if (type !== definition.type) {
        throw validation(`One or more parameter values were invalid: Type mismatch for key ${definition.name} expected: ${definition.type} actual: ${type}`);
      }
      const text = (value as Record<string, string>)[type] ?? '';
      if (text === '') {
        throw validation(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${definition.name}`);
      }
      normalized[definition.name] = value;
      parts.push(`${type}:${text}`);
    }
    return { id: JSON.stringify(parts), key: normalized };
  }
}

function plainKey(key: Item): Record<string, string | number | undefined> {
  const result: Record<string, string | number | undefined> = {};
  for (const [name, value] of Object.entries(key)) {
    const type = typeOf(value);
    result[name] = type === 'N' ? Number((value as { N: string }).N) : ((value as Record<string, string>)[type] ?? undefined);
  }
  return result;
}

/** Converts DynamoDB JSON to plain values (numbers as numbers, sets as arrays). */
export function toPlain(value: AttributeValue): unknown {
  const type = typeOf(value);
  const inner = (value as unknown as Record<string, unknown>)[type];
  switch (type) {
    case 'N':
      return Number(inner);
    case 'NS':
      return (inner as string[]).map(Number);
    case 'M':
      return Object.fromEntries(Object.entries(inner as Record<string, AttributeValue>).map(([k, v]) => [k, toPlain(v)]));
    case 'L':
      return (inner as AttributeValue[]).map(toPlain);
    case 'NULL':
      return null;
    default:
      return inner;
  }
}

export function itemToPlain(item: Item): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toPlain(v)]));
}

function str(input: Json, name: string): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw validation(`${name} must be a string`);
  return value;
}

function returnValues(input: Json, allowed: readonly string[]): string {
  const value = str(input, 'ReturnValues') ?? 'NONE';
  if (!allowed.includes(value)) throw validation(`1 validation error detected: Value '${value}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return value;
}

export class LocalDynamoDb {
  readonly #tables = new Map<string, Table>();
  readonly operations: DynamoDbOperationRecord[] = [];

  constructor(
    definitions: readonly TableDefinition[],
    private readonly faults: FaultRegistry,
    private readonly now: () => number = Date.now,
  ) {
    for (const definition of definitions) {
      const table = new Table(definition);
      this.#tables.set(definition.name, table);
      this.#tables.set(definition.arn, table);
    }
  }

  get tableNames(): string[] {
    return [...new Set([...this.#tables.values()].map((table) => table.definition.name))];
  }

  definition(nameOrFragment: string): TableDefinition | undefined {
    const direct = this.#tables.get(nameOrFragment);
    if (direct) return direct.definition;
    const fragment = nameOrFragment.toLowerCase();
    return [...this.#tables.values()].find((table) => table.definition.logicalId.toLowerCase().includes(fragment))?.definition;
  }

  /** Every item of a table (name, ARN, or logical id fragment such as "catalog"), as plain objects. */
  scan(nameOrFragment: string): Record<string, unknown>[] {
    const definition = this.definition(nameOrFragment);
    if (!definition) throw new Error(`no local table "${nameOrFragment}"; tables: ${this.tableNames.join(', ')}`);
    return [...(this.#tables.get(definition.name)?.items.values() ?? [])].map(itemToPlain);
  }

  /** Dispatches one JSON-protocol operation. Throws DynamoDbError, as the service answers. */
  handle(operation: string, input: Json): Json {
    for (const legacy of UNSUPPORTED_LEGACY) {
      if (input[legacy] !== undefined) throw validation(`[local DynamoDB stand-in] the legacy parameter ${legacy} is not supported; use expressions`);
    }
    switch (operation) {
      case 'GetItem':
        return this.getItem(input);
      case 'PutItem':
        return this.putItem(input);
      case 'UpdateItem':
        return this.updateItem(input);
      case 'DeleteItem':
        return this.deleteItem(input);
      default:
        throw new DynamoDbError('UnknownOperationException', `[local DynamoDB stand-in] ${operation} is not supported by the stand-in (GetItem, PutItem, UpdateItem, DeleteItem are)`);
    }
  }

  private table(input: Json): Table {
    const name = str(input, 'TableName');
    const table = name === undefined ? undefined : this.#tables.get(name);
    if (!table) throw new DynamoDbError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }

  private record(operation: string, table: Table, key: Item, outcome: string): void {
    this.operations.push({ at: this.now(), operation, table: table.definition.name, key: plainKey(key), outcome });
  }

  /** Runs an operation with fault injection and the operation log around it. */
  private run<T>(operation: string, table: Table, key: Item, body: () => T): T {
    const fault = this.faults.take({
      service: 'dynamodb',
      operation,
      tableName: table.definition.name,
      tableLogicalId: table.definition.logicalId,
      key: plainKey(key),
    });
    if (fault) {
      const code = fault.errorCode ?? 'InternalServerError';
      this.record(operation, table, key, `${code} (injected)`);
      throw new DynamoDbError(code, fault.message ?? `injected by the local stand-in (fault #${fault.id})`, fault.statusCode ?? (code === 'InternalServerError' ? 500 : 400));
    }
    try {
      const result = body();
      this.record(operation, table, key, 'ok');
      return result;
    } catch (error) {
      this.record(operation, table, key, error instanceof DynamoDbError ? error.code : 'error');
      throw error;
    }
  }

  /** Parses the ConditionExpression (validation errors first, as DynamoDB does) and returns its check. */
  private condition(input: Json, placeholders: Placeholders): (existing: Item | undefined) => void {
    const expression = str(input, 'ConditionExpression');
    const onFailure = str(input, 'ReturnValuesOnConditionCheckFailure') ?? 'NONE';
    if (onFailure !== 'NONE' && onFailure !== 'ALL_OLD') {
      throw validation(`1 validation error detected: Value '${onFailure}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`);
    }
    if (expression === undefined) return () => undefined;
    const condition = parseCondition(expression, placeholders);
    return (existing) => {
      if (condition.matches(existing)) return;
      const extra = onFailure === 'ALL_OLD' && existing !== undefined ? { Item: existing } : {};
      throw new DynamoDbError('ConditionalCheckFailedException', 'The conditional request failed', 400, extra);
    };
  }

  private placeholders(input: Json): Placeholders {
    return new Placeholders(
      input.ExpressionAttributeNames as Record<string, string> | undefined,
      input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined,
    );
  }

  getItem(input: Json): Json {
    const table = this.table(input);
    const { id, key } = table.keyOf(input.Key, true);
    return this.run('GetItem', table, key, () => {
      const placeholders = this.placeholders(input);
      const projection = str(input, 'ProjectionExpression');
      const paths = projection === undefined ? undefined : parseProjection(projection, placeholders);
      placeholders.assertAllUsed();
      const item = table.items.get(id);
      if (item === undefined) return {};
      return { Item: paths === undefined ? structuredClone(item) : project(item, paths) };
    });
  }

  putItem(input: Json): Json {
    const table = this.table(input);
    const raw = input.Item;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw validation('Item is required');
    const item: Item = {};
    for (const [name, value] of Object.entries(raw)) item[name] = validateValue(value, name);
    const { id, key } = table.keyOf(item, false);
    return this.run('PutItem', table, key, () => {
      const mode = returnValues(input, ['NONE', 'ALL_OLD']);
      const placeholders = this.placeholders(input);
      const check = this.condition(input, placeholders);
      placeholders.assertAllUsed();
      const existing = table.items.get(id);
      check(existing);
      if (itemSizeBytes(item) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
      table.items.set(id, structuredClone(item));
      return mode === 'ALL_OLD' && existing !== undefined ? { Attributes: existing } : {};
    });
  }

  updateItem(input: Json): Json {
    const table = this.table(input);
    const { id, key } = table.keyOf(input.Key, true);
    return this.run('UpdateItem', table, key, () => {
      const mode = returnValues(input, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
      const placeholders = this.placeholders(input);
      const expression = str(input, 'UpdateExpression');
      const update = expression === undefined ? undefined : parseUpdate(expression, placeholders, table.keyNames);
      const check = this.condition(input, placeholders);
      placeholders.assertAllUsed();
      const existing = table.items.get(id);
      check(existing);
      const updated = update ? update.apply(existing, key) : structuredClone(existing ?? key);
      if (itemSizeBytes(updated) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
      table.items.set(id, updated);
      const touched = new Set((update?.touched ?? []).map((path) => ('name' in (path[0] ?? {}) ? (path[0] as { name: string }).name : '')));
      const pick = (item: Item | undefined) => Object.fromEntries(Object.entries(item ?? {}).filter(([name]) => touched.has(name)));
      switch (mode) {
        case 'ALL_OLD':
          return existing === undefined ? {} : { Attributes: existing };
        case 'UPDATED_OLD':
          return existing === undefined ? {} : { Attributes: pick(existing) };
        case 'ALL_NEW':
          return { Attributes: structuredClone(updated) };
        case 'UPDATED_NEW':
          return { Attributes: pick(updated) };
        default:
          return {};
      }
    });
  }

  deleteItem(input: Json): Json {
    const table = this.table(input);
    const { id, key } = table.keyOf(input.Key, true);
    return this.run('DeleteItem', table, key, () => {
      const mode = returnValues(input, ['NONE', 'ALL_OLD']);
      const placeholders = this.placeholders(input);
      const check = this.condition(input, placeholders);
      placeholders.assertAllUsed();
      const existing = table.items.get(id);
      check(existing);
      table.items.delete(id);
      return mode === 'ALL_OLD' && existing !== undefined ? { Attributes: existing } : {};
    });
  }
}
