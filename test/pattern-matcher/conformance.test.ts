/**
 * Conformance suite for lib/domain/pattern-matcher: (pattern, event, expected) tables built from the examples in
 * the Amazon EventBridge User Guide. Each group cites the page it comes from. Cases marked
 * "event-ruler:" cover behaviour the docs leave open and follow AWS's reference implementation,
 * aws/event-ruler (Java), file named in the comment.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, matchesPattern } from '../../lib/domain/pattern-matcher';
import {
  AUTOSCALING_EVENT,
  EC2_EVENT,
  FILTER_EVENT,
  MACIE_EVENT,
  filterEventWith,
  one,
  type MatchCase,
} from './fixtures';

const EC2_TERMINATION = {
  source: ['aws.ec2'],
  'detail-type': ['EC2 Instance State-change Notification'],
  detail: { state: ['terminated'] },
};

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
// ("Creating event patterns": field matching, match values, value matching, considerations)
const creatingEventPatterns: MatchCase[] = [
  { name: 'EC2 termination pattern matches the sample event', pattern: EC2_TERMINATION, event: EC2_EVENT, expected: true },
  {
    name: 'state "running" does not match ["terminated"]',
    pattern: EC2_TERMINATION,
    event: { ...EC2_EVENT, detail: { ...EC2_EVENT.detail, state: 'running' } },
    expected: false,
  },
  { name: 'source list matches aws.fargate', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: { ...EC2_EVENT, source: 'aws.fargate' }, expected: true },
  { name: 'source list matches aws.ec2', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: EC2_EVENT, expected: true },
  { name: 'source list does not match aws.s3', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: { ...EC2_EVENT, source: 'aws.s3' }, expected: false },
  { name: 'fields not in the pattern are ignored', pattern: { 'detail-type': ['EC2 Instance State-change Notification'] }, event: EC2_EVENT, expected: true },
  { name: 'event must contain every field named in the pattern', pattern: { ...EC2_TERMINATION, detail: { state: ['terminated'], reason: ['user'] } }, event: EC2_EVENT, expected: false },
  { name: 'field names must appear with the same nesting (top-level "state" is not detail.state)', pattern: { state: ['terminated'] }, event: EC2_EVENT, expected: false },
  { name: 'string matching is case-sensitive', pattern: { detail: { state: ['Terminated'] } }, event: EC2_EVENT, expected: false },
  { name: 'string matching does no normalization (trailing space)', pattern: { detail: { state: ['terminated '] } }, event: EC2_EVENT, expected: false },
  { name: 'fields are ANDed: one mismatching field fails the pattern', pattern: { source: ['aws.ec2'], 'detail-type': ['Other'] }, event: EC2_EVENT, expected: false },
  { name: 'values in one list are ORed', pattern: { detail: { state: ['pending', 'terminated'] } }, event: EC2_EVENT, expected: true },
  {
    name: 'Macie: risk-score 80 and trigger.risk 8',
    pattern: { source: ['aws.macie'], 'detail-type': ['Macie Alert'], detail: { 'risk-score': [80], trigger: { risk: [8] } } },
    event: MACIE_EVENT,
    expected: true,
  },
  { name: 'Macie: risk-score 81 does not match 80', pattern: { detail: { 'risk-score': [81] } }, event: MACIE_EVENT, expected: false },
  { name: 'Macie: string "8" never matches number 8', pattern: { detail: { trigger: { risk: ['8'] } } }, event: MACIE_EVENT, expected: false },
  { name: 'number pattern 5 does not match string "5"', pattern: one('n', [5]), event: one('n', '5'), expected: false },
  { name: 'string pattern "5" does not match number 5', pattern: one('n', ['5']), event: one('n', 5), expected: false },
  { name: 'true matches true', pattern: one('b', [true]), event: one('b', true), expected: true },
  { name: 'false matches false', pattern: one('b', [false]), event: one('b', false), expected: true },
  { name: 'true does not match false', pattern: one('b', [true]), event: one('b', false), expected: false },
  { name: 'string "true" does not match boolean true', pattern: one('b', ['true']), event: one('b', true), expected: false },
  // The docs say 300, 300.0 and 3.0e2 are distinct *texts*; we receive parsed JSON, where they are the
  // same number (event-ruler's JsonRuleCompiler also adds a numeric-equality matcher for number literals).
  { name: 'number literal matches the equal parsed number (3.0e2 == 300)', pattern: one('n', [300]), event: JSON.parse('{"n": 3.0e2}'), expected: true },
  { name: 'a leaf pattern does not match an object value', pattern: { detail: ['terminated'] }, event: EC2_EVENT, expected: false },
  { name: 'a nested pattern does not match a string value', pattern: { source: { name: ['aws.ec2'] } }, event: EC2_EVENT, expected: false },
  { name: 'deeply nested fields match', pattern: { a: { b: { c: { d: ['x'] } } } }, event: { a: { b: { c: { d: 'x' } } } }, expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
// ("Matching null values and empty strings")
const nullAndEmpty: MatchCase[] = [
  { name: 'empty string matches eventVersion ""', pattern: { detail: { eventVersion: [''] } }, event: AUTOSCALING_EVENT, expected: true },
  { name: 'null matches responseElements null', pattern: { detail: { responseElements: [null] } }, event: AUTOSCALING_EVENT, expected: true },
  {
    name: 'doc field-matching example with source, detail-type and null',
    pattern: { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance Launch Successful'], detail: { responseElements: [null] } },
    event: AUTOSCALING_EVENT,
    expected: true,
  },
  { name: 'null does not match an empty string', pattern: { detail: { eventVersion: [null] } }, event: AUTOSCALING_EVENT, expected: false },
  { name: 'empty string does not match null', pattern: { detail: { responseElements: [''] } }, event: AUTOSCALING_EVENT, expected: false },
  { name: 'empty string does not match a missing field', pattern: { detail: { missing: [''] } }, event: AUTOSCALING_EVENT, expected: false },
  { name: 'null does not match a missing field', pattern: { detail: { missing: [null] } }, event: AUTOSCALING_EVENT, expected: false },
  { name: 'empty string does not match a space', pattern: one('s', ['']), event: one('s', ' '), expected: false },
  { name: 'null inside an event array matches [null]', pattern: one('a', [null]), event: one('a', ['x', null]), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
// ("Arrays in Amazon EventBridge event patterns"); object-array cases follow the event-ruler README
// ("JSON Array Matching") and StructuredFinder/ArrayMembership (array-consistent matching).
const EMPLOYEES = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};
const EMPLOYEES_NESTED = {
  employees: [
    [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
    [{ firstName: 'Peter', lastName: 'Jones' }],
  ],
};
const arrays: MatchCase[] = [
  {
    name: 'doc example: pattern resources intersect event resources',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    event: {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    expected: true,
  },
  {
    name: 'empty intersection does not match',
    pattern: { resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] },
    event: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    expected: false,
  },
  { name: 'event array with a single pattern value', pattern: { detail: { tags: ['Insider'] } }, event: MACIE_EVENT, expected: true },
  { name: 'event array of numbers', pattern: one('n', [2]), event: one('n', [1, 2, 3]), expected: true },
  { name: 'empty event array has no values', pattern: { resources: ['x'] }, event: AUTOSCALING_EVENT, expected: false },
  { name: 'event-ruler: nested scalar arrays are flattened', pattern: one('a', ['b']), event: one('a', [['a'], ['b']]), expected: true },
  { name: 'mixed-type event array', pattern: one('a', [5]), event: one('a', ['5', 5, null]), expected: true },
  { name: 'event-ruler: object array, one field', pattern: { employees: { firstName: ['Anna'] } }, event: EMPLOYEES, expected: true },
  { name: 'event-ruler: object array, both fields from the same element', pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event: EMPLOYEES, expected: true },
  { name: 'event-ruler: object array, fields from different elements do not match', pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event: EMPLOYEES, expected: false },
  { name: 'event-ruler: multi-level arrays are crushed', pattern: { employees: { firstName: ['Peter'] } }, event: EMPLOYEES_NESTED, expected: true },
  { name: 'event-ruler: multi-level arrays keep element consistency', pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event: EMPLOYEES_NESTED, expected: false },
  { name: 'event-ruler: field absent from every element', pattern: { employees: { middleName: ['X'] } }, event: EMPLOYEES, expected: false },
  {
    name: 'event-ruler: sibling arrays are independent',
    pattern: { a: { x: [1] }, b: { y: [2] } },
    event: { a: [{ x: 0 }, { x: 1 }], b: [{ y: 2 }, { y: 3 }] },
    expected: true,
  },
  {
    name: 'event-ruler: consistency spans nested objects inside the same element',
    pattern: { a: { b: { x: [1] }, c: { y: [2] } } },
    event: { a: [{ b: { x: 1 }, c: { y: 3 } }, { b: { x: 4 }, c: { y: 2 } }] },
    expected: false,
  },
  { name: 'objects inside an array are not leaf values', pattern: one('a', [1]), event: one('a', [{ b: 1 }]), expected: false },
  { name: 'array mixing scalars and objects: scalar matches', pattern: one('a', [1]), event: one('a', [1, { b: 2 }]), expected: true },
  { name: 'array mixing scalars and objects: object field matches', pattern: { a: { b: [2] } }, event: one('a', [1, { b: 2 }]), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// ("Comparison operators ... in Amazon EventBridge": prefix matching, prefix matching while ignoring case)
const prefix: MatchCase[] = [
  { name: 'time prefix 2017-10-02', pattern: { time: [{ prefix: '2017-10-02' }] }, event: { time: '2017-10-02T18:43:48Z' }, expected: true },
  { name: 'time prefix does not match another day', pattern: { time: [{ prefix: '2017-10-02' }] }, event: { time: '2017-10-03T18:43:48Z' }, expected: false },
  { name: 'Auto Scaling events from European regions', pattern: { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] }, event: { ...AUTOSCALING_EVENT, region: 'eu-west-1' }, expected: true },
  { name: 'eu- prefix does not match us-east-1', pattern: { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] }, event: AUTOSCALING_EVENT, expected: false },
  { name: 'Region is in the US ("us-")', pattern: { Region: [{ prefix: 'us-' }] }, event: { Region: 'us-gov-west-1' }, expected: true },
  { name: 'prefix is case-sensitive', pattern: { Region: [{ prefix: 'US-' }] }, event: { Region: 'us-east-1' }, expected: false },
  { name: 'prefix matching works on strings only', pattern: one('n', [{ prefix: '20' }]), event: one('n', 2017), expected: false },
  { name: 'event-ruler: empty prefix matches any string', pattern: one('s', [{ prefix: '' }]), event: one('s', 'anything'), expected: true },
  { name: 'prefix against an event array', pattern: one('r', [{ prefix: 'eu-' }]), event: one('r', ['us-east-1', 'eu-west-1']), expected: true },
  { name: 'prefix equals the whole value', pattern: one('s', [{ prefix: 'abc' }]), event: one('s', 'abc'), expected: true },
  { name: 'prefix ignore case: EventBridge', pattern: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, event: { service: 'EventBridge' }, expected: true },
  { name: 'prefix ignore case: EVENTBRIDGE', pattern: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, event: { service: 'EVENTBRIDGE' }, expected: true },
  { name: 'prefix ignore case: eventbus', pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, event: { service: 'eventbus' }, expected: true },
  { name: 'prefix ignore case does not match in the middle', pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, event: { service: 'Amazon EventBridge' }, expected: false },
  { name: 'prefix ignore case works on strings only', pattern: one('n', [{ prefix: { 'equals-ignore-case': '1' } }]), event: one('n', 12), expected: false },
  // event-ruler: input/EqualsIgnoreCaseParser.java (the event must spell each pattern unit's lower or upper case)
  { name: 'event-ruler: prefix ignore case ﬁ matches FILE.txt (upper case of ﬁ is FI)', pattern: one('s', [{ prefix: { 'equals-ignore-case': 'ﬁ' } }]), event: one('s', 'FILE.txt'), expected: true },
  { name: 'event-ruler: prefix ignore case k does not match the Kelvin sign (U+212A)', pattern: one('s', [{ prefix: { 'equals-ignore-case': 'k' } }]), event: one('s', '\u212Aelvin'), expected: false },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (suffix matching, suffix matching while ignoring case)
const suffix: MatchCase[] = [
  { name: 'FileName ends with .png', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.png' }, expected: true },
  { name: '.png suffix does not match .jpg', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.jpg' }, expected: false },
  { name: 'suffix is case-sensitive', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.PNG' }, expected: false },
  { name: 'suffix must be at the end', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'image.png.bak' }, expected: false },
  { name: 'suffix ignore case: .PNG', pattern: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, event: { FileName: 'image.PNG' }, expected: true },
  { name: 'suffix ignore case: service ends with tbridge', pattern: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] }, event: { service: 'EVENTBRIDGE' }, expected: true },
  { name: 'suffix ignore case still needs the suffix', pattern: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] }, event: { service: 'EventBus' }, expected: false },
  // event-ruler: input/SuffixEqualsIgnoreCaseParser.java (EqualsIgnoreCaseParser's alternatives, matched from the end)
  { name: 'event-ruler: suffix ignore case ße matches STRASSE (upper case of ß is SS)', pattern: one('s', [{ suffix: { 'equals-ignore-case': 'ße' } }]), event: one('s', 'STRASSE'), expected: true },
  { name: 'event-ruler: suffix ignore case .\u212A (Kelvin sign) does not match .K', pattern: one('s', [{ suffix: { 'equals-ignore-case': '.\u212A' } }]), event: one('s', 'file.K'), expected: false },
  { name: 'suffix does not match null', pattern: one('s', [{ suffix: 'll' }]), event: one('s', null), expected: false },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (equals-ignore-case matching)
const equalsIgnoreCase: MatchCase[] = [
  { name: 'Name is "Alice" (alice)', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alice' }, expected: true },
  { name: 'Name is "Alice" (ALICE)', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'ALICE' }, expected: true },
  { name: 'equals-ignore-case is not a prefix match', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alicia' }, expected: false },
  { name: 'equals-ignore-case works on strings only', pattern: one('n', [{ 'equals-ignore-case': '5' }]), event: one('n', 5), expected: false },
  { name: 'several equals-ignore-case values are ORed', pattern: one('n', [{ 'equals-ignore-case': 'alice' }, { 'equals-ignore-case': 'bob' }]), event: one('n', 'BOB'), expected: true },
  { name: 'plain equals stays case-sensitive next to it', pattern: one('n', ['Alice', { prefix: 'zz' }]), event: one('n', 'alice'), expected: false },
  // event-ruler: input/EqualsIgnoreCaseParser.java (the event must spell each pattern unit's lower or upper case)
  { name: 'event-ruler: ﬁle matches FILE (upper case of ﬁ is FI)', pattern: one('s', [{ 'equals-ignore-case': 'ﬁle' }]), event: one('s', 'FILE'), expected: true },
  { name: 'event-ruler: ß matches SS', pattern: one('s', [{ 'equals-ignore-case': 'ß' }]), event: one('s', 'SS'), expected: true },
  { name: 'event-ruler: the Kelvin sign (U+212A) matches k', pattern: one('s', [{ 'equals-ignore-case': '\u212A' }]), event: one('s', 'k'), expected: true },
  { name: 'event-ruler: the Kelvin sign (U+212A) does not match K', pattern: one('s', [{ 'equals-ignore-case': '\u212A' }]), event: one('s', 'K'), expected: false },
  { name: 'event-ruler: k does not match the Kelvin sign (U+212A)', pattern: one('s', [{ 'equals-ignore-case': 'k' }]), event: one('s', '\u212A'), expected: false },
  { name: 'event-ruler: İ (U+0130) does not match I + combining dot', pattern: one('s', [{ 'equals-ignore-case': '\u0130' }]), event: one('s', 'I\u0307'), expected: false },
  { name: 'event-ruler: i + combining dot does not match İ (U+0130)', pattern: one('s', [{ 'equals-ignore-case': 'i\u0307' }]), event: one('s', '\u0130'), expected: false },
  { name: 'event-ruler: title case ǅ (U+01C5) does not match itself', pattern: one('s', [{ 'equals-ignore-case': '\u01C5' }]), event: one('s', '\u01C5'), expected: false },
  { name: 'event-ruler: a character outside the BMP does not match itself', pattern: one('s', [{ 'equals-ignore-case': 'a\u{1F600}' }]), event: one('s', 'a\u{1F600}'), expected: false },
  { name: 'event-ruler: a character outside the BMP stands for "??" (Java encodes each surrogate as ?)', pattern: one('s', [{ 'equals-ignore-case': 'a\u{1F600}' }]), event: one('s', 'A??'), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (anything-but matching and its prefix / suffix / ignore-case / wildcard variants)
const anythingBut: MatchCase[] = [
  { name: 'state anything-but initializing: running', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: FILTER_EVENT, expected: true },
  { name: 'state anything-but initializing: initializing', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: filterEventWith({ state: 'initializing' }), expected: false },
  { name: 'anything-but needs the field to exist', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: filterEventWith({ state: undefined }), expected: false },
  { name: 'x-limit anything-but 123: 301.8', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: FILTER_EVENT, expected: true },
  { name: 'x-limit anything-but 123: 123', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: filterEventWith({ 'x-limit': 123 }), expected: false },
  { name: 'anything-but string list: running', pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event: FILTER_EVENT, expected: true },
  { name: 'anything-but string list: overloaded', pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event: filterEventWith({ state: 'overloaded' }), expected: false },
  { name: 'anything-but number list: 301.8', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: FILTER_EVENT, expected: true },
  { name: 'anything-but number list: 200', pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event: filterEventWith({ 'x-limit': 200 }), expected: false },
  { name: 'anything-but prefix init: initializing', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: filterEventWith({ state: 'initializing' }), expected: false },
  { name: 'anything-but prefix init: running', pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event: FILTER_EVENT, expected: true },
  { name: 'Region is not in the US', pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] }, event: { Region: 'eu-west-1' }, expected: true },
  { name: 'event-ruler: anything-but prefix list excludes every prefix', pattern: one('s', [{ 'anything-but': { prefix: ['init', 'error'] } }]), event: one('s', 'error-42'), expected: false },
  { name: 'FileName does not end with .png: a.png', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.png' }, expected: false },
  { name: 'FileName does not end with .png: a.jpg', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.jpg' }, expected: true },
  { name: 'event-ruler: anything-but suffix list', pattern: { id: [{ 'anything-but': { suffix: ['1234', '6789'] } }] }, event: { id: 'i-6789' }, expected: false },
  { name: 'anything-but ignore case: INITIALIZING', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'INITIALIZING' }, expected: false },
  { name: 'anything-but ignore case: running', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'running' }, expected: true },
  { name: 'anything-but ignore case list', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] }, event: { state: 'overloaded' }, expected: false },
  // event-ruler: input/EqualsIgnoreCaseParser.java (the event must spell each pattern unit's lower or upper case)
  { name: 'event-ruler: anything-but ignore case ﬁle excludes FILE', pattern: one('s', [{ 'anything-but': { 'equals-ignore-case': ['ﬁle', 'dir'] } }]), event: one('s', 'FILE'), expected: false },
  { name: 'event-ruler: anything-but ignore case Kelvin sign (U+212A) does not exclude K', pattern: one('s', [{ 'anything-but': { 'equals-ignore-case': '\u212A' } }]), event: one('s', 'K'), expected: true },
  { name: 'FilePath does not include /lib/: /usr/lib/libc.so', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/lib/libc.so' }, expected: false },
  { name: 'FilePath does not include /lib/: /usr/bin/ls', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/bin/ls' }, expected: true },
  { name: 'event-ruler: anything-but wildcard list', pattern: { p: [{ 'anything-but': { wildcard: ['*/bin/*.jar', '*/bin/*.class'] } }] }, event: { p: '/opt/bin/App.class' }, expected: false },
  { name: 'Weather is anything but "Raining"', pattern: { Weather: [{ 'anything-but': ['Raining'] }] }, event: { Weather: 'Sunny' }, expected: true },
  { name: 'anything-but over an event array: one element differs', pattern: one('s', [{ 'anything-but': 'stopped' }]), event: one('s', ['stopped', 'running']), expected: true },
  { name: 'anything-but over an event array: every element excluded', pattern: one('s', [{ 'anything-but': 'stopped' }]), event: one('s', ['stopped']), expected: false },
  { name: 'event-ruler: string anything-but matches a number', pattern: one('s', [{ 'anything-but': 'initializing' }]), event: one('s', 5), expected: true },
  { name: 'event-ruler: string anything-but matches null', pattern: one('s', [{ 'anything-but': 'x' }]), event: one('s', null), expected: true },
  { name: 'event-ruler: number anything-but matches the string "123"', pattern: one('n', [{ 'anything-but': 123 }]), event: one('n', '123'), expected: true },
  { name: 'event-ruler: anything-but prefix matches a number', pattern: one('n', [{ 'anything-but': { prefix: '1' } }]), event: one('n', 12), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (numeric matching: "works with values that are JSON numbers", -5.0e9..+5.0e9, 15 digits / 6 decimals)
const NUMERIC_DOC = {
  detail: {
    'c-count': [{ numeric: ['>', 0, '<=', 5] }],
    'd-count': [{ numeric: ['<', 10] }],
    'x-limit': [{ numeric: ['=', 3.018e2] }],
  },
};
const numeric: MatchCase[] = [
  { name: 'doc numeric example matches the sample event', pattern: NUMERIC_DOC, event: FILTER_EVENT, expected: true },
  { name: 'c-count 0 fails "> 0"', pattern: NUMERIC_DOC, event: filterEventWith({ 'c-count': 0 }), expected: false },
  { name: 'c-count 5 satisfies "<= 5"', pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event: filterEventWith({ 'c-count': 5 }), expected: true },
  { name: 'c-count 5.000001 fails "<= 5"', pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event: filterEventWith({ 'c-count': 5.000001 }), expected: false },
  { name: 'd-count 10 fails "< 10"', pattern: NUMERIC_DOC, event: filterEventWith({ 'd-count': 10 }), expected: false },
  { name: 'd-count 9.999999 satisfies "< 10"', pattern: { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, event: filterEventWith({ 'd-count': 9.999999 }), expected: true },
  { name: 'x-limit 301.80001 fails "= 3.018e2"', pattern: NUMERIC_DOC, event: filterEventWith({ 'x-limit': 301.80001 }), expected: false },
  { name: 'numeric matching only applies to JSON numbers (string "5")', pattern: { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, event: filterEventWith({ 'c-count': '5' }), expected: false },
  { name: 'numeric does not match null', pattern: one('n', [{ numeric: ['>=', 0] }]), event: one('n', null), expected: false },
  { name: 'numeric does not match booleans', pattern: one('n', [{ numeric: ['>=', 0] }]), event: one('n', true), expected: false },
  { name: '">= 0" includes 0', pattern: one('n', [{ numeric: ['>=', 0] }]), event: one('n', 0), expected: true },
  { name: '"> 0" excludes 0', pattern: one('n', [{ numeric: ['>', 0] }]), event: one('n', 0), expected: false },
  { name: '"< 0" matches -1', pattern: one('n', [{ numeric: ['<', 0] }]), event: one('n', -1), expected: true },
  { name: '"< 0" matches -0.000001', pattern: one('n', [{ numeric: ['<', 0] }]), event: one('n', -0.000001), expected: true },
  { name: 'upper range limit 5.0e9 is inclusive', pattern: one('n', [{ numeric: ['<=', 5e9] }]), event: one('n', 5e9), expected: true },
  { name: 'lower range limit -5.0e9 is inclusive', pattern: one('n', [{ numeric: ['>=', -5e9] }]), event: one('n', -5e9), expected: true },
  { name: 'event values beyond +5.0e9 are not numerically comparable', pattern: one('n', [{ numeric: ['>', 0] }]), event: one('n', 5000000001), expected: false },
  { name: 'event values with 7 decimals are not numerically comparable', pattern: one('n', [{ numeric: ['>', 0] }]), event: one('n', 0.0000001), expected: false },
  { name: 'six decimals are supported', pattern: one('n', [{ numeric: ['>', 0] }]), event: one('n', 0.000001), expected: true },
  { name: 'numeric against an event array (any element)', pattern: one('n', [{ numeric: ['<', 5] }]), event: one('n', [20, 1]), expected: true },
  { name: 'Price is 100', pattern: { Price: [{ numeric: ['=', 100] }] }, event: { Price: 100 }, expected: true },
  { name: 'Price is not 100.5', pattern: { Price: [{ numeric: ['=', 100] }] }, event: { Price: 100.5 }, expected: false },
  { name: 'Price > 10 and <= 20: 20', pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] }, event: { Price: 20 }, expected: true },
  { name: 'Price > 10 and <= 20: 10', pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] }, event: { Price: 10 }, expected: false },
  { name: 'Price >= 10 and < 20: 10', pattern: { Price: [{ numeric: ['>=', 10, '<', 20] }] }, event: { Price: 10 }, expected: true },
  { name: 'Price >= 10 and < 20: 20', pattern: { Price: [{ numeric: ['>=', 10, '<', 20] }] }, event: { Price: 20 }, expected: false },
  { name: 'numeric ORed with a literal', pattern: one('n', [{ numeric: ['<', 0] }, 42]), event: one('n', 42), expected: true },
  { name: 'exact number literal with decimals', pattern: one('n', [301.8]), event: one('n', 301.8), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (IP address matching: "IPv4 and IPv6 addresses"); edge behaviour from event-ruler CIDR.java
const cidr: MatchCase[] = [
  { name: '10.0.0.0/24 matches 10.0.0.33', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, event: FILTER_EVENT, expected: true },
  { name: '10.0.0.0/24 matches 10.0.0.255', pattern: one('ip', [{ cidr: '10.0.0.0/24' }]), event: one('ip', '10.0.0.255'), expected: true },
  { name: '10.0.0.0/24 matches 10.0.0.0', pattern: one('ip', [{ cidr: '10.0.0.0/24' }]), event: one('ip', '10.0.0.0'), expected: true },
  { name: '10.0.0.0/24 does not match 10.0.1.0', pattern: one('ip', [{ cidr: '10.0.0.0/24' }]), event: one('ip', '10.0.1.0'), expected: false },
  { name: 'cidr does not match a non-IP string', pattern: one('ip', [{ cidr: '10.0.0.0/24' }]), event: one('ip', '10.0.0'), expected: false },
  { name: 'cidr does not match a number', pattern: one('ip', [{ cidr: '10.0.0.0/8' }]), event: one('ip', 10), expected: false },
  { name: 'IPv6 2001:db8::/32 matches 2001:db8:1234::1', pattern: one('ip', [{ cidr: '2001:db8::/32' }]), event: one('ip', '2001:db8:1234::1'), expected: true },
  { name: 'IPv6 2001:db8::/32 does not match 2001:db9::1', pattern: one('ip', [{ cidr: '2001:db8::/32' }]), event: one('ip', '2001:db9::1'), expected: false },
  { name: 'IPv6 uncompressed form matches', pattern: one('ip', [{ cidr: '2001:db8::/64' }]), event: one('ip', '2001:0db8:0000:0000:0000:0000:0000:0001'), expected: true },
  { name: 'an IPv4 address never matches an IPv6 block', pattern: one('ip', [{ cidr: '::/0' }]), event: one('ip', '10.0.0.1'), expected: false },
  { name: '/0 matches every IPv4 address', pattern: one('ip', [{ cidr: '0.0.0.0/0' }]), event: one('ip', '203.0.113.9'), expected: true },
  { name: 'event-ruler: /31 boundary (in)', pattern: one('ip', [{ cidr: '10.0.0.0/31' }]), event: one('ip', '10.0.0.1'), expected: true },
  { name: 'event-ruler: /31 boundary (out)', pattern: one('ip', [{ cidr: '10.0.0.0/31' }]), event: one('ip', '10.0.0.2'), expected: false },
  { name: 'event-ruler: host bits in the base address are ignored', pattern: one('ip', [{ cidr: '10.0.0.77/24' }]), event: one('ip', '10.0.0.1'), expected: true },
  { name: 'event-ruler: IP literal matches another spelling of the same IPv6 address', pattern: one('ip', ['2001:db8::1']), event: one('ip', '2001:0db8:0:0:0:0:0:1'), expected: true },
  { name: 'IP literal matches itself', pattern: one('ip', ['10.0.0.1']), event: one('ip', '10.0.0.1'), expected: true },
  { name: 'cidr over an event array', pattern: one('ip', [{ cidr: '192.168.0.0/16' }]), event: one('ip', ['10.1.1.1', '192.168.4.4']), expected: true },
  // event-ruler: CIDR.java (Constants.IPv4_REGEX shape, then Java InetAddress: decimal parts, leading zeros allowed)
  { name: 'event-ruler: cidr matches an address with zero-padded parts (10.000.0.1)', pattern: one('ip', [{ cidr: '10.0.0.0/24' }]), event: one('ip', '10.000.0.1'), expected: true },
  { name: 'event-ruler: cidr matches a leading-zero first part (010.0.0.1)', pattern: one('ip', [{ cidr: '10.0.0.0/8' }]), event: one('ip', '010.0.0.1'), expected: true },
  { name: 'event-ruler: a leading zero is decimal, not octal (010.0.0.1 is not in 8.0.0.0/8)', pattern: one('ip', [{ cidr: '8.0.0.0/8' }]), event: one('ip', '010.0.0.1'), expected: false },
  { name: 'event-ruler: a cidr base address may have leading zeros', pattern: one('ip', [{ cidr: '010.000.0.0/8' }]), event: one('ip', '10.1.2.3'), expected: true },
  { name: 'event-ruler: IP literal matches a zero-padded spelling (10.000.0.1)', pattern: one('ip', ['10.0.0.1']), event: one('ip', '10.000.0.1'), expected: true },
  { name: 'event-ruler: zero-padded IP literal matches the plain spelling', pattern: one('ip', ['010.0.0.001']), event: one('ip', '10.0.0.1'), expected: true },
  { name: 'event-ruler: an IPv4 literal longer than 15 characters is not an address', pattern: one('ip', [{ cidr: '10.0.0.0/8' }]), event: one('ip', '0010.000.000.001'), expected: false },
  { name: 'event-ruler: an IPv6 group may have more than four digits if its value fits (00000::1)', pattern: one('ip', [{ cidr: '::/16' }]), event: one('ip', '00000::1'), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (exists matching: "only works on leaf nodes"). Null-as-present and empty-array-as-absent follow
// event-ruler's event flattening (Event.java: every JSON scalar incl. null is a field; [] yields none).
const DOC_EXISTS_EVENT = {
  'detail-type': ['EC2 Instance State-change Notification'],
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
  detail: { state: ['initializing', 'running'] },
};
const C_COUNT_ABSENT = { detail: { 'c-count': [{ exists: false }] } };
const C_COUNT_PRESENT = { detail: { 'c-count': [{ exists: true }] } };
const exists: MatchCase[] = [
  { name: 'doc: c-count exists:false matches an event without c-count', pattern: C_COUNT_ABSENT, event: DOC_EXISTS_EVENT, expected: true },
  {
    name: 'doc: exists:false also matches when c-count is not a leaf node',
    pattern: C_COUNT_ABSENT,
    event: { ...DOC_EXISTS_EVENT, detail: { ...DOC_EXISTS_EVENT.detail, 'c-count': { c1: 100 } } },
    expected: true,
  },
  { name: 'exists:false fails when c-count is present', pattern: C_COUNT_ABSENT, event: FILTER_EVENT, expected: false },
  { name: 'exists:true matches a present number', pattern: C_COUNT_PRESENT, event: FILTER_EVENT, expected: true },
  { name: 'exists:true fails when missing', pattern: C_COUNT_PRESENT, event: DOC_EXISTS_EVENT, expected: false },
  { name: 'exists:true fails on an intermediate (object) node', pattern: C_COUNT_PRESENT, event: { detail: { 'c-count': { c1: 100 } } }, expected: false },
  { name: 'event-ruler: a null value exists', pattern: one('x', [{ exists: true }]), event: one('x', null), expected: true },
  { name: 'event-ruler: exists:false fails on a null value', pattern: one('x', [{ exists: false }]), event: one('x', null), expected: false },
  { name: 'exists:true matches an empty string', pattern: one('x', [{ exists: true }]), event: one('x', ''), expected: true },
  { name: 'event-ruler: an empty array has no leaf value (exists:true fails)', pattern: one('x', [{ exists: true }]), event: one('x', []), expected: false },
  { name: 'event-ruler: an empty array has no leaf value (exists:false matches)', pattern: one('x', [{ exists: false }]), event: one('x', []), expected: true },
  { name: 'exists:true matches a non-empty array', pattern: one('x', [{ exists: true }]), event: one('x', ['a']), expected: true },
  { name: 'exists:false matches when the parent object is missing', pattern: C_COUNT_ABSENT, event: { source: 'x' }, expected: true },
  { name: 'exists:false matches when the parent is a string', pattern: C_COUNT_ABSENT, event: { detail: 'text' }, expected: true },
  { name: 'ProductName exists', pattern: { ProductName: [{ exists: true }] }, event: { ProductName: 'Widget' }, expected: true },
  { name: 'ProductName does not exist', pattern: { ProductName: [{ exists: false }] }, event: { Product: 'Widget' }, expected: true },
  { name: 'exists:false or a value: missing', pattern: one('x', [{ exists: false }, 'a']), event: {}, expected: true },
  { name: 'exists:false or a value: value', pattern: one('x', [{ exists: false }, 'a']), event: one('x', 'a'), expected: true },
  { name: 'exists:false or a value: other value', pattern: one('x', [{ exists: false }, 'a']), event: one('x', 'b'), expected: false },
  {
    name: 'event-ruler: exists:false under an object array is checked over all elements',
    pattern: { a: { b: [{ exists: false }] } },
    event: { a: [{ b: 1 }, { c: 2 }] },
    expected: false,
  },
  { name: 'event-ruler: exists:false under an object array, absent everywhere', pattern: { a: { b: [{ exists: false }] } }, event: { a: [{ c: 1 }, { c: 2 }] }, expected: true },
  {
    name: 'event-ruler: exists:false sorted after a matched field checks the same element',
    pattern: { a: { c: [2], z: [{ exists: false }] } },
    event: { a: [{ c: 1, z: 1 }, { c: 2 }] },
    expected: true,
  },
  { name: 'exists:true under an object array', pattern: { a: { b: [{ exists: true }] } }, event: { a: [{ c: 1 }, { b: 2 }] }, expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (wildcard matching; escaping from the event-ruler README / WildcardParser.java)
const wildcard: MatchCase[] = [
  { name: 'dir/*.png matches dir/image.png', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/image.png' }, expected: true },
  { name: 'wildcard spans path separators', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/a/b/image.png' }, expected: true },
  { name: 'dir/*.png does not match a .jpg', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/image.jpg' }, expected: false },
  { name: 'dir/*.png does not match another folder', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'other/image.png' }, expected: false },
  { name: '* matches zero characters', pattern: one('f', [{ wildcard: '*.png' }]), event: one('f', '.png'), expected: true },
  { name: '*Title* matches a value containing Title', pattern: one('t', [{ wildcard: '*Title*' }]), event: one('t', 'My Title Here'), expected: true },
  {
    name: 'ARN wildcard matches any account and bus',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/default' },
    expected: true,
  },
  {
    name: 'ARN wildcard keeps the literal region',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/default' },
    expected: false,
  },
  { name: 'escaped \\* matches a literal asterisk', pattern: one('s', [{ wildcard: 'a\\*b' }]), event: one('s', 'a*b'), expected: true },
  { name: 'escaped \\* is not a wildcard', pattern: one('s', [{ wildcard: 'a\\*b' }]), event: one('s', 'axb'), expected: false },
  { name: 'escaped \\\\ matches a literal backslash', pattern: one('s', [{ wildcard: 'a\\\\*' }]), event: one('s', 'a\\bc'), expected: true },
  { name: 'wildcard works on strings only', pattern: one('n', [{ wildcard: '1*' }]), event: one('n', 12), expected: false },
  { name: 'wildcard without * is an exact match', pattern: one('s', [{ wildcard: 'exact' }]), event: one('s', 'exactly'), expected: false },
  { name: 'wildcard is case-sensitive', pattern: one('f', [{ wildcard: '*.PNG' }]), event: one('f', 'a.png'), expected: false },
  { name: 'a lone * matches the empty string', pattern: one('s', [{ wildcard: '*' }]), event: one('s', ''), expected: true },
  { name: 'regex metacharacters are literal', pattern: one('s', [{ wildcard: 'a.c*' }]), event: one('s', 'abcd'), expected: false },
  { name: 'regex metacharacters are literal (match)', pattern: one('s', [{ wildcard: 'a.c*' }]), event: one('s', 'a.cd'), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// ("Complex example with $or matching"); further shapes from the event-ruler README ("$or" primitive).
const OR_DOC = {
  detail: {
    $or: [
      { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
      { 'd-count': [{ numeric: ['<', 10] }] },
      { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
    ],
  },
};
const OR_NORMAL = { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] };
const OR_PARALLEL = {
  $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
  detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
};
const OR_WITH_AND = {
  source: ['aws.cloudwatch'],
  $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] }, { scope: ['Service'] }],
};
const OR_NESTED = {
  source: ['aws.cloudwatch'],
  $or: [
    { metricName: ['CPUUtilization', 'ReadLatency'] },
    { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
    { scope: ['Service'] },
  ],
};
const or: MatchCase[] = [
  { name: 'doc $or: x-limit alone satisfies the pattern', pattern: OR_DOC, event: filterEventWith({ 'c-count': 0, 'd-count': 20 }), expected: true },
  { name: 'doc $or: d-count alone satisfies the pattern', pattern: OR_DOC, event: filterEventWith({ 'c-count': 0, 'x-limit': 1 }), expected: true },
  { name: 'doc $or: no branch satisfied', pattern: OR_DOC, event: filterEventWith({ 'c-count': 0, 'd-count': 20, 'x-limit': 1 }), expected: false },
  { name: 'Location is "New York" or Day is "Monday": Day', pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, event: { Location: 'Boston', Day: 'Monday' }, expected: true },
  { name: 'Location is "New York" or Day is "Monday": neither', pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, event: { Location: 'Boston', Day: 'Tuesday' }, expected: false },
  { name: 'source and (metricName or namespace): metricName', pattern: OR_NORMAL, event: { source: 'aws.cloudwatch', metricName: 'CPUUtilization' }, expected: true },
  { name: 'source and (metricName or namespace): namespace', pattern: OR_NORMAL, event: { source: 'aws.cloudwatch', namespace: 'AWS/ES' }, expected: true },
  { name: 'source and (metricName or namespace): wrong source', pattern: OR_NORMAL, event: { source: 'aws.ec2', metricName: 'CPUUtilization' }, expected: false },
  { name: 'source and (metricName or namespace): neither', pattern: OR_NORMAL, event: { source: 'aws.cloudwatch', metricName: 'Other' }, expected: false },
  { name: 'parallel $or: both groups satisfied', pattern: OR_PARALLEL, event: { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } }, expected: true },
  { name: 'parallel $or: second group unsatisfied', pattern: OR_PARALLEL, event: { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } }, expected: false },
  { name: '$or with an AND inside: both fields present', pattern: OR_WITH_AND, event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' }, expected: true },
  { name: '$or with an AND inside: only one field of the AND', pattern: OR_WITH_AND, event: { source: 'aws.cloudwatch', metricType: 'MetricType' }, expected: false },
  { name: 'nested $or: metricId branch', pattern: OR_NESTED, event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', metricId: 1234 }, expected: true },
  { name: 'nested $or: spaceId branch', pattern: OR_NESTED, event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 }, expected: true },
  { name: 'nested $or: inner $or unsatisfied', pattern: OR_NESTED, event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1 }, expected: false },
  { name: 'nested $or: scope branch', pattern: OR_NESTED, event: { source: 'aws.cloudwatch', scope: 'Service' }, expected: true },
  { name: '$or branch with exists:false', pattern: { $or: [{ a: [{ exists: false }] }, { b: ['x'] }] }, event: { a: 1, b: 'y' }, expected: false },
  { name: '$or branch with exists:false (absent)', pattern: { $or: [{ a: [{ exists: false }] }, { b: ['x'] }] }, event: { b: 'y' }, expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// ("Complex example with multiple matching"), plus the cidr line from the event-ruler README version.
const COMPLEX = {
  time: [{ prefix: '2017-10-02' }],
  detail: {
    state: [{ 'anything-but': 'initializing' }],
    'c-count': [{ numeric: ['>', 0, '<=', 5] }],
    'd-count': [{ numeric: ['<', 10] }],
    'x-limit': [{ 'anything-but': [100, 200, 300] }],
    'source-ip': [{ cidr: '10.0.0.0/8' }],
  },
};
const complex: MatchCase[] = [
  { name: 'complex example matches the sample event', pattern: COMPLEX, event: FILTER_EVENT, expected: true },
  { name: 'complex example: state initializing', pattern: COMPLEX, event: filterEventWith({ state: 'initializing' }), expected: false },
  { name: 'complex example: x-limit 200', pattern: COMPLEX, event: filterEventWith({ 'x-limit': 200 }), expected: false },
  { name: 'complex example: different day', pattern: COMPLEX, event: { ...FILTER_EVENT, time: '2017-10-03T00:00:00Z' }, expected: false },
  { name: 'complex example: source-ip outside 10/8', pattern: COMPLEX, event: filterEventWith({ 'source-ip': '11.0.0.1' }), expected: false },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// (the summary table of comparison operators: And, Empty, Equals, Null, Or, mixed operator lists)
const operatorTable: MatchCase[] = [
  { name: 'And: Location is "New York" and Day is "Monday"', pattern: { Location: ['New York'], Day: ['Monday'] }, event: { Location: 'New York', Day: 'Monday' }, expected: true },
  { name: 'And: Day differs', pattern: { Location: ['New York'], Day: ['Monday'] }, event: { Location: 'New York', Day: 'Sunday' }, expected: false },
  { name: 'Empty: LastName is empty', pattern: { LastName: [''] }, event: { LastName: '' }, expected: true },
  { name: 'Empty: LastName is not empty', pattern: { LastName: [''] }, event: { LastName: 'Doe' }, expected: false },
  { name: 'Equals: Name is "Alice"', pattern: { Name: ['Alice'] }, event: { Name: 'Alice' }, expected: true },
  { name: 'Null: UserID is null', pattern: { UserID: [null] }, event: { UserID: null }, expected: true },
  { name: 'Null: UserID is a string', pattern: { UserID: [null] }, event: { UserID: 'u-1' }, expected: false },
  { name: 'Or: PaymentType is "Credit" or "Debit"', pattern: { PaymentType: ['Credit', 'Debit'] }, event: { PaymentType: 'Debit' }, expected: true },
  { name: 'Or: PaymentType is "Cash"', pattern: { PaymentType: ['Credit', 'Debit'] }, event: { PaymentType: 'Cash' }, expected: false },
  { name: 'mixed list: literal or prefix (literal)', pattern: one('s', ['a', { prefix: 'b' }]), event: one('s', 'a'), expected: true },
  { name: 'mixed list: literal or prefix (prefix)', pattern: one('s', ['a', { prefix: 'b' }]), event: one('s', 'bcd'), expected: true },
  { name: 'mixed list: literal or prefix (neither)', pattern: one('s', ['a', { prefix: 'b' }]), event: one('s', 'cab'), expected: false },
  { name: 'mixed list: number, string, null, numeric', pattern: one('v', [1, 'one', null, { numeric: ['>', 100] }]), event: one('v', 101), expected: true },
];

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-patterns-best-practices.html
// ("Best practices ...: make event patterns precise as possible" — metadata (source, detail-type) plus
// event data (detail fields) narrow a rule; a source-only pattern matches every event from the service).
const S3_OBJECT_CREATED = {
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2021-11-12T00:00:00Z',
  region: 'ca-central-1',
  resources: ['arn:aws:s3:::amzn-s3-demo-bucket1'],
  detail: {
    version: '0',
    bucket: { name: 'amzn-s3-demo-bucket1' },
    object: { key: 'uploads/report.pdf', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184' },
    'request-id': 'N4N7GDK58NMKJ12R',
    'source-ip-address': '203.0.113.15',
    reason: 'PutObject',
  },
};
const S3_PUT_BUCKET_ACL = {
  ...S3_OBJECT_CREATED,
  'detail-type': 'AWS API Call via CloudTrail',
  detail: { eventSource: 's3.amazonaws.com', eventName: 'PutBucketAcl', requestParameters: { bucketName: 'amzn-s3-demo-bucket1' } },
};
const S3_PRECISE = {
  source: ['aws.s3'],
  'detail-type': ['Object Created'],
  detail: { bucket: { name: ['amzn-s3-demo-bucket1'] }, object: { key: [{ prefix: 'uploads/' }], size: [{ numeric: ['>', 0] }] } },
};
const bestPractices: MatchCase[] = [
  { name: 'source-only pattern matches an object-created event', pattern: { source: ['aws.s3'] }, event: S3_OBJECT_CREATED, expected: true },
  { name: 'source-only pattern also matches an ACL API call (too broad)', pattern: { source: ['aws.s3'] }, event: S3_PUT_BUCKET_ACL, expected: true },
  { name: 'precise pattern matches the intended event', pattern: S3_PRECISE, event: S3_OBJECT_CREATED, expected: true },
  { name: 'precise pattern ignores the ACL API call', pattern: S3_PRECISE, event: S3_PUT_BUCKET_ACL, expected: false },
  {
    name: 'precise pattern ignores other buckets',
    pattern: S3_PRECISE,
    event: { ...S3_OBJECT_CREATED, detail: { ...S3_OBJECT_CREATED.detail, bucket: { name: 'other-bucket' } } },
    expected: false,
  },
  {
    name: 'precise pattern ignores empty objects',
    pattern: S3_PRECISE,
    event: { ...S3_OBJECT_CREATED, detail: { ...S3_OBJECT_CREATED.detail, object: { key: 'uploads/empty', size: 0 } } },
    expected: false,
  },
];

const groups: Array<[string, MatchCase[]]> = [
  ['Creating event patterns', creatingEventPatterns],
  ['Null values and empty strings', nullAndEmpty],
  ['Arrays', arrays],
  ['Prefix matching', prefix],
  ['Suffix matching', suffix],
  ['Equals-ignore-case matching', equalsIgnoreCase],
  ['Anything-but matching', anythingBut],
  ['Numeric matching', numeric],
  ['IP address (cidr) matching', cidr],
  ['Exists matching', exists],
  ['Wildcard matching', wildcard],
  ['$or matching', or],
  ['Complex example', complex],
  ['Comparison operator table', operatorTable],
  ['Best practices', bestPractices],
];

const ALL_MATCH_CASES: MatchCase[] = groups.flatMap(([, cases]) => cases);

describe('EventBridge pattern conformance', () => {
  it('has at least 150 match cases', () => {
    expect(ALL_MATCH_CASES.length).toBeGreaterThanOrEqual(150);
  });

  for (const [group, cases] of groups) {
    describe(group, () => {
      it.each(cases)('$name', ({ pattern, event, expected }) => {
        const compiled = compilePattern(pattern);
        expect(compiled.matches(event)).toBe(expected);
        expect(matchesPattern(pattern, event)).toBe(expected);
        // explain() must agree with matches(): undefined exactly when the event matches.
        expect(compiled.explain(event) === undefined).toBe(expected);
      });
    });
  }
});
