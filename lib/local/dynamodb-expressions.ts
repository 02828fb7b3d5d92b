/**
 * DynamoDB condition and update expressions for the local DynamoDB stand-in: a parser for the
 * whole grammar of the documented ConditionExpression and UpdateExpression syntax, and an
 * evaluator with DynamoDB's semantics.
 *
 * Supported, as AWS documents them ("Condition and filter expressions, operators, and functions",
 * "Using update expressions"):
 * - comparisons = <> < <= > >=, BETWEEN … AND …, IN (…), AND / OR / NOT, parentheses;
 * - functions attribute_exists, attribute_not_exists, attribute_type, begins_with, contains, size;
 * - SET (with + / -, if_not_exists, list_append), REMOVE, ADD, DELETE; document paths with
 *   nested maps (a.b) and list elements (a[0]);
 * - #name placeholders and :value placeholders, including DynamoDB's request validation: an
 *   undefined placeholder, an unused one, an empty map, a reserved word used as a plain name,
 *   overlapping paths and updates of key attributes are ValidationExceptions, as on AWS.
 * Anything else is a syntax error that names the token, like DynamoDB's own message.
 */

import { AwsServiceError } from './aws-service-error';

export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: { readonly [key: string]: AttributeValue } }
  | { readonly L: readonly AttributeValue[] }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] };

export type Item = { [attribute: string]: AttributeValue };
export type AttributeType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';
export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'];

/** An error of the local DynamoDB stand-in, answered as the service would. */
export class DynamoDbError extends AwsServiceError {}

export const validation = (message: string): DynamoDbError => new DynamoDbError('ValidationException', message);

// ---- attribute values ---------------------------------------------------------------------------

export function typeOf(value: AttributeValue): AttributeType {
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined || !(ATTRIBUTE_TYPES as readonly string[]).includes(key)) {
    throw validation(
      keys.length > 1
        ? 'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes'
        : 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    );
  }
  return key as AttributeType;
}

function field<T>(value: AttributeValue, key: AttributeType): T {
  return (value as unknown as Record<string, T>)[key] as T;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Checks an AttributeValue the way DynamoDB validates request parameters. */
export function validateValue(value: unknown, where: string): AttributeValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw validation(`${where}: an AttributeValue must be an object`);
  const av = value as AttributeValue;
  const type = typeOf(av);
  const inner = field<unknown>(av, type);
  switch (type) {
    case 'S':
    case 'B':
      if (typeof inner !== 'string') throw validation(`${where}: ${type} must be a string`);
      break;
    case 'N':
      if (typeof inner !== 'string' || !NUMBER.test(inner)) throw validation(`${where}: A value provided cannot be converted into a number`);
      break;
    case 'BOOL':
      if (typeof inner !== 'boolean') throw validation(`${where}: BOOL must be a boolean`);
      break;
    case 'NULL':
      if (inner !== true) throw validation('One or more parameter values were invalid: Null attribute value types must have the value of true');
      break;
    case 'M':
      if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw validation(`${where}: M must be an object`);
      for (const [key, nested] of Object.entries(inner)) validateValue(nested, `${where}.${key}`);
      break;
    case 'L':
      if (!Array.isArray(inner)) throw validation(`${where}: L must be a list`);
      inner.forEach((nested, index) => validateValue(nested, `${where}[${index}]`));
      break;
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(inner) || inner.some((element) => typeof element !== 'string')) throw validation(`${where}: ${type} must be a list of strings`);
      if (inner.length === 0) throw validation('One or more parameter values were invalid: An string set  may not be empty');
      if (type === 'NS' && inner.some((element) => !NUMBER.test(element as string))) throw validation(`${where}: A value provided cannot be converted into a number`);
      const normalized = inner.map((element) => (type === 'NS' ? normalizeNumber(element as string) : (element as string)));
      if (new Set(normalized).size !== normalized.length) throw validation('One or more parameter values were invalid: Input collection contains duplicates');
      break;
    }
  }
  return av;
}

/** Canonical decimal form of a DynamoDB number, for equality and ordering. */
export function normalizeNumber(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) return text;
  const sign = match[1] === '-' ? '-' : '';
  let digits = `${match[2] ?? ''}${match[3] ?? ''}`;
  let exponent = Number(match[4] ?? 0) + (match[2] ?? '').length;
  const leading = /^0*/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(leading);
  exponent -= leading;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  return `${sign}0.${digits}e${exponent}`;
}

function compareNumbers(a: string, b: string): number {
  const x = normalizeNumber(a);
  const y = normalizeNumber(b);
  if (x === y) return 0;
  const negX = x.startsWith('-');
  const negY = y.startsWith('-');
  if (x === '0') return negY ? 1 : -1;
  if (y === '0') return negX ? -1 : 1;
  if (negX !== negY) return negX ? -1 : 1;
  const parse = (n: string) => {
    const [, mantissa = '', exp = '0'] = /^-?0\.(\d+)e(-?\d+)$/.exec(n) ?? [];
    return { mantissa, exp: Number(exp) };
  };
  const px = parse(x);
  const py = parse(y);
  let magnitude: number;
  if (px.exp !== py.exp) magnitude = px.exp < py.exp ? -1 : 1;
  else magnitude = px.mantissa.padEnd(40, '0') < py.mantissa.padEnd(40, '0') ? -1 : 1;
  return negX ? -magnitude : magnitude;
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const type = typeOf(a);
  if (type !== typeOf(b)) return false;
  switch (type) {
    case 'N':
      return compareNumbers(field<string>(a, 'N'), field<string>(b, 'N')) === 0;
    case 'S':
    case 'B':
    case 'BOOL':
    case 'NULL':
      return field<unknown>(a, type) === field<unknown>(b, type);
    case 'SS':
    case 'BS':
    case 'NS': {
      const norm = (list: readonly string[]) => new Set(list.map((v) => (type === 'NS' ? normalizeNumber(v) : v)));
      const x = norm(field<string[]>(a, type));
      const y = norm(field<string[]>(b, type));
      return x.size === y.size && [...x].every((v) => y.has(v));
    }
    case 'L': {
      const x = field<AttributeValue[]>(a, 'L');
      const y = field<AttributeValue[]>(b, 'L');
      return x.length === y.length && x.every((v, i) => valuesEqual(v, y[i] as AttributeValue));
    }
    case 'M': {
      const x = field<Record<string, AttributeValue>>(a, 'M');
      const y = field<Record<string, AttributeValue>>(b, 'M');
      const keys = Object.keys(x);
      return keys.length === Object.keys(y).length && keys.every((k) => y[k] !== undefined && valuesEqual(x[k] as AttributeValue, y[k] as AttributeValue));
    }
  }
}

/** Ordering for < <= > >= BETWEEN: only N, S and B compare; `undefined` when they cannot. */
function order(a: AttributeValue, b: AttributeValue): number | undefined {
  const type = typeOf(a);
  if (type !== typeOf(b)) return undefined;
  if (type === 'N') return compareNumbers(field<string>(a, 'N'), field<string>(b, 'N'));
  if (type === 'S') return compareBytes(Buffer.from(field<string>(a, 'S'), 'utf8'), Buffer.from(field<string>(b, 'S'), 'utf8'));
  if (type === 'B') return compareBytes(Buffer.from(field<string>(a, 'B'), 'base64'), Buffer.from(field<string>(b, 'B'), 'base64'));
  return undefined;
}

/** Approximate item size as DynamoDB counts it (attribute names plus values, UTF-8). */
export function itemSizeBytes(item: Item): number {
  const sizeOf = (value: AttributeValue): number => {
    const type = typeOf(value);
    switch (type) {
      case 'S':
        return Buffer.byteLength(field<string>(value, 'S'), 'utf8');
      case 'B':
        return Buffer.from(field<string>(value, 'B'), 'base64').length;
      case 'N':
        return Math.ceil(field<string>(value, 'N').replace(/[^0-9]/g, '').length / 2) + 1;
      case 'BOOL':
      case 'NULL':
        return 1;
      case 'SS':
      case 'NS':
      case 'BS':
        return field<string[]>(value, type).reduce((sum, element) => sum + Buffer.byteLength(element, 'utf8'), 0);
      case 'L':
        return 3 + field<AttributeValue[]>(value, 'L').reduce((sum, element) => sum + 1 + sizeOf(element), 0);
      case 'M':
        return 3 + Object.entries(field<Record<string, AttributeValue>>(value, 'M')).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k, 'utf8') + sizeOf(v), 0);
    }
  };
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + sizeOf(value), 0);
}

// ---- reserved words -----------------------------------------------------------------------------

/** DynamoDB's reserved words ("Reserved words in DynamoDB"): plain attribute names must not be one. */
const RESERVED_WORDS: ReadonlySet<string> = new Set(
  `ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE ARRAY AS ASC ASCII ASENSITIVE
  ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN
  BETWEEN BIGINT BINARY BIT BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY CASCADE CASCADED
  CASE CAST CATALOG CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING CLUSTERS COALESCE COLLATE COLLATION
  COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT COMPACT COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY
  CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE
  CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE
  DEFINED DEFINITION DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC DIAGNOSTICS DIRECTORIES DISABLE
  DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL
  EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN
  EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL FINISH FIRST
  FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB
  GLOBAL GO GOTO GRANT GREATER GROUP GROUPING HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE
  IMMEDIATE IMPORT IN INCLUDING INCLUSIVE INCREMENT INCREMENTAL INDEX INDEXED INDEXES INDICATOR INFINITE INITIALLY INLINE INNER
  INNTER INOUT INPUT INSENSITIVE INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE
  JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS LEVEL LIKE LIMIT LIMITED LINES LIST LOAD
  LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS LOG LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER
  MERGE METHOD METRICS MIN MINUS MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME NAMES NATIONAL
  NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT OF OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE OPEN
  OPERATOR OPTION OR ORDER ORDINALITY OTHER OTHERS OUT OUTER OUTPUT OVER OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER
  PARAMETERS PARTIAL PARTITION PARTITIONED PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS PIPE PIPELINED PLAN POOL
  POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY
  PROVISIONING PUBLIC PUT QUERY QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE REF
  REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE REMAINDER RENAME REPEAT REPLACE REQUEST RESET
  RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP
  ROUTINE ROW ROWS RULE RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND SECTION SEGMENT SEGMENTS
  SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET SETS SHARD SHARE SHARED SHORT SHOW SIGNAL SIMILAR SIZE
  SKEWED SMALLINT SNAPSHOT SOME SOURCE SPACE SPACES SPARSE SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION
  SQLSTATE SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT STYLE SUB SUBMULTISET SUBPARTITION
  SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT
  TIME TIMESTAMP TIMEZONE TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION TREAT TRIGGER TRIM
  TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION UNIQUE UNIT UNKNOWN UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL
  USAGE USE USER USERS USING UUID VACUUM VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS VIRTUAL VOID
  WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE YEAR ZONE`.split(/\s+/).filter(Boolean),
);

// ---- tokens -------------------------------------------------------------------------------------

type TokenKind = 'identifier' | 'nameRef' | 'valueRef' | 'integer' | 'punct' | 'end';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
}

const PUNCT = ['<>', '<=', '>=', '=', '<', '>', '(', ')', ',', '.', '[', ']', '+', '-'];

function tokenize(source: string, what: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const rest = source.slice(pos);
    const space = /^\s+/.exec(rest);
    if (space) {
      pos += space[0].length;
      continue;
    }
    const ref = /^[#:][A-Za-z0-9_]+/.exec(rest);
    if (ref) {
      tokens.push({ kind: ref[0].startsWith('#') ? 'nameRef' : 'valueRef', text: ref[0], pos });
      pos += ref[0].length;
      continue;
    }
    const identifier = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (identifier) {
      tokens.push({ kind: 'identifier', text: identifier[0], pos });
      pos += identifier[0].length;
      continue;
    }
    const integer = /^\d+/.exec(rest);
    if (integer) {
      tokens.push({ kind: 'integer', text: integer[0], pos });
      pos += integer[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => rest.startsWith(p));
    if (punct) {
      tokens.push({ kind: 'punct', text: punct, pos });
      pos += punct.length;
      continue;
    }
    throw validation(`Invalid ${what}: Syntax error; token: "${rest.charAt(0)}", near: "${source.slice(Math.max(0, pos - 8), pos + 8)}"`);
  }
  tokens.push({ kind: 'end', text: '<EOF>', pos: source.length });
  return tokens;
}

// ---- AST ----------------------------------------------------------------------------------------

export type PathElement = { readonly name: string } | { readonly index: number };
export type Path = readonly PathElement[];

type Operand =
  | { readonly kind: 'path'; readonly path: Path }
  | { readonly kind: 'value'; readonly ref: string }
  | { readonly kind: 'size'; readonly path: Path };

type Condition =
  | { readonly kind: 'or' | 'and'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly inner: Condition }
  | { readonly kind: 'compare'; readonly op: string; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly subject: Operand; readonly list: readonly Operand[] }
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly Operand[] };

type SetValue =
  | { readonly kind: 'path'; readonly path: Path }
  | { readonly kind: 'value'; readonly ref: string }
  | { readonly kind: 'if_not_exists'; readonly path: Path; readonly fallback: SetValue }
  | { readonly kind: 'list_append'; readonly first: SetValue; readonly second: SetValue }
  | { readonly kind: 'plus' | 'minus'; readonly left: SetValue; readonly right: SetValue };

interface UpdateActions {
  readonly set: readonly { readonly path: Path; readonly value: SetValue }[];
  readonly remove: readonly Path[];
  readonly add: readonly { readonly path: Path; readonly ref: string }[];
  readonly delete: readonly { readonly path: Path; readonly ref: string }[];
}

/** The placeholders a request defines, and which of them its expressions used. */
export class Placeholders {
  readonly usedNames = new Set<string>();
  readonly usedValues = new Set<string>();

  constructor(
    readonly names: Readonly<Record<string, string>> | undefined,
    readonly values: Readonly<Record<string, AttributeValue>> | undefined,
  ) {
    if (names !== undefined && Object.keys(names).length === 0) throw validation('ExpressionAttributeNames must not be empty');
    if (values !== undefined && Object.keys(values).length === 0) throw validation('ExpressionAttributeValues must not be empty');
    for (const [key, value] of Object.entries(values ?? {})) validateValue(value, `ExpressionAttributeValues.${key}`);
  }

  name(ref: string): string {
    const name = this.names?.[ref];
    if (name === undefined) throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${ref}`);
    this.usedNames.add(ref);
    return name;
  }

  value(ref: string): AttributeValue {
    const value = this.values?.[ref];
    if (value === undefined) throw validation(`An expression attribute value used in expression is not defined; attribute value: ${ref}`);
    this.usedValues.add(ref);
    return value;
  }

  /** DynamoDB rejects a request that defines placeholders none of its expressions use. */
  assertAllUsed(): void {
    const unusedNames = Object.keys(this.names ?? {}).filter((ref) => !this.usedNames.has(ref));
    if (unusedNames.length > 0) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
    const unusedValues = Object.keys(this.values ?? {}).filter((ref) => !this.usedValues.has(ref));
    if (unusedValues.length > 0) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
  }
}

const CONDITION_FUNCTIONS: Readonly<Record<string, number>> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
};
const COMPARATORS = ['=', '<>', '<', '<=', '>', '>='];

class Parser {
  private index = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly source: string,
    private readonly what: string,
    private readonly placeholders: Placeholders,
  ) {
    this.tokens = tokenize(source, what);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index += 1;
    return token;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'identifier' && token.text.toUpperCase() === word;
  }

  private isPunct(text: string): boolean {
    const token = this.peek();
    return token.kind === 'punct' && token.text === text;
  }

  syntaxError(token: Token = this.peek()): DynamoDbError {
    const near = this.source.slice(Math.max(0, token.pos - 10), token.pos + token.text.length + 10);
    return validation(`Invalid ${this.what}: Syntax error; token: "${token.text}", near: "${near}"`);
  }

  private expectPunct(text: string): void {
    if (!this.isPunct(text)) throw this.syntaxError();
    this.next();
  }

  expectEnd(): void {
    if (this.peek().kind !== 'end') throw this.syntaxError();
  }

  // path := element ('.' element | '[' integer ']')*
  path(): Path {
    const elements: PathElement[] = [this.pathName()];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        elements.push(this.pathName());
      } else if (this.isPunct('[')) {
        this.next();
        const token = this.next();
        if (token.kind !== 'integer') throw this.syntaxError(token);
        elements.push({ index: Number(token.text) });
        this.expectPunct(']');
      } else {
        return elements;
      }
    }
  }

  private pathName(): PathElement {
    const token = this.next();
    if (token.kind === 'nameRef') return { name: this.placeholders.name(token.text) };
    if (token.kind === 'identifier') {
      if (RESERVED_WORDS.has(token.text.toUpperCase())) {
        throw validation(`Invalid ${this.what}: Attribute name is a reserved keyword; reserved keyword: ${token.text}`);
      }
      return { name: token.text };
    }
    throw this.syntaxError(token);
  }

  private startsPath(): boolean {
    const token = this.peek();
    return token.kind === 'nameRef' || token.kind === 'identifier';
  }

  // ---- conditions ----

  condition(): Condition {
    let left = this.conjunction();
    while (this.isKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.isKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.negation() };
    }
    return left;
  }

  private negation(): Condition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', inner: this.negation() };
    }
    return this.primary();
  }

  private primary(): Condition {
    if (this.isPunct('(')) {
      this.next();
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const token = this.peek();
    if (token.kind === 'identifier' && this.peek(1).kind === 'punct' && this.peek(1).text === '(' && token.text !== 'size') {
      const arity = CONDITION_FUNCTIONS[token.text];
      if (arity === undefined) throw validation(`Invalid ${this.what}: Invalid function name; function: ${token.text}`);
      this.next();
      this.next();
      const args = this.operandList();
      if (args.length !== arity) throw validation(`Invalid ${this.what}: Incorrect number of operands for operator or function; operator or function: ${token.text}, number of operands: ${args.length}`);
      const first = args[0] as Operand;
      if (first.kind !== 'path') throw validation(`Invalid ${this.what}: Operator or function requires a document path; operator or function: ${token.text}`);
      return { kind: 'function', name: token.text, args };
    }
    const subject = this.operand();
    if (this.isKeyword('BETWEEN')) {
      this.next();
      const low = this.operand();
      if (!this.isKeyword('AND')) throw this.syntaxError();
      this.next();
      return { kind: 'between', subject, low, high: this.operand() };
    }
    if (this.isKeyword('IN')) {
      this.next();
      this.expectPunct('(');
      const list = this.operandList();
      if (list.length > 100) throw validation(`Invalid ${this.what}: The IN operator is provided with too many operands; number of operands: ${list.length}`);
      return { kind: 'in', subject, list };
    }
    const op = this.peek();
    if (op.kind !== 'punct' || !COMPARATORS.includes(op.text)) throw this.syntaxError(op);
    this.next();
    return { kind: 'compare', op: op.text, left: subject, right: this.operand() };
  }

  /** Operands up to and including the closing parenthesis. */
  private operandList(): Operand[] {
    const list = [this.operand()];
    while (this.isPunct(',')) {
      this.next();
      list.push(this.operand());
    }
    this.expectPunct(')');
    return list;
  }

  private operand(): Operand {
    const token = this.peek();
    if (token.kind === 'valueRef') {
      this.next();
      this.placeholders.value(token.text);
      return { kind: 'value', ref: token.text };
    }
    if (token.kind === 'identifier' && token.text === 'size' && this.peek(1).text === '(') {
      this.next();
      this.next();
      const path = this.path();
      this.expectPunct(')');
      return { kind: 'size', path };
    }
    if (this.startsPath()) return { kind: 'path', path: this.path() };
    throw this.syntaxError(token);
  }

  // ---- updates ----

  update(): UpdateActions {
    const set: { path: Path; value: SetValue }[] = [];
    const remove: Path[] = [];
    const add: { path: Path; ref: string }[] = [];
    const del: { path: Path; ref: string }[] = [];
    const seen = new Set<string>();
    if (this.peek().kind === 'end') throw this.syntaxError();
    while (this.peek().kind !== 'end') {
      const clause = this.next();
      const keyword = clause.kind === 'identifier' ? clause.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(keyword)) throw this.syntaxError(clause);
      if (seen.has(keyword)) throw validation(`Invalid ${this.what}: The "${keyword}" section can only be used once in an update expression;`);
      seen.add(keyword);
      do {
        if (keyword === 'SET') {
          const path = this.path();
          this.expectPunct('=');
          set.push({ path, value: this.setValue() });
        } else if (keyword === 'REMOVE') {
          remove.push(this.path());
        } else {
          const path = this.path();
          const token = this.next();
          if (token.kind !== 'valueRef') throw this.syntaxError(token);
          this.placeholders.value(token.text);
          (keyword === 'ADD' ? add : del).push({ path, ref: token.text });
        }
      } while (this.skipComma());
    }
    return { set, remove, add, delete: del };
  }

  private skipComma(): boolean {
    if (!this.isPunct(',')) return false;
    this.next();
    return true;
  }

  projection(): Path[] {
    const paths: Path[] = [this.path()];
    while (this.skipComma()) paths.push(this.path());
    return paths;
  }

  private setValue(): SetValue {
    const left = this.setOperand();
    if (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next().text;
      return { kind: op === '+' ? 'plus' : 'minus', left, right: this.setOperand() };
    }
    return left;
  }

  private setOperand(): SetValue {
    const token = this.peek();
    if (token.kind === 'valueRef') {
      this.next();
      this.placeholders.value(token.text);
      return { kind: 'value', ref: token.text };
    }
    if (token.kind === 'identifier' && this.peek(1).text === '(') {
      this.next();
      this.next();
      if (token.text === 'if_not_exists') {
        const path = this.path();
        this.expectPunct(',');
        const fallback = this.setValue();
        this.expectPunct(')');
        return { kind: 'if_not_exists', path, fallback };
      }
      if (token.text === 'list_append') {
        const first = this.setValue();
        this.expectPunct(',');
        const second = this.setValue();
        this.expectPunct(')');
        return { kind: 'list_append', first, second };
      }
      throw validation(`Invalid ${this.what}: Invalid function name; function: ${token.text}`);
    }
    if (this.startsPath()) return { kind: 'path', path: this.path() };
    throw this.syntaxError(token);
  }
}

// ---- evaluation ---------------------------------------------------------------------------------

export function pathText(path: Path): string {
  return path.map((element, i) => ('index' in element ? `[${element.index}]` : i === 0 ? element.name : `.${element.name}`)).join('');
}

export function readPath(item: Item | undefined, path: Path): AttributeValue | undefined {
  let current: AttributeValue | undefined;
  for (const [i, element] of path.entries()) {
    if (i === 0) {
      if (!('name' in element) || item === undefined) return undefined;
      current = item[element.name];
      continue;
    }
    if (current === undefined) return undefined;
    if ('name' in element) {
      if (typeOf(current) !== 'M') return undefined;
      current = field<Record<string, AttributeValue>>(current, 'M')[element.name];
    } else {
      if (typeOf(current) !== 'L') return undefined;
      current = field<AttributeValue[]>(current, 'L')[element.index];
    }
  }
  return current;
}

function operandValue(operand: Operand, item: Item | undefined, placeholders: Placeholders, what: string): AttributeValue | undefined {
  switch (operand.kind) {
    case 'value':
      return placeholders.value(operand.ref);
    case 'path':
      return readPath(item, operand.path);
    case 'size': {
      const value = readPath(item, operand.path);
      if (value === undefined) return undefined;
      const type = typeOf(value);
      let size: number;
      if (type === 'S') size = field<string>(value, 'S').length;
      else if (type === 'B') size = Buffer.from(field<string>(value, 'B'), 'base64').length;
      else if (type === 'SS' || type === 'NS' || type === 'BS' || type === 'L') size = field<unknown[]>(value, type).length;
      else if (type === 'M') size = Object.keys(field<object>(value, 'M')).length;
      else throw validation(`Invalid ${what}: Incorrect operand type for operator or function; operator or function: size, operand type: ${type}`);
      return { N: String(size) };
    }
  }
}

function evaluate(condition: Condition, item: Item | undefined, placeholders: Placeholders, what: string): boolean {
  const value = (operand: Operand) => operandValue(operand, item, placeholders, what);
  switch (condition.kind) {
    case 'or':
      return evaluate(condition.left, item, placeholders, what) || evaluate(condition.right, item, placeholders, what);
    case 'and':
      return evaluate(condition.left, item, placeholders, what) && evaluate(condition.right, item, placeholders, what);
    case 'not':
      return !evaluate(condition.inner, item, placeholders, what);
    case 'compare': {
      const left = value(condition.left);
      const right = value(condition.right);
      if (condition.op === '<>') return left === undefined || right === undefined ? left !== right : !valuesEqual(left, right);
      if (left === undefined || right === undefined) return false;
      if (condition.op === '=') return valuesEqual(left, right);
      const ordering = order(left, right);
      if (ordering === undefined) return false;
      if (condition.op === '<') return ordering < 0;
      if (condition.op === '<=') return ordering <= 0;
      if (condition.op === '>') return ordering > 0;
      return ordering >= 0;
    }
    case 'between': {
      const subject = value(condition.subject);
      const low = value(condition.low);
      const high = value(condition.high);
      if (low !== undefined && high !== undefined && (order(low, high) ?? 0) > 0) {
        throw validation(`Invalid ${what}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound`);
      }
      if (subject === undefined || low === undefined || high === undefined) return false;
      const lower = order(subject, low);
      const upper = order(subject, high);
      return lower !== undefined && upper !== undefined && lower >= 0 && upper <= 0;
    }
    case 'in': {
      const subject = value(condition.subject);
      return subject !== undefined && condition.list.some((candidate) => {
        const v = value(candidate);
        return v !== undefined && valuesEqual(subject, v);
      });
    }
    case 'function': {
      const [first, second] = condition.args;
      const target = value(first as Operand);
      switch (condition.name) {
        case 'attribute_exists':
          return target !== undefined;
        case 'attribute_not_exists':
          return target === undefined;
        case 'attribute_type': {
          const wanted = value(second as Operand);
          if (wanted === undefined || typeOf(wanted) !== 'S' || !(ATTRIBUTE_TYPES as readonly string[]).includes(field<string>(wanted, 'S'))) {
            throw validation(`Invalid ${what}: Invalid attribute type name found in type operand of attribute_type function`);
          }
          return target !== undefined && typeOf(target) === field<string>(wanted, 'S');
        }
        case 'begins_with': {
          const prefix = value(second as Operand);
          if (target === undefined || prefix === undefined) return false;
          const type = typeOf(target);
          if (type !== typeOf(prefix) || (type !== 'S' && type !== 'B')) return false;
          if (type === 'S') return field<string>(target, 'S').startsWith(field<string>(prefix, 'S'));
          const whole = Buffer.from(field<string>(target, 'B'), 'base64');
          const start = Buffer.from(field<string>(prefix, 'B'), 'base64');
          return whole.subarray(0, start.length).equals(start);
        }
        case 'contains': {
          const needle = value(second as Operand);
          if (target === undefined || needle === undefined) return false;
          const type = typeOf(target);
          const needleType = typeOf(needle);
          if (type === 'S') return needleType === 'S' && field<string>(target, 'S').includes(field<string>(needle, 'S'));
          if (type === 'B') return needleType === 'B' && Buffer.from(field<string>(target, 'B'), 'base64').includes(Buffer.from(field<string>(needle, 'B'), 'base64'));
          if (type === 'SS' || type === 'NS' || type === 'BS') {
            const elementType = type.charAt(0);
            return needleType === elementType && field<string[]>(target, type).some((element) => valuesEqual({ [elementType]: element } as AttributeValue, needle));
          }
          if (type === 'L') return field<AttributeValue[]>(target, 'L').some((element) => valuesEqual(element, needle));
          return false;
        }
        default:
          throw validation(`Invalid ${what}: Invalid function name; function: ${condition.name}`);
      }
    }
  }
}

/** A parsed ConditionExpression, ready to evaluate against the current item (or none). */
export interface CompiledCondition {
  matches(item: Item | undefined): boolean;
}

export function parseCondition(expression: string, placeholders: Placeholders, what = 'ConditionExpression'): CompiledCondition {
  if (expression.trim() === '') throw validation(`Invalid ${what}: The expression can not be empty;`);
  const parser = new Parser(expression, what, placeholders);
  const condition = parser.condition();
  parser.expectEnd();
  return { matches: (item) => evaluate(condition, item, placeholders, what) };
}

function cloneValue(value: AttributeValue): AttributeValue {
  return structuredClone(value) as AttributeValue;
}

function evaluateSetValue(value: SetValue, item: Item | undefined, placeholders: Placeholders, what: string): AttributeValue {
  switch (value.kind) {
    case 'value':
      return placeholders.value(value.ref);
    case 'path': {
      const found = readPath(item, value.path);
      if (found === undefined) throw validation(`The provided expression refers to an attribute that does not exist in the item`);
      return found;
    }
    case 'if_not_exists':
      return readPath(item, value.path) ?? evaluateSetValue(value.fallback, item, placeholders, what);
    case 'list_append': {
      const first = evaluateSetValue(value.first, item, placeholders, what);
      const second = evaluateSetValue(value.second, item, placeholders, what);
      if (typeOf(first) !== 'L' || typeOf(second) !== 'L') {
        throw validation(`Invalid ${what}: Incorrect operand type for operator or function; operator or function: list_append, operand type: ${typeOf(typeOf(first) !== 'L' ? first : second)}`);
      }
      return { L: [...field<AttributeValue[]>(first, 'L'), ...field<AttributeValue[]>(second, 'L')] };
    }
    case 'plus':
    case 'minus': {
      const left = evaluateSetValue(value.left, item, placeholders, what);
      const right = evaluateSetValue(value.right, item, placeholders, what);
      if (typeOf(left) !== 'N' || typeOf(right) !== 'N') {
        throw validation(`Invalid ${what}: Incorrect operand type for operator or function; operator: ${value.kind === 'plus' ? '+' : '-'}, operand type: ${typeOf(typeOf(left) !== 'N' ? left : right)}`);
      }
      const a = Number(field<string>(left, 'N'));
      const b = Number(field<string>(right, 'N'));
      return { N: String(value.kind === 'plus' ? a + b : a - b) };
    }
  }
}

type MutableContainer = { M: Record<string, AttributeValue> } | { L: AttributeValue[] };

/** The parent container of a path in a mutable item, or an error DynamoDB would give. */
function parentOf(item: Item, path: Path, what: string): { container: Item | MutableContainer; last: PathElement } {
  const last = path[path.length - 1] as PathElement;
  if (path.length === 1) return { container: item, last };
  const parent = readPath(item, path.slice(0, -1));
  const wanted = 'name' in last ? 'M' : 'L';
  if (parent === undefined || typeOf(parent) !== wanted) {
    throw validation(`The document path provided in the update expression is invalid for update (${what}: ${pathText(path)})`);
  }
  return { container: parent as MutableContainer, last };
}

function writePath(item: Item, path: Path, value: AttributeValue, what: string): void {
  const { container, last } = parentOf(item, path, what);
  if ('name' in last) {
    const target = 'M' in container && path.length > 1 ? (container as { M: Record<string, AttributeValue> }).M : (container as Item);
    target[last.name] = value;
  } else {
    const list = (container as { L: AttributeValue[] }).L;
    if (last.index >= list.length) list.push(value);
    else list[last.index] = value;
  }
}

function removePath(item: Item, path: Path, what: string): void {
  if (readPath(item, path) === undefined) return;
  const { container, last } = parentOf(item, path, what);
  if ('name' in last) {
    const target = 'M' in container && path.length > 1 ? (container as { M: Record<string, AttributeValue> }).M : (container as Item);
    delete target[last.name];
  } else {
    (container as { L: AttributeValue[] }).L.splice(last.index, 1);
  }
}

function overlaps(a: Path, b: Path): boolean {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i += 1) {
    const x = a[i] as PathElement;
    const y = b[i] as PathElement;
    if ('name' in x !== 'name' in y) return false;
    if ('name' in x && 'name' in y && x.name !== y.name) return false;
    if ('index' in x && 'index' in y && x.index !== y.index) return false;
  }
  return true;
}

export interface CompiledUpdate {
  /** Paths the update writes or removes (for ReturnValues UPDATED_*). */
  readonly touched: readonly Path[];
  /** The item after the update; `existing` (or the key alone) is not modified. */
  apply(existing: Item | undefined, key: Item): Item;
}

export function parseUpdate(expression: string, placeholders: Placeholders, keyAttributes: readonly string[]): CompiledUpdate {
  const what = 'UpdateExpression';
  const parser = new Parser(expression, what, placeholders);
  const actions = parser.update();
  parser.expectEnd();
  const touched = [...actions.set.map((a) => a.path), ...actions.remove, ...actions.add.map((a) => a.path), ...actions.delete.map((a) => a.path)];
  for (const [i, path] of touched.entries()) {
    const first = path[0];
    if (first !== undefined && 'name' in first && keyAttributes.includes(first.name)) {
      throw validation(`One or more parameter values were invalid: Cannot update attribute ${first.name}. This attribute is part of the key`);
    }
    for (const other of touched.slice(i + 1)) {
      if (overlaps(path, other)) throw validation(`Invalid ${what}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${pathText(path)}], path two: [${pathText(other)}]`);
    }
  }
  for (const action of actions.add) {
    if (action.path.length !== 1) throw validation(`Invalid ${what}: The ADD action is only supported on top-level attributes in this local stand-in (${pathText(action.path)}); use SET`);
  }
  return {
    touched,
    apply(existing, key) {
      const before = existing;
      const item: Item = structuredClone(existing ?? key) as Item;
      // Every right-hand side sees the item as it was before the update.
      const assignments = actions.set.map((action) => ({ path: action.path, value: cloneValue(evaluateSetValue(action.value, before, placeholders, what)) }));
      for (const { path, value } of assignments) writePath(item, path, value, what);
      const removals = [...actions.remove].sort((a, b) => {
        const x = a[a.length - 1] as PathElement;
        const y = b[b.length - 1] as PathElement;
        return 'index' in x && 'index' in y ? y.index - x.index : 0;
      });
      for (const path of removals) removePath(item, path, what);
      for (const action of actions.add) {
        const operand = placeholders.value(action.ref);
        const current = readPath(item, action.path);
        const type = typeOf(operand);
        if (type === 'N') {
          if (current !== undefined && typeOf(current) !== 'N') throw validation('An operand in the update expression has an incorrect data type');
          const sum = Number(current === undefined ? 0 : field<string>(current, 'N')) + Number(field<string>(operand, 'N'));
          writePath(item, action.path, { N: String(sum) }, what);
        } else if (type === 'SS' || type === 'NS' || type === 'BS') {
          if (current !== undefined && typeOf(current) !== type) throw validation('An operand in the update expression has an incorrect data type');
          const merged = [...(current === undefined ? [] : field<string[]>(current, type))];
          for (const element of field<string[]>(operand, type)) {
            if (!merged.some((existingElement) => valuesEqual({ [type.charAt(0)]: existingElement } as AttributeValue, { [type.charAt(0)]: element } as AttributeValue))) merged.push(element);
          }
          writePath(item, action.path, { [type]: merged } as unknown as AttributeValue, what);
        } else {
          throw validation(`Invalid ${what}: Incorrect operand type for operator or function; operator: ADD, operand type: ${type}`);
        }
      }
      for (const action of actions.delete) {
        const operand = placeholders.value(action.ref);
        const type = typeOf(operand);
        if (type !== 'SS' && type !== 'NS' && type !== 'BS') throw validation(`Invalid ${what}: Incorrect operand type for operator or function; operator: DELETE, operand type: ${type}`);
        const current = readPath(item, action.path);
        if (current === undefined) continue;
        if (typeOf(current) !== type) throw validation('An operand in the update expression has an incorrect data type');
        const elementType = type.charAt(0);
        const remaining = field<string[]>(current, type).filter(
          (element) => !field<string[]>(operand, type).some((gone) => valuesEqual({ [elementType]: element } as AttributeValue, { [elementType]: gone } as AttributeValue)),
        );
        if (remaining.length === 0) removePath(item, action.path, what);
        else writePath(item, action.path, { [type]: remaining } as unknown as AttributeValue, what);
      }
      return item;
    },
  };
}

/** A ProjectionExpression: top-level and nested paths, for GetItem. */
export function parseProjection(expression: string, placeholders: Placeholders): readonly Path[] {
  const what = 'ProjectionExpression';
  const parser = new Parser(expression, what, placeholders);
  const paths = parser.projection();
  parser.expectEnd();
  return paths;
}

export function project(item: Item, paths: readonly Path[]): Item {
  const result: Item = {};
  for (const path of paths) {
    const first = path[0];
    if (first === undefined || !('name' in first)) continue;
    if (path.length === 1) {
      const value = item[first.name];
      if (value !== undefined) result[first.name] = value;
      continue;
    }
    throw validation(`Invalid ProjectionExpression: nested projection paths (${pathText(path)}) are not supported by the local DynamoDB stand-in`);
  }
  return result;
}
