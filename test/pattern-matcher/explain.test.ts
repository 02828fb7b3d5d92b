/**
 * explain(): the first condition that failed, in evaluation order (shallow literal conditions first; see
 * evaluationOrder() in lib/domain/pattern-matcher.ts), and a one-line reason, for the route-debugging CLI.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, type MatchFailure } from '../../lib/domain/pattern-matcher';
import { EC2_EVENT } from './fixtures';

interface ExplainCase {
  name: string;
  pattern: unknown;
  event: unknown;
  expected: MatchFailure | undefined;
}

const cases: ExplainCase[] = [
  {
    name: 'value not in the list',
    pattern: { detail: { extension: ['pdf', 'docx'] } },
    event: { detail: { extension: 'png' } },
    expected: { path: 'detail.extension', reason: 'value "png" matches none of ["pdf","docx"]' },
  },
  {
    name: 'missing field',
    pattern: { detail: { extension: ['pdf', 'docx'] } },
    event: { detail: { name: 'a.pdf' } },
    expected: { path: 'detail.extension', reason: 'field is missing' },
  },
  {
    name: 'missing parent object',
    pattern: { detail: { extension: ['pdf'] } },
    event: { source: 'x' },
    expected: { path: 'detail.extension', reason: 'field is missing' },
  },
  {
    name: 'object where a leaf is expected',
    pattern: { detail: ['x'] },
    event: { detail: { a: 1 } },
    expected: { path: 'detail', reason: 'field is not a leaf value (it is an object); patterns match only leaf values' },
  },
  {
    name: 'exists:false on a present field',
    pattern: { detail: { error: [{ exists: false }] } },
    event: { detail: { error: 'boom' } },
    expected: { path: 'detail.error', reason: 'field exists (value "boom") but the pattern requires it to be absent' },
  },
  {
    name: 'operator list is shown as JSON',
    pattern: { detail: { size: [{ numeric: ['>', 0] }] } },
    event: { detail: { size: 0 } },
    expected: { path: 'detail.size', reason: 'value 0 matches none of [{"numeric":[">",0]}]' },
  },
  {
    name: 'array values are listed',
    pattern: { resources: ['arn:a'] },
    event: { resources: ['arn:b', 'arn:c'] },
    expected: { path: 'resources', reason: 'values ["arn:b","arn:c"] match none of ["arn:a"]' },
  },
  {
    name: 'shallow literal conditions are checked first',
    pattern: { source: ['aws.s3'], detail: { state: ['running'] } },
    event: EC2_EVENT,
    expected: { path: 'source', reason: 'value "aws.ec2" matches none of ["aws.s3"]' },
  },
  {
    name: 'passing conditions are skipped',
    pattern: { source: ['aws.ec2'], detail: { state: ['running'] } },
    event: EC2_EVENT,
    expected: { path: 'detail.state', reason: 'value "terminated" matches none of ["running"]' },
  },
  {
    name: '$or reports the branch that got furthest',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPU'] }, { metricType: ['T'], namespace: ['NS'] }] },
    event: { source: 'aws.cloudwatch', metricType: 'T', namespace: 'X' },
    expected: { path: 'namespace', reason: 'value "X" matches none of ["NS"]' },
  },
  {
    name: 'array consistency: value only in another element',
    pattern: { a: { c: [2], d: ['x'] } },
    event: { a: [{ c: 2 }, { d: 'x' }] },
    expected: {
      path: 'a.d',
      reason: 'no value in the same array element as the other matched fields (other elements have ["x"], pattern ["x"])',
    },
  },
  {
    name: 'non-object event',
    pattern: { source: ['a'] },
    event: ['a'],
    expected: { path: '$', reason: 'event must be a JSON object, got ["a"]' },
  },
  {
    name: 'matching event',
    pattern: { source: ['aws.ec2'] },
    event: EC2_EVENT,
    expected: undefined,
  },
];

describe('explain()', () => {
  it.each(cases)('$name', ({ pattern, event, expected }) => {
    const compiled = compilePattern(pattern);
    expect(compiled.explain(event)).toEqual(expected);
    expect(compiled.matches(event)).toBe(expected === undefined);
  });
});
