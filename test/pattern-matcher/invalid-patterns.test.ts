/**
 * Patterns EventBridge rejects (PutRule / TestEventPattern answer InvalidEventPatternException).
 * Each case asserts the JSON path carried by InvalidPatternError.
 *
 * Sources: "Creating event patterns" and "Comparison operators for use in event patterns"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
 *  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html — value lists are
 * arrays; wildcard forbids consecutive "*"; $or limited to 1000 rule combinations). Where the docs are silent the
 * rule comes from aws/event-ruler JsonRuleCompiler.java / CIDR.java / WildcardParser.java, as noted per case.
 */
import { describe, expect, it } from 'vitest';
import { InvalidPatternError, compilePattern, validatePattern } from '../../lib/domain/pattern-matcher';
import type { InvalidCase } from './fixtures';

const num = (expr: unknown): unknown => ({ detail: { size: [{ numeric: expr }] } });
const ab = (operand: unknown): unknown => ({ x: [{ 'anything-but': operand }] });
const orOf = (n: number, field: string): { $or: unknown[] } => ({ $or: Array.from({ length: n }, (_, i) => ({ [field]: [i] })) });

// Pattern shape ("Creating event patterns": a pattern is a JSON object whose values are arrays or objects).
const shape: InvalidCase[] = [
  { name: 'null pattern', pattern: null, path: '$' },
  { name: 'array pattern', pattern: [{ source: ['a'] }], path: '$' },
  { name: 'string pattern', pattern: '{"source":["a"]}', path: '$' },
  { name: 'event-ruler: empty pattern object', pattern: {}, path: '$' },
  { name: 'event-ruler: empty nested object', pattern: { detail: {} }, path: '$.detail' },
  { name: 'leaf value is not an array', pattern: { source: 'aws.ec2' }, path: '$.source' },
  { name: 'leaf value is a number', pattern: { detail: { size: 5 } }, path: '$.detail.size' },
  { name: 'empty value list', pattern: { source: [] }, path: '$.source' },
  { name: 'nested array in a value list', pattern: { source: [['aws.ec2']] }, path: '$.source[0]' },
  { name: 'non-JSON number (Infinity)', pattern: { n: [Infinity] }, path: '$.n[0]' },
];

// Operator objects ("Comparison operators": one operator per object, known operator names, typed operands).
const operators: InvalidCase[] = [
  { name: 'empty operator object', pattern: { source: [{}] }, path: '$.source[0]' },
  { name: 'two operators in one object', pattern: { source: [{ prefix: 'a', suffix: 'b' }] }, path: '$.source[0]' },
  { name: 'unknown operator "contains"', pattern: { source: [{ contains: 'x' }] }, path: '$.source[0].contains' },
  { name: '$or used as a value operator', pattern: { source: [{ $or: [{ a: ['b'] }, { c: ['d'] }] }] }, path: '$.source[0].$or' },
  { name: 'prefix operand is a number', pattern: { source: [{ prefix: 5 }] }, path: '$.source[0].prefix' },
  { name: 'prefix equals-ignore-case operand is a number', pattern: { source: [{ prefix: { 'equals-ignore-case': 5 } }] }, path: '$.source[0].prefix.equals-ignore-case' },
  { name: 'prefix with an unsupported nested operator', pattern: { source: [{ prefix: { wildcard: 'a*' } }] }, path: '$.source[0].prefix' },
  { name: 'suffix operand is null', pattern: { source: [{ suffix: null }] }, path: '$.source[0].suffix' },
  { name: 'equals-ignore-case operand is a list', pattern: { x: [{ 'equals-ignore-case': ['a'] }] }, path: '$.x[0].equals-ignore-case' },
  { name: 'exists operand is a string', pattern: { x: [{ exists: 'yes' }] }, path: '$.x[0].exists' },
  { name: 'exists operand is a number', pattern: { x: [{ exists: 1 }] }, path: '$.x[0].exists' },
];

// numeric ("Numeric matching"; operator grammar from event-ruler JsonRuleCompiler.processNumericMatchExpression).
const numeric: InvalidCase[] = [
  { name: 'numeric is not an array', pattern: num(5), path: '$.detail.size[0].numeric' },
  { name: 'numeric is empty', pattern: num([]), path: '$.detail.size[0].numeric' },
  { name: 'numeric operator without operand', pattern: num(['>']), path: '$.detail.size[0].numeric' },
  { name: 'numeric operand is a string', pattern: num(['>', '5']), path: '$.detail.size[0].numeric[1]' },
  { name: 'numeric unknown operator', pattern: num(['!=', 5]), path: '$.detail.size[0].numeric[0]' },
  { name: 'numeric first element is not an operator', pattern: num([5, '>']), path: '$.detail.size[0].numeric[0]' },
  { name: 'numeric range lower > upper', pattern: num(['>', 5, '<', 1]), path: '$.detail.size[0].numeric' },
  { name: 'event-ruler: numeric range lower == upper', pattern: num(['>=', 5, '<=', 5]), path: '$.detail.size[0].numeric' },
  { name: '"=" combined with another comparison', pattern: num(['=', 3, '<', 5]), path: '$.detail.size[0].numeric' },
  { name: 'two lower bounds', pattern: num(['>', 0, '>', 5]), path: '$.detail.size[0].numeric[2]' },
  { name: 'more than two comparisons', pattern: num(['>', 0, '<', 5, '<', 6]), path: '$.detail.size[0].numeric' },
  { name: 'event-ruler: upper bound before lower bound', pattern: num(['<', 10, '>', 0]), path: '$.detail.size[0].numeric' },
  { name: 'operand beyond +5.0e9', pattern: num(['>', 6e9]), path: '$.detail.size[0].numeric[1]' },
  { name: 'operand with more than six decimals', pattern: num(['<', 0.1234567]), path: '$.detail.size[0].numeric[1]' },
  { name: 'range upper operand missing', pattern: num(['>', 0, '<']), path: '$.detail.size[0].numeric' },
];

// anything-but ("Anything-but matching": strings or numbers, lists of only strings or only numbers, and the
// prefix/suffix/equals-ignore-case/wildcard forms; other rules from event-ruler JsonRuleCompiler).
const anythingBut: InvalidCase[] = [
  { name: 'nested anything-but', pattern: ab({ 'anything-but': 'x' }), path: '$.x[0].anything-but.anything-but' },
  { name: 'empty anything-but list', pattern: ab([]), path: '$.x[0].anything-but' },
  { name: 'mixed strings and numbers', pattern: ab(['a', 1]), path: '$.x[0].anything-but' },
  { name: 'null inside the list', pattern: ab(['a', null]), path: '$.x[0].anything-but[1]' },
  { name: 'boolean operand', pattern: ab(true), path: '$.x[0].anything-but' },
  { name: 'null operand', pattern: ab(null), path: '$.x[0].anything-but' },
  { name: 'event-ruler: empty prefix', pattern: ab({ prefix: '' }), path: '$.x[0].anything-but.prefix' },
  { name: 'event-ruler: empty suffix in a list', pattern: ab({ suffix: ['a', ''] }), path: '$.x[0].anything-but.suffix[1]' },
  { name: 'prefix list with a number', pattern: ab({ prefix: [1] }), path: '$.x[0].anything-but.prefix[0]' },
  { name: 'two keys in the anything-but object', pattern: ab({ prefix: 'a', suffix: 'b' }), path: '$.x[0].anything-but' },
  { name: 'unsupported anything-but numeric', pattern: ab({ numeric: ['>', 1] }), path: '$.x[0].anything-but.numeric' },
  { name: 'empty equals-ignore-case list', pattern: ab({ 'equals-ignore-case': [] }), path: '$.x[0].anything-but.equals-ignore-case' },
  { name: 'anything-but wildcard with consecutive **', pattern: ab({ wildcard: 'a**' }), path: '$.x[0].anything-but.wildcard' },
  { name: 'anything-but number out of range', pattern: ab(1e10), path: '$.x[0].anything-but' },
];

// wildcard ("Wildcard matching": consecutive wildcard characters are not allowed; escaping per event-ruler
// WildcardParser: a backslash may only escape "*" or "\").
const wildcard: InvalidCase[] = [
  { name: 'consecutive wildcards', pattern: { f: [{ wildcard: 'dir/**.png' }] }, path: '$.f[0].wildcard' },
  { name: 'event-ruler: backslash escaping an ordinary character', pattern: { f: [{ wildcard: 'a\\b*' }] }, path: '$.f[0].wildcard' },
  { name: 'event-ruler: trailing backslash', pattern: { f: [{ wildcard: 'a*\\' }] }, path: '$.f[0].wildcard' },
  { name: 'wildcard operand is a number', pattern: { f: [{ wildcard: 5 }] }, path: '$.f[0].wildcard' },
];

// cidr ("IP address matching"; notation checks from event-ruler CIDR.cidr()).
const cidr: InvalidCase[] = [
  { name: 'missing prefix length', pattern: { ip: [{ cidr: '10.0.0.0' }] }, path: '$.ip[0].cidr' },
  { name: 'IPv4 prefix length 33', pattern: { ip: [{ cidr: '10.0.0.0/33' }] }, path: '$.ip[0].cidr' },
  { name: 'event-ruler: IPv4 prefix length 32 (mask bits must be < 32)', pattern: { ip: [{ cidr: '10.0.0.1/32' }] }, path: '$.ip[0].cidr' },
  { name: 'octet above 255', pattern: { ip: [{ cidr: '300.0.0.0/8' }] }, path: '$.ip[0].cidr' },
  { name: 'non-numeric prefix length', pattern: { ip: [{ cidr: '10.0.0.0/abc' }] }, path: '$.ip[0].cidr' },
  { name: 'negative prefix length', pattern: { ip: [{ cidr: '10.0.0.0/-1' }] }, path: '$.ip[0].cidr' },
  { name: 'two slashes', pattern: { ip: [{ cidr: '10.0.0.0/8/8' }] }, path: '$.ip[0].cidr' },
  { name: 'IPv6 prefix length 129', pattern: { ip: [{ cidr: '2001:db8::/129' }] }, path: '$.ip[0].cidr' },
  { name: 'IPv6 with two "::"', pattern: { ip: [{ cidr: '2001::db8::/64' }] }, path: '$.ip[0].cidr' },
  { name: 'hostname instead of an address', pattern: { ip: [{ cidr: 'example.com/24' }] }, path: '$.ip[0].cidr' },
  { name: 'cidr operand is a number', pattern: { ip: [{ cidr: 10 }] }, path: '$.ip[0].cidr' },
];

// $or ("Complex example with $or matching": at least two objects; at most 1000 rule combinations, computed by
// multiplying the argument counts of the $or arrays; reserved names per event-ruler JsonRuleCompiler).
const or: InvalidCase[] = [
  { name: '$or is an object', pattern: { $or: { a: ['b'] } }, path: '$.$or' },
  { name: '$or with a single object', pattern: { $or: [{ a: ['b'] }] }, path: '$.$or' },
  { name: '$or with a non-object entry', pattern: { $or: [{ a: ['b'] }, 'c'] }, path: '$.$or[1]' },
  { name: '$or with an empty object', pattern: { $or: [{ a: ['b'] }, {}] }, path: '$.$or[1]' },
  { name: 'event-ruler: reserved operator name as a field inside $or', pattern: { $or: [{ prefix: ['a'] }, { b: ['c'] }] }, path: '$.$or[0].prefix' },
  { name: 'event-ruler: reserved name nested inside an $or branch', pattern: { detail: { $or: [{ a: { numeric: [1] } }, { b: ['c'] }] } }, path: '$.detail.$or[0].a.numeric' },
  { name: 'single $or with 1001 arguments', pattern: orOf(1001, 'a'), path: '$.$or' },
  {
    name: 'sibling $or arrays multiply past 1000 (10 x 10 x 11)',
    pattern: { a: orOf(10, 'x'), b: orOf(10, 'y'), c: orOf(11, 'z') },
    path: '$.c',
  },
  {
    name: 'nested $or expansion past 1000',
    pattern: { $or: [{ k: ['v'], $or: orOf(501, 'p').$or }, { k: ['w'], $or: orOf(500, 'q').$or }] },
    path: '$.$or',
  },
];

const groups: Array<[string, InvalidCase[]]> = [
  ['pattern shape', shape],
  ['operator objects', operators],
  ['numeric', numeric],
  ['anything-but', anythingBut],
  ['wildcard', wildcard],
  ['cidr', cidr],
  ['$or', or],
];

const allInvalid = groups.flatMap(([, cases]) => cases);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('invalid event patterns', () => {
  it('has at least 25 invalid-pattern cases', () => {
    expect(allInvalid.length).toBeGreaterThanOrEqual(25);
  });

  for (const [group, cases] of groups) {
    describe(group, () => {
      it.each(cases)('$name -> $path', ({ pattern, path }) => {
        const err = thrown(() => validatePattern(pattern));
        expect(err).toBeInstanceOf(InvalidPatternError);
        expect((err as InvalidPatternError).path).toBe(path);
        // One line naming the path.
        expect((err as InvalidPatternError).message).toContain(path);
        expect((err as InvalidPatternError).message).not.toContain('\n');
        expect(() => compilePattern(pattern)).toThrow(InvalidPatternError);
      });
    });
  }
});

describe('valid edge patterns are accepted', () => {
  const valid: Array<{ name: string; pattern: unknown; combinations: number }> = [
    { name: 'three sibling $or arrays of 10 make exactly 1000 combinations', pattern: { a: orOf(10, 'x'), b: orOf(10, 'y'), c: orOf(10, 'z') }, combinations: 1000 },
    { name: 'doc: one $or with three arguments', pattern: { detail: { $or: [{ a: [1] }, { b: [2] }, { c: [3] }] } }, combinations: 3 },
    { name: 'doc: adding a second $or with two arguments gives six', pattern: { detail: { $or: [{ a: [1] }, { b: [2] }, { c: [3] }] }, $or: [{ d: [1] }, { e: [2] }] }, combinations: 6 },
    { name: 'nested $or counts its expanded branches', pattern: { $or: [{ a: [1] }, { b: [2], $or: [{ c: [3] }, { d: [4] }] }] }, combinations: 3 },
    { name: 'reserved names are ordinary fields outside $or', pattern: { detail: { prefix: ['x'], numeric: [1] } }, combinations: 1 },
    { name: 'anything-but prefix list', pattern: { s: [{ 'anything-but': { prefix: ['a', 'b'] } }] }, combinations: 1 },
    { name: 'IPv4 /31 and IPv6 /127', pattern: { ip: [{ cidr: '10.0.0.0/31' }, { cidr: '2001:db8::/127' }] }, combinations: 1 },
    { name: 'escaped wildcard characters', pattern: { f: [{ wildcard: '\\**\\\\' }] }, combinations: 1 },
    { name: 'numeric operands at the documented limits', pattern: { n: [{ numeric: ['>=', -5e9, '<=', 5e9] }, { numeric: ['=', 0.000001] }] }, combinations: 1 },
    { name: 'number literals outside the numeric range are exact matches', pattern: { account: [123456789012] }, combinations: 1 },
  ];
  it.each(valid)('$name', ({ pattern, combinations }) => {
    expect(() => validatePattern(pattern)).not.toThrow();
    expect(compilePattern(pattern).combinations).toBe(combinations);
  });
});
