/**
 * EventBridge event-pattern matcher.
 *
 * A pure TypeScript implementation of Amazon EventBridge event-pattern semantics, used to test routes
 * locally and to explain why an event did not match a rule. It has no AWS dependency at runtime.
 *
 * Semantics follow the Amazon EventBridge User Guide pages "Creating event patterns", "Content filtering
 * in Amazon EventBridge event patterns", "Comparison operators for use in event patterns", "Arrays in
 * Amazon EventBridge event patterns", "Matching null values and empty strings" and "Best practices for
 * event patterns". Where the documentation is silent, behaviour follows AWS's open-source reference
 * implementation, aws/event-ruler (JsonRuleCompiler, ByteMachine, StructuredFinder, ArrayMembership,
 * CIDR, WildcardParser, ComparableNumber, EqualsIgnoreCaseParser). Those places are marked "event-ruler:"
 * below.
 *
 * Model (as in event-ruler): the pattern is expanded over its `$or` branches into flat sub-rules; each
 * sub-rule is a list of leaf conditions keyed by dotted path (`detail.size`) and all of them must hold
 * (AND). A condition holds if any leaf value found at its path satisfies any entry of its list (OR).
 * Arrays of objects in the event are "crushed": a path can traverse array elements, but the conditions
 * of one sub-rule must use the SAME element of any array they both traverse (event-ruler's
 * array-consistent matching, `rulesForJSONEvent`).
 *
 * Decisions where the docs are ambiguous:
 * - Numeric matching (`numeric`, and numbers inside `anything-but`) uses the documented limits: operands
 *   must lie in -5.0e9..+5.0e9 with at most 6 decimal places (else the pattern is invalid); event numbers
 *   outside those limits never satisfy a numeric comparison. Exact number literals (`[123456789012]`) are
 *   not limited and compare parsed values, so 300 and 3.0e2 are equal (the docs' "string representation"
 *   rule cannot be observed on parsed JSON).
 * - Only leaf values (string, number, boolean, null) exist: `null` exists; objects and empty arrays do not
 *   (so `exists: false` matches them). `exists: false` under an array of objects is evaluated against the
 *   elements bound by the conditions evaluated before it in sorted-path order (event-ruler), i.e. over
 *   every element when no earlier condition binds that array.
 * - `anything-but` matches any leaf value that is not excluded, whatever its type (event-ruler ByteMachine);
 *   prefix/suffix/equals-ignore-case/wildcard/cidr only ever match strings; `numeric` only numbers.
 * - Grammar checks follow event-ruler JsonRuleCompiler: lower bound first in ranges, lower < upper strictly,
 *   no empty objects, reserved operator names forbidden as field names inside `$or`, anything-but
 *   prefix/suffix must be non-empty, IPv4 CIDR mask bits 0..31 and IPv6 0..127, IP literals match as IPs.
 * - `$or` combinations = product over sibling `$or` arrays of the sum of their branches' combinations
 *   (what event-ruler materialises); for non-nested `$or` this is the docs' "multiply the number of
 *   arguments of each $or array". More than 1000 is invalid.
 * - Case-insensitive operators (equals-ignore-case, and it inside prefix, suffix and anything-but) read the
 *   pattern text as event-ruler does: per UTF-16 unit, its lower or its upper case (not a folded compare).
 * - IP addresses are what Java's InetAddress parses after event-ruler's shape check: `010.0.0.1` is 10.0.0.1.
 * - Dotted field names are literal keys (event-ruler's "a.b" == a → b aliasing is not reproduced).
 */

// ---------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** An operator object inside a pattern value list, e.g. `{ "prefix": "us-" }`. */
export type PatternOperator = { readonly [operator: string]: JsonValue };
/** One entry of a field's value list: a literal (string, number, boolean, null) or an operator object. */
export type PatternValue = JsonPrimitive | PatternOperator;
/** An EventBridge event pattern: fields map to value lists, nested patterns, or (`$or`) pattern lists. */
export interface EventPattern {
  readonly [field: string]: readonly PatternValue[] | EventPattern | readonly EventPattern[];
}

/** Why an event did not match: the first condition that failed, by dotted field path. */
export interface MatchFailure {
  path: string;
  reason: string;
}

export interface CompiledPattern {
  /** The validated source pattern. */
  readonly pattern: EventPattern;
  /** Number of flat sub-rules the pattern expands to through `$or` (1 when there is no `$or`). */
  readonly combinations: number;
  matches(event: unknown): boolean;
  /** `undefined` when the event matches; otherwise the failing field (deepest progress) and why. */
  explain(event: unknown): MatchFailure | undefined;
}

/** Thrown for patterns EventBridge would reject. `path` is a JSON path such as `$.detail.size[0].numeric`. */
export class InvalidPatternError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`Invalid event pattern at ${path}: ${problem}`);
    this.name = 'InvalidPatternError';
    this.path = path;
  }
}

/** EventBridge rejects patterns whose `$or` usage expands to more than this many rule combinations. */
export const MAX_OR_COMBINATIONS = 1000;
/** Documented numeric-matching range (inclusive) and precision. */
export const NUMERIC_LIMIT = 5.0e9;
export const NUMERIC_MAX_DECIMALS = 6;

// ---------------------------------------------------------------------------------------------------
// Internal types
// ---------------------------------------------------------------------------------------------------

type Leaf = string | number | boolean | null;
type ValueTest = (v: Leaf) => boolean;
type JsonObject = { readonly [key: string]: unknown };

interface FieldMatcher {
  /** Whether a leaf value satisfies any entry of the list (specialised at compile time). */
  readonly test: ValueTest;
  /** Only literals (set lookups): cheap to evaluate. */
  readonly literalOnly: boolean;
  /** The list contains `{ "exists": false }`. */
  readonly allowAbsent: boolean;
  /** The list contains at least one matcher that needs a value to be present. */
  readonly positive: boolean;
  /** JSON of the pattern list, for explanations. */
  readonly describe: string;
}

interface Cond {
  readonly segs: readonly string[];
  readonly key: string;
  readonly m: FieldMatcher;
}

interface OrItem {
  readonly branches: readonly Item[][];
}
type Item = Cond | OrItem;

const isOrItem = (item: Item): item is OrItem => 'branches' in item;

// ---------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------

const OR = '$or';

/**
 * event-ruler: Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP — field names JsonRuleCompiler refuses
 * inside `$or` branches (operators plus names reserved for future operators).
 */
const RESERVED_IN_OR: ReadonlySet<string> = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric', 'cidr',
  '=', '<', '<=', '>', '>=',
  'regex', 'not-wildcard', 'not-equals-ignore-case',
  'date-after', 'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range',
  'ip-address-in-range', 'ip-address-not-in-range',
]);

const OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'numeric', 'exists', 'wildcard', 'cidr'];

// ---------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPlainObject(v: unknown): v is JsonObject {
  if (!isObject(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isLeaf(v: unknown): v is Leaf {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function jsonPath(base: string, key: string): string {
  return `${base}.${key}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s;
}

/**
 * Numbers eligible for numeric matching: the documented range -5.0e9..+5.0e9 (inclusive) with at most
 * six digits right of the decimal point (judged on the shortest round-trip decimal form of the double).
 */
export function isComparableNumber(n: number): boolean {
  if (!(n >= -NUMERIC_LIMIT && n <= NUMERIC_LIMIT)) return false; // also rejects NaN
  if (Number.isInteger(n)) return true;
  const s = String(n);
  // In range, JavaScript only uses exponent notation below 1e-6, i.e. more than six decimals.
  if (s.includes('e')) return false;
  return s.length - s.indexOf('.') - 1 <= NUMERIC_MAX_DECIMALS;
}

// ---------------------------------------------------------------------------------------------------
// IP addresses (event-ruler: CIDR.java)
// ---------------------------------------------------------------------------------------------------

/**
 * event-ruler: CIDR.ipToBytes() treats a string as an IP address when it fits Constants.IPv4_REGEX (four
 * dot-separated runs of ASCII digits) or Constants.IPv6_REGEX (hex digits and colons, at least one colon),
 * then parses it with Java's InetAddress (IPAddressUtil.textToNumericFormatV4/V6), reproduced below.
 */
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

// One-entry memo: consecutive rules usually test the same event value.
let lastIpText: string | undefined;
let lastIp: Uint8Array | null = null;

/** Parses an IPv4/IPv6 literal into 4 or 16 bytes, or returns null. IPv4-mapped IPv6 yields 4 bytes. */
function parseIp(s: string): Uint8Array | null {
  if (s === lastIpText) return lastIp;
  lastIp = parseIpUncached(s);
  lastIpText = s;
  return lastIp;
}

function parseIpUncached(s: string): Uint8Array | null {
  if (s.length < 2) return null;
  const colon = s.indexOf(':') !== -1;
  if (!colon) {
    const c0 = s.charCodeAt(0);
    return c0 >= 48 && c0 <= 57 ? parseIpv4(s) : null;
  }
  return parseIpv6(s);
}

/**
 * Java's textToNumericFormatV4 on four parts: each part is decimal whatever its leading zeros (`010` is 10,
 * not octal 8) and at most 255, and the whole literal is at most 15 characters (`0010.000.000.001` is not
 * an address).
 */
function parseIpv4(s: string): Uint8Array | null {
  if (s.length > 15) return null;
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return null;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
      if (value > 255) return null;
    } else {
      return null;
    }
  }
  return part === 4 ? out : null;
}

/**
 * Java's textToNumericFormatV6 on the characters IPV6_SHAPE admits: a group is any run of hex digits whose
 * value fits 16 bits (`00001` is 1), `::` at most once and standing for at least one group, no single
 * leading or trailing colon.
 */
function parseIpv6(s: string): Uint8Array | null {
  if (!IPV6_SHAPE.test(s)) return null;
  const dst = new Uint8Array(16);
  let i = 0;
  if (s.charCodeAt(0) === 58 && s.charCodeAt(++i) !== 58) return null;
  let j = 0;
  let gap = -1;
  let sawDigit = false;
  let value = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i++);
    if (c !== 58) {
      value = value * 16 + parseInt(s[i - 1] as string, 16);
      if (value > 0xffff) return null;
      sawDigit = true;
      continue;
    }
    if (!sawDigit) {
      if (gap !== -1) return null;
      gap = j;
      continue;
    }
    if (i === s.length || j + 2 > 16) return null;
    dst[j++] = value >> 8;
    dst[j++] = value & 0xff;
    sawDigit = false;
    value = 0;
  }
  if (sawDigit) {
    if (j + 2 > 16) return null;
    dst[j++] = value >> 8;
    dst[j++] = value & 0xff;
  }
  if (gap !== -1) {
    if (j === 16) return null;
    const n = j - gap;
    for (let k = 1; k <= n; k++) {
      dst[16 - k] = dst[gap + n - k] as number;
      dst[gap + n - k] = 0;
    }
    j = 16;
  }
  if (j !== 16) return null;
  let mapped = dst[10] === 0xff && dst[11] === 0xff;
  for (let k = 0; k < 10 && mapped; k++) if (dst[k] !== 0) mapped = false;
  return mapped ? dst.slice(12) : dst;
}

function ipKey(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

interface Cidr {
  readonly base: Uint8Array;
  readonly bits: number;
}

function parseCidr(s: string): Cidr | string {
  const slashed = s.split('/');
  if (slashed.length !== 2) return "malformed CIDR, exactly one '/' is required";
  const [ip, maskText] = slashed as [string, string];
  if (!/^\d+$/.test(maskText)) {
    return /^-\d+$/.test(maskText)
      ? 'malformed CIDR, mask bits must not be negative'
      : 'malformed CIDR, mask bits must be an integer';
  }
  const bits = Number(maskText);
  const base = parseIp(ip);
  if (base === null) return `invalid IP address ${show(ip)}`;
  // event-ruler: CIDR.cidr() requires mask bits < 32 (IPv4) and < 128 (IPv6).
  if (base.length === 4 && bits > 31) return 'IPv4 mask bits must be between 0 and 31';
  if (base.length === 16 && bits > 127) return 'IPv6 mask bits must be between 0 and 127';
  return { base, bits };
}

function inCidr(c: Cidr, ip: Uint8Array): boolean {
  if (ip.length !== c.base.length) return false;
  let bits = c.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((ip[i] as number) & mask) !== ((c.base[i] as number) & mask)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Wildcards (event-ruler: WildcardParser.java)
// ---------------------------------------------------------------------------------------------------

/** Compiles a wildcard value to an anchored RegExp, or returns an error message. */
function compileWildcard(value: string): RegExp | string {
  let re = '^';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '*') {
      if (value[i + 1] === '*') return `consecutive wildcard characters at position ${i} are not allowed`;
      re += '[\\s\\S]*';
    } else if (ch === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '\\') {
        re += next === '*' ? '\\*' : '\\\\';
        i++;
      } else {
        return `invalid escape at position ${i}: a backslash may only escape '*' or '\\'`;
      }
    } else {
      re += escapeRegExp(ch);
    }
  }
  return new RegExp(re + '$');
}

// ---------------------------------------------------------------------------------------------------
// Case-insensitive matching (event-ruler: input/EqualsIgnoreCaseParser.java)
// ---------------------------------------------------------------------------------------------------

/**
 * event-ruler never folds the event value. It compiles the pattern text one Java char (UTF-16 code unit)
 * at a time into the alternatives `c.toLowerCase(Locale.ROOT)` and `c.toUpperCase(Locale.ROOT)`, and the
 * event must spell one alternative of each in turn. So pattern `ﬁle` accepts `FILE` (upper `ﬁ` is `FI`)
 * while pattern `FILE` refuses `ﬁle`; the Kelvin sign accepts `k` but not `K`; `ǅ` accepts `ǆ` and `Ǆ`
 * but not itself. A lone surrogate encodes to UTF-8 as `?` in Java, so each half of a character outside
 * the BMP stands for a literal `?`. JavaScript's single-unit case mappings are Java's (both are Unicode's
 * full mappings without locale); they differ only for characters added to Unicode after the JDK's version.
 */
type Anchor = 'whole' | 'prefix' | 'suffix';
type StringTest = (e: string) => boolean;

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** ASCII lower-casing of `e` from `start` equals `folded` (itself ASCII lower case). */
function asciiFoldedAt(e: string, start: number, folded: string): boolean {
  for (let i = 0; i < folded.length; i++) {
    let c = e.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== folded.charCodeAt(i)) return false;
  }
  return true;
}

function ignoreCaseTest(text: string, anchor: Anchor): StringTest {
  if (ASCII_ONLY.test(text)) {
    // ASCII characters only have ASCII case alternatives: compare ASCII-folded, without allocating.
    const folded = text.toLowerCase();
    const n = folded.length;
    if (anchor === 'whole') return (e) => e.length === n && asciiFoldedAt(e, 0, folded);
    if (anchor === 'prefix') return (e) => e.length >= n && asciiFoldedAt(e, 0, folded);
    return (e) => e.length >= n && asciiFoldedAt(e, e.length - n, folded);
  }
  let source = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text[i] as string;
    const code = unit.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) {
      source += '\\?';
      continue;
    }
    const lower = unit.toLowerCase();
    const upper = unit.toUpperCase();
    source += lower === upper ? escapeRegExp(lower) : `(?:${escapeRegExp(lower)}|${escapeRegExp(upper)})`;
  }
  const re = new RegExp((anchor === 'suffix' ? '' : '^') + source + (anchor === 'prefix' ? '' : '$'));
  return (e) => re.test(e);
}

/** Whether a string equals any of `texts` ignoring case (event-ruler's reading, see above). */
function ignoreCaseAnyTest(texts: readonly string[]): StringTest {
  const ascii = new Set<string>();
  const others: StringTest[] = [];
  for (const t of texts) {
    if (ASCII_ONLY.test(t)) ascii.add(t.toLowerCase());
    else others.push(ignoreCaseTest(t, 'whole'));
  }
  return (e) => (ascii.size > 0 && ASCII_ONLY.test(e) && ascii.has(e.toLowerCase())) || others.some((t) => t(e));
}

// ---------------------------------------------------------------------------------------------------
// Field value lists
// ---------------------------------------------------------------------------------------------------

function expectString(v: unknown, path: string, what: string): string {
  if (typeof v !== 'string') throw new InvalidPatternError(path, `${what} must be a string, got ${show(v)}`);
  return v;
}

/** Reads an operand that may be a string or a non-empty list of strings. */
function stringOrStrings(v: unknown, path: string, what: string, allowEmptyString: boolean): string[] {
  const list = Array.isArray(v) ? (v as unknown[]) : [v];
  if (Array.isArray(v) && list.length === 0) throw new InvalidPatternError(path, `${what} list must not be empty`);
  return list.map((item, i) => {
    const p = Array.isArray(v) ? `${path}[${i}]` : path;
    const s = expectString(item, p, `${what} value`);
    if (!allowEmptyString && s === '') throw new InvalidPatternError(p, `${what} value must not be an empty string`);
    return s;
  });
}

/** `{ "prefix": "x" }` / `{ "prefix": { "equals-ignore-case": "x" } }` (and the same for suffix). */
function affixOperand(v: unknown, path: string, op: string): { text: string; ignoreCase: boolean } {
  if (typeof v === 'string') return { text: v, ignoreCase: false };
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'equals-ignore-case') {
      const text = expectString(v['equals-ignore-case'], jsonPath(path, 'equals-ignore-case'), 'equals-ignore-case');
      return { text, ignoreCase: true };
    }
    if (keys.length === 0) throw new InvalidPatternError(path, `${op} object must contain "equals-ignore-case"`);
    if (keys.length > 1) throw new InvalidPatternError(path, `${op} object must have exactly one key, got ${show(keys)}`);
    throw new InvalidPatternError(path, `unsupported ${op} operator ${show(keys[0])} (only "equals-ignore-case" is allowed)`);
  }
  throw new InvalidPatternError(path, `${op} must be a string or { "equals-ignore-case": string }, got ${show(v)}`);
}

function numericTest(v: unknown, path: string): ValueTest {
  if (!Array.isArray(v)) throw new InvalidPatternError(path, `numeric must be an array such as [">", 0, "<=", 5], got ${show(v)}`);
  const arr = v as unknown[];
  if (arr.length === 0) throw new InvalidPatternError(path, 'numeric expression must not be empty');
  const operand = (i: number, op: string): number => {
    if (i >= arr.length) throw new InvalidPatternError(path, `operator "${op}" is missing its numeric operand`);
    const n = arr[i];
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw new InvalidPatternError(`${path}[${i}]`, `operand of "${op}" must be a number, got ${show(n)}`);
    }
    if (!isComparableNumber(n)) {
      throw new InvalidPatternError(
        `${path}[${i}]`,
        `operand ${n} is outside the supported numeric range (-5.0e9..5.0e9, at most 6 decimal places)`,
      );
    }
    return n;
  };
  const op0 = arr[0];
  if (typeof op0 !== 'string') throw new InvalidPatternError(`${path}[0]`, `expected a comparison operator, got ${show(op0)}`);
  if (op0 === '=') {
    const x = operand(1, '=');
    if (arr.length > 2) throw new InvalidPatternError(path, '"=" cannot be combined with other comparisons');
    return (e) => typeof e === 'number' && e === x && isComparableNumber(e);
  }
  if (op0 === '<' || op0 === '<=') {
    const hi = operand(1, op0);
    // event-ruler: an upper bound must come last ("Too many elements in numeric expression").
    if (arr.length > 2) throw new InvalidPatternError(path, `too many elements: an upper bound ("${op0}") must be the last comparison (write the lower bound first)`);
    return op0 === '<'
      ? (e) => typeof e === 'number' && e < hi && isComparableNumber(e)
      : (e) => typeof e === 'number' && e <= hi && isComparableNumber(e);
  }
  if (op0 !== '>' && op0 !== '>=') {
    throw new InvalidPatternError(`${path}[0]`, `unrecognized numeric operator ${show(op0)} (expected =, <, <=, > or >=)`);
  }
  const lo = operand(1, op0);
  const loOpen = op0 === '>';
  if (arr.length === 2) {
    return loOpen
      ? (e) => typeof e === 'number' && e > lo && isComparableNumber(e)
      : (e) => typeof e === 'number' && e >= lo && isComparableNumber(e);
  }
  const op1 = arr[2];
  if (op1 !== '<' && op1 !== '<=') {
    throw new InvalidPatternError(`${path}[2]`, `a range needs "<" or "<=" after the lower bound, got ${show(op1)}`);
  }
  const hi = operand(3, op1);
  if (arr.length > 4) throw new InvalidPatternError(path, 'too many elements: at most two comparisons (a lower and an upper bound) are allowed');
  if (!(lo < hi)) throw new InvalidPatternError(path, `range lower bound ${lo} must be less than upper bound ${hi}`);
  const hiOpen = op1 === '<';
  return (e) =>
    typeof e === 'number' &&
    (loOpen ? e > lo : e >= lo) &&
    (hiOpen ? e < hi : e <= hi) &&
    isComparableNumber(e);
}

function anythingButTest(v: unknown, path: string): ValueTest {
  // event-ruler (ByteMachine): anything-but matches ANY leaf value (string, number, boolean, null) that is not
  // excluded; a string exclusion never excludes a number and vice versa. A missing field never matches.
  if (typeof v === 'string') return (e) => e !== v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || !isComparableNumber(v)) {
      throw new InvalidPatternError(path, `number ${show(v)} is outside the supported numeric range (-5.0e9..5.0e9, at most 6 decimal places)`);
    }
    return (e) => e !== v;
  }
  if (Array.isArray(v)) {
    const list = v as unknown[];
    if (list.length === 0) throw new InvalidPatternError(path, 'anything-but list must not be empty');
    let strings = 0;
    let numbers = 0;
    list.forEach((item, i) => {
      if (typeof item === 'string') strings++;
      else if (typeof item === 'number' && Number.isFinite(item)) {
        if (!isComparableNumber(item)) {
          throw new InvalidPatternError(`${path}[${i}]`, `number ${item} is outside the supported numeric range (-5.0e9..5.0e9, at most 6 decimal places)`);
        }
        numbers++;
      } else {
        throw new InvalidPatternError(`${path}[${i}]`, `anything-but list values must be strings or numbers, got ${show(item)}`);
      }
    });
    if (strings > 0 && numbers > 0) throw new InvalidPatternError(path, 'anything-but list must contain only strings or only numbers, not both');
    const set = new Set<Leaf>(list as Leaf[]);
    return (e) => !set.has(e);
  }
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) {
      throw new InvalidPatternError(path, keys.length === 0
        ? 'anything-but object must contain one of "prefix", "suffix", "equals-ignore-case", "wildcard"'
        : `anything-but object must have exactly one key, got ${show(keys)}`);
    }
    const op = keys[0] as string;
    const p = jsonPath(path, op);
    const operand = v[op];
    switch (op) {
      case 'prefix': {
        const list = stringOrStrings(operand, p, 'anything-but prefix', false);
        return (e) => typeof e !== 'string' || !list.some((x) => e.startsWith(x));
      }
      case 'suffix': {
        const list = stringOrStrings(operand, p, 'anything-but suffix', false);
        return (e) => typeof e !== 'string' || !list.some((x) => e.endsWith(x));
      }
      case 'equals-ignore-case': {
        const excluded = ignoreCaseAnyTest(stringOrStrings(operand, p, 'anything-but equals-ignore-case', true));
        return (e) => typeof e !== 'string' || !excluded(e);
      }
      case 'wildcard': {
        const regexes = stringOrStrings(operand, p, 'anything-but wildcard', true).map((w, i) => {
          const r = compileWildcard(w);
          if (typeof r === 'string') throw new InvalidPatternError(Array.isArray(operand) ? `${p}[${i}]` : p, r);
          return r;
        });
        return (e) => typeof e !== 'string' || !regexes.some((r) => r.test(e));
      }
      case 'anything-but':
        throw new InvalidPatternError(p, 'anything-but cannot be nested');
      default:
        throw new InvalidPatternError(p, `unsupported anything-but operator ${show(op)} (expected prefix, suffix, equals-ignore-case or wildcard)`);
    }
  }
  throw new InvalidPatternError(path, `anything-but must be a string, a number, a list, or an object, got ${show(v)}`);
}

function compileFieldList(list: readonly unknown[], path: string): FieldMatcher {
  if (list.length === 0) throw new InvalidPatternError(path, 'value list must not be empty');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const ipLiterals = new Set<string>();
  const ops: ValueTest[] = [];
  const ignoreCase: string[] = [];
  let matchTrue = false;
  let matchFalse = false;
  let matchNull = false;
  let existsTrue = false;
  let allowAbsent = false;
  let positive = false;

  list.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (typeof item === 'string') {
      strings.add(item);
      // event-ruler (JsonRuleCompiler.writeRules): string literals that are IP addresses match as IPs.
      const ip = parseIp(item);
      if (ip !== null) ipLiterals.add(ipKey(ip));
      positive = true;
      return;
    }
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw new InvalidPatternError(itemPath, `${show(item)} is not a JSON number`);
      numbers.add(item);
      positive = true;
      return;
    }
    if (typeof item === 'boolean') {
      if (item) matchTrue = true;
      else matchFalse = true;
      positive = true;
      return;
    }
    if (item === null) {
      matchNull = true;
      positive = true;
      return;
    }
    if (Array.isArray(item)) throw new InvalidPatternError(itemPath, 'nested arrays are not allowed in a value list');
    if (!isObject(item)) throw new InvalidPatternError(itemPath, `value must be a string, number, boolean, null or operator object, got ${show(item)}`);

    const keys = Object.keys(item);
    if (keys.length === 0) throw new InvalidPatternError(itemPath, `empty operator object (expected one of ${OPERATORS.join(', ')})`);
    if (keys.length > 1) throw new InvalidPatternError(itemPath, `operator object must have exactly one key, got ${show(keys)}`);
    const op = keys[0] as string;
    const opPath = jsonPath(itemPath, op);
    const operand = item[op];
    switch (op) {
      case 'prefix': {
        const { text, ignoreCase: ic } = affixOperand(operand, opPath, 'prefix');
        if (ic) {
          const t = ignoreCaseTest(text, 'prefix');
          ops.push((e) => typeof e === 'string' && t(e));
        } else {
          ops.push((e) => typeof e === 'string' && e.startsWith(text));
        }
        positive = true;
        return;
      }
      case 'suffix': {
        const { text, ignoreCase: ic } = affixOperand(operand, opPath, 'suffix');
        if (ic) {
          const t = ignoreCaseTest(text, 'suffix');
          ops.push((e) => typeof e === 'string' && t(e));
        } else {
          ops.push((e) => typeof e === 'string' && e.endsWith(text));
        }
        positive = true;
        return;
      }
      case 'equals-ignore-case':
        ignoreCase.push(expectString(operand, opPath, 'equals-ignore-case'));
        positive = true;
        return;
      case 'wildcard': {
        const r = compileWildcard(expectString(operand, opPath, 'wildcard'));
        if (typeof r === 'string') throw new InvalidPatternError(opPath, r);
        ops.push((e) => typeof e === 'string' && r.test(e));
        positive = true;
        return;
      }
      case 'numeric':
        ops.push(numericTest(operand, opPath));
        positive = true;
        return;
      case 'anything-but':
        ops.push(anythingButTest(operand, opPath));
        positive = true;
        return;
      case 'exists':
        if (operand === true) {
          existsTrue = true;
          positive = true;
        } else if (operand === false) {
          allowAbsent = true;
        } else {
          throw new InvalidPatternError(opPath, `exists must be true or false, got ${show(operand)}`);
        }
        return;
      case 'cidr': {
        const c = parseCidr(expectString(operand, opPath, 'cidr'));
        if (typeof c === 'string') throw new InvalidPatternError(opPath, c);
        ops.push((e) => {
          if (typeof e !== 'string') return false;
          const ip = parseIp(e);
          return ip !== null && inCidr(c, ip);
        });
        positive = true;
        return;
      }
      default:
        throw new InvalidPatternError(opPath, `unknown operator ${show(op)} (expected one of ${OPERATORS.join(', ')})`);
    }
  });

  if (ignoreCase.length > 0) {
    const t = ignoreCaseAnyTest(ignoreCase);
    ops.push((e) => typeof e === 'string' && t(e));
  }
  const literalOnly = ops.length === 0 && !existsTrue;
  return {
    test: buildTest(strings, numbers, ipLiterals, matchTrue, matchFalse, matchNull, existsTrue, ops),
    literalOnly,
    allowAbsent,
    positive,
    describe: show(list),
  };
}

/** Builds one specialised predicate for a value list (avoids generic dispatch on the hot path). */
function buildTest(
  strings: ReadonlySet<string>,
  numbers: ReadonlySet<number>,
  ipLiterals: ReadonlySet<string>,
  matchTrue: boolean,
  matchFalse: boolean,
  matchNull: boolean,
  existsTrue: boolean,
  ops: readonly ValueTest[],
): ValueTest {
  if (existsTrue) return () => true;
  const tests: ValueTest[] = [];
  if (strings.size === 1 && ipLiterals.size === 0) {
    const only = strings.values().next().value as string;
    tests.push((v) => v === only);
  } else if (strings.size > 0) {
    tests.push(
      ipLiterals.size === 0
        ? (v) => typeof v === 'string' && strings.has(v)
        : (v) => {
            if (typeof v !== 'string') return false;
            if (strings.has(v)) return true;
            // event-ruler: IP-address literals match any spelling of the same address.
            const ip = parseIp(v);
            return ip !== null && ipLiterals.has(ipKey(ip));
          },
    );
  }
  if (numbers.size === 1) {
    const only = numbers.values().next().value as number;
    tests.push((v) => v === only);
  } else if (numbers.size > 0) {
    tests.push((v) => typeof v === 'number' && numbers.has(v));
  }
  if (matchTrue) tests.push((v) => v === true);
  if (matchFalse) tests.push((v) => v === false);
  if (matchNull) tests.push((v) => v === null);
  tests.push(...ops);
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0] as ValueTest;
  if (tests.length === 2) {
    const [t0, t1] = tests as [ValueTest, ValueTest];
    return (v) => t0(v) || t1(v);
  }
  return (v) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as ValueTest)(v)) return true;
    return false;
  };
}

// ---------------------------------------------------------------------------------------------------
// Pattern structure: validation, $or expansion
// ---------------------------------------------------------------------------------------------------

interface Analysis {
  readonly items: Item[];
  readonly count: number;
}

function analyzeObject(obj: unknown, path: string, segs: readonly string[], inOr: boolean, items: Item[]): number {
  if (!isPlainObject(obj)) throw new InvalidPatternError(path, `pattern must be a JSON object, got ${show(obj)}`);
  const keys = Object.keys(obj);
  if (keys.length === 0) throw new InvalidPatternError(path, 'empty objects are not allowed');
  let count = 1;
  for (const key of keys) {
    const value = obj[key];
    const p = jsonPath(path, key);
    if (key === OR) {
      const orCount = analyzeOr(value, p, segs, items);
      count *= orCount;
      if (count > MAX_OR_COMBINATIONS) {
        throw new InvalidPatternError(p, `$or expands the pattern to ${count} rule combinations; the limit is ${MAX_OR_COMBINATIONS}`);
      }
      continue;
    }
    if (inOr && RESERVED_IN_OR.has(key)) {
      throw new InvalidPatternError(p, `"${key}" is a reserved keyword and cannot be used as a field name inside $or`);
    }
    const childSegs = [...segs, key];
    if (Array.isArray(value)) {
      items.push({ segs: childSegs, key: childSegs.join('.'), m: compileFieldList(value as unknown[], p) });
    } else if (isObject(value)) {
      count *= analyzeObject(value, p, childSegs, inOr, items);
      if (count > MAX_OR_COMBINATIONS) {
        throw new InvalidPatternError(p, `$or expands the pattern to ${count} rule combinations; the limit is ${MAX_OR_COMBINATIONS}`);
      }
    } else {
      throw new InvalidPatternError(p, `field value must be an array of match values or a nested object, got ${show(value)}`);
    }
  }
  return count;
}

function analyzeOr(value: unknown, path: string, segs: readonly string[], items: Item[]): number {
  if (!Array.isArray(value)) throw new InvalidPatternError(path, `$or must be an array of at least two objects, got ${show(value)}`);
  const list = value as unknown[];
  if (list.length < 2) throw new InvalidPatternError(path, `$or must contain at least two objects, got ${list.length}`);
  const branches: Item[][] = [];
  let count = 0;
  list.forEach((branch, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(branch)) throw new InvalidPatternError(p, `$or entries must be objects, got ${show(branch)}`);
    const branchItems: Item[] = [];
    count += analyzeObject(branch, p, segs, true, branchItems);
    branches.push(branchItems);
  });
  if (count > MAX_OR_COMBINATIONS) {
    throw new InvalidPatternError(path, `$or expands the pattern to ${count} rule combinations; the limit is ${MAX_OR_COMBINATIONS}`);
  }
  items.push({ branches });
  return count;
}

function analyze(pattern: unknown): Analysis {
  const items: Item[] = [];
  const count = analyzeObject(pattern, '$', [], false, items);
  return { items, count };
}

/** Expands items into flat condition lists (the cartesian product over `$or` items). */
function expand(items: readonly Item[]): Cond[][] {
  let rules: Cond[][] = [[]];
  for (const item of items) {
    if (isOrItem(item)) {
      const alternatives: Cond[][] = [];
      for (const branch of item.branches) alternatives.push(...expand(branch));
      const next: Cond[][] = [];
      for (const r of rules) for (const alt of alternatives) next.push([...r, ...alt]);
      rules = next;
    } else {
      for (const r of rules) r.push(item);
    }
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------

/**
 * Backtracking matcher over one sub-rule. Array bindings (array object -> chosen element index) implement
 * event-ruler's array consistency: once a condition has matched inside element i of an array, later
 * conditions traversing that array must use element i too. `exists: false` conditions keep their
 * sorted-path position (event-ruler's state-machine order): absence is checked against the elements bound
 * so far (unbound arrays: every element). See evaluationOrder().
 */
const EMPTY: JsonObject = Object.freeze({});

class Matcher {
  private conds: readonly Cond[] = [];
  private root: JsonObject = EMPTY;
  private readonly bArr: unknown[] = [];
  private readonly bIdx: number[] = [];
  private bLen = 0;
  private tracing = false;
  bestDepth = -1;
  bestFailure: MatchFailure | undefined;

  run(conds: readonly Cond[], root: JsonObject, trace: boolean): boolean {
    this.conds = conds;
    this.root = root;
    this.bLen = 0;
    this.tracing = trace;
    if (trace) {
      this.bestDepth = -1;
      this.bestFailure = undefined;
    }
    const ok = this.solve(0);
    this.root = EMPTY;
    return ok;
  }

  private solve(ci: number): boolean {
    if (ci === this.conds.length) return true;
    const c = this.conds[ci] as Cond;
    if (c.m.positive && this.walk(this.root, 0, c, ci)) return true;
    if (c.m.allowAbsent && !this.hasLeaf(this.root, c.segs, 0)) return this.solve(ci + 1);
    if (this.tracing && ci > this.bestDepth) {
      this.bestDepth = ci;
      this.bestFailure = { path: c.key, reason: this.reason(c) };
    }
    return false;
  }

  /** Walks `c.segs` from `node` (depth i); on reaching matching leaves, continues with the next condition. */
  private walk(node: unknown, i: number, c: Cond, ci: number): boolean {
    const segs = c.segs;
    while (i < segs.length) {
      if (Array.isArray(node)) return this.walkArray(node as unknown[], i, c, ci);
      if (typeof node !== 'object' || node === null) return false;
      node = (node as JsonObject)[segs[i] as string];
      i++;
    }
    return this.anyLeafMatches(node, c.m) && this.solve(ci + 1);
  }

  private walkArray(arr: readonly unknown[], i: number, c: Cond, ci: number): boolean {
    for (let k = 0; k < this.bLen; k++) {
      if (this.bArr[k] === arr) return this.walk(arr[this.bIdx[k] as number], i, c, ci);
    }
    for (let e = 0; e < arr.length; e++) {
      const el = arr[e];
      if (typeof el !== 'object' || el === null) continue;
      const slot = this.bLen++;
      this.bArr[slot] = arr;
      this.bIdx[slot] = e;
      const ok = this.walk(el, i, c, ci);
      this.bLen = slot;
      if (ok) return true;
    }
    return false;
  }

  private anyLeafMatches(node: unknown, m: FieldMatcher): boolean {
    if (Array.isArray(node)) {
      for (const el of node as unknown[]) if (this.anyLeafMatches(el, m)) return true;
      return false;
    }
    return isLeaf(node) && m.test(node);
  }

  /** Whether any leaf value exists at `segs` (from depth i), honouring current array bindings. */
  private hasLeaf(node: unknown, segs: readonly string[], i: number): boolean {
    while (i < segs.length) {
      if (Array.isArray(node)) {
        const arr = node as unknown[];
        for (let k = 0; k < this.bLen; k++) {
          if (this.bArr[k] === arr) return this.hasLeaf(arr[this.bIdx[k] as number], segs, i);
        }
        for (const el of arr) if (typeof el === 'object' && el !== null && this.hasLeaf(el, segs, i)) return true;
        return false;
      }
      if (typeof node !== 'object' || node === null) return false;
      node = (node as JsonObject)[segs[i] as string];
      i++;
    }
    return leafPresent(node);
  }

  /** Leaves at `segs` consistent with current bindings, plus whether a non-leaf (object) sits there. */
  private collect(node: unknown, segs: readonly string[], i: number, out: { values: Leaf[]; nonLeaf: boolean }): void {
    while (i < segs.length) {
      if (Array.isArray(node)) {
        const arr = node as unknown[];
        for (let k = 0; k < this.bLen; k++) {
          if (this.bArr[k] === arr) {
            this.collect(arr[this.bIdx[k] as number], segs, i, out);
            return;
          }
        }
        for (const el of arr) if (typeof el === 'object' && el !== null) this.collect(el, segs, i, out);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      node = (node as JsonObject)[segs[i] as string];
      i++;
    }
    collectLeaves(node, out);
  }

  private reason(c: Cond): string {
    const found = { values: [] as Leaf[], nonLeaf: false };
    this.collect(this.root, c.segs, 0, found);
    const { values } = found;
    if (values.length === 0 && this.bLen > 0) {
      // Values may exist in other elements of an array another condition already bound.
      const saved = this.bLen;
      this.bLen = 0;
      const anywhere = { values: [] as Leaf[], nonLeaf: false };
      this.collect(this.root, c.segs, 0, anywhere);
      this.bLen = saved;
      if (anywhere.values.length > 0 && c.m.positive) {
        return `no value in the same array element as the other matched fields (other elements have ${show(anywhere.values)}, pattern ${c.m.describe})`;
      }
    }
    if (values.length === 0) {
      return found.nonLeaf ? 'field is not a leaf value (it is an object); patterns match only leaf values' : 'field is missing';
    }
    if (!c.m.positive) {
      return `field exists (${values.length === 1 ? `value ${show(values[0])}` : `values ${show(values)}`}) but the pattern requires it to be absent`;
    }
    return values.length === 1
      ? `value ${show(values[0])} matches none of ${c.m.describe}`
      : `values ${show(values)} match none of ${c.m.describe}`;
  }
}

function leafPresent(node: unknown): boolean {
  if (Array.isArray(node)) {
    for (const el of node as unknown[]) if (leafPresent(el)) return true;
    return false;
  }
  return isLeaf(node);
}

function collectLeaves(node: unknown, out: { values: Leaf[]; nonLeaf: boolean }): void {
  if (Array.isArray(node)) {
    for (const el of node as unknown[]) collectLeaves(el, out);
  } else if (isLeaf(node)) {
    out.values.push(node);
  } else if (typeof node === 'object' && node !== null) {
    out.nonLeaf = true;
  }
}

const sharedMatcher = new Matcher();

const byKey = (a: Cond, b: Cond): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
/** Cheapest first: shallow paths, then literal-only lists (set lookups), then by path. */
const byCost = (a: Cond, b: Cond): number =>
  a.segs.length - b.segs.length || (a.m.literalOnly ? 0 : 1) - (b.m.literalOnly ? 0 : 1) || byKey(a, b);

/**
 * Orders a sub-rule's conditions for evaluation. event-ruler visits conditions in sorted-path order, and
 * that order only matters for conditions that can match an absent field (`exists: false`): they are checked
 * against the array elements bound by the conditions before them. Those stay in place; the positive-only
 * conditions between them form a conjunction whose result does not depend on order, so they run cheapest
 * first (fast rejection of non-matching rules).
 */
function evaluationOrder(conds: Cond[]): Cond[] {
  const sorted = [...conds].sort(byKey);
  const out: Cond[] = [];
  let segment: Cond[] = [];
  for (const c of sorted) {
    if (c.m.allowAbsent) {
      out.push(...segment.sort(byCost), c);
      segment = [];
    } else {
      segment.push(c);
    }
  }
  out.push(...segment.sort(byCost));
  return out;
}

class CompiledEventPattern implements CompiledPattern {
  readonly pattern: EventPattern;
  readonly combinations: number;
  private readonly rules: readonly (readonly Cond[])[];

  constructor(pattern: EventPattern, analysis: Analysis) {
    this.pattern = pattern;
    this.combinations = analysis.count;
    this.rules = expand(analysis.items).map(evaluationOrder);
  }

  matches(event: unknown): boolean {
    if (!isObject(event)) return false;
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      if (sharedMatcher.run(rules[i] as readonly Cond[], event, false)) return true;
    }
    return false;
  }

  explain(event: unknown): MatchFailure | undefined {
    if (!isObject(event)) return { path: '$', reason: `event must be a JSON object, got ${show(event)}` };
    let best: MatchFailure | undefined;
    let bestDepth = -1;
    for (const rule of this.rules) {
      if (sharedMatcher.run(rule, event, true)) return undefined;
      if (sharedMatcher.bestDepth > bestDepth) {
        bestDepth = sharedMatcher.bestDepth;
        best = sharedMatcher.bestFailure;
      }
    }
    return best ?? { path: '$', reason: 'event does not match the pattern' };
  }
}

// ---------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------

/** Throws InvalidPatternError if EventBridge would reject the pattern. */
export function validatePattern(pattern: unknown): void {
  analyze(pattern);
}

/** Validates the pattern and precompiles it for fast repeated matching. */
export function compilePattern(pattern: unknown): CompiledPattern {
  const analysis = analyze(pattern);
  return new CompiledEventPattern(pattern as EventPattern, analysis);
}

/** Convenience one-shot match (compiles the pattern on every call; prefer compilePattern for reuse). */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern).matches(event);
}
