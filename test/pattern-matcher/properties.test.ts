/** Property tests (fast-check) for lib/domain/pattern-matcher. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidPatternError, compilePattern, validatePattern } from '../../lib/domain/pattern-matcher';

type Leaf = string | number | boolean | null;
type Tree = { [key: string]: Leaf | Leaf[] | Tree };

const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '$or' && k !== '__proto__');
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
// Events without arrays of objects, so that a pattern built from all leaves is array-consistent.
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.dictionary(key, fc.oneof({ maxDepth: 3 }, leaf, fc.array(leaf, { maxLength: 3 }), tie('tree')), { maxKeys: 4 }),
}));

/** A pattern listing every leaf value of `event` at its own path; undefined if the event has no leaves. */
function patternFrom(event: Tree): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) {
    if (Array.isArray(v)) {
      if (v.length > 0) out[k] = [...v];
    } else if (v !== null && typeof v === 'object') {
      const sub = patternFrom(v);
      if (sub !== undefined) out[k] = sub;
    } else {
      out[k] = [v];
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const escapeWildcard = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\*/g, '\\*');
const comparable = fc.integer({ min: -5_000_000_000, max: 5_000_000_000 }).map((n) => n / 1000);

describe('pattern-matcher properties', () => {
  it('a pattern built from an event’s own leaf values always matches it', () => {
    fc.assert(
      fc.property(tree, (event) => {
        const pattern = patternFrom(event);
        fc.pre(pattern !== undefined);
        const compiled = compilePattern(pattern);
        expect(compiled.matches(event)).toBe(true);
        expect(compiled.explain(event)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('anything-but of a value never matches that value, and matches any other value of the same type', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), comparable), fc.oneof(fc.string(), comparable), (v, w) => {
        const compiled = compilePattern({ f: [{ 'anything-but': v }] });
        expect(compiled.matches({ f: v })).toBe(false);
        expect(compiled.matches({ f: w })).toBe(w !== v);
      }),
    );
  });

  it('strings and numbers never match each other', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(compilePattern({ f: [String(n)] }).matches({ f: n })).toBe(false);
        expect(compilePattern({ f: [n] }).matches({ f: String(n) })).toBe(false);
      }),
    );
  });

  it('prefix and suffix match concatenations', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (s, t) => {
        expect(compilePattern({ f: [{ prefix: s }] }).matches({ f: s + t })).toBe(true);
        expect(compilePattern({ f: [{ suffix: t }] }).matches({ f: s + t })).toBe(true);
      }),
    );
  });

  it('an escaped wildcard "*s*" matches exactly the strings containing s', () => {
    fc.assert(
      // s is non-empty: "**" (consecutive wildcards) is rejected by validation.
      fc.property(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (s, t, u) => {
        const compiled = compilePattern({ f: [{ wildcard: `*${escapeWildcard(s)}*` }] });
        expect(compiled.matches({ f: t + s + u })).toBe(true);
        expect(compiled.matches({ f: t })).toBe(t.includes(s));
      }),
    );
  });

  it('numeric [">=", a, "<", b] agrees with arithmetic', () => {
    fc.assert(
      fc.property(comparable, comparable, comparable, (a, b, x) => {
        fc.pre(a < b);
        expect(compilePattern({ n: [{ numeric: ['>=', a, '<', b] }] }).matches({ n: x })).toBe(a <= x && x < b);
      }),
    );
  });

  it('explain() is undefined exactly when matches() is true', () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        const pattern = patternFrom(a);
        fc.pre(pattern !== undefined);
        const compiled = compilePattern(pattern);
        expect(compiled.explain(b) === undefined).toBe(compiled.matches(b));
      }),
      { numRuns: 300 },
    );
  });

  it('validatePattern either accepts a JSON value or throws InvalidPatternError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        try {
          validatePattern(value);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidPatternError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
