/**
 * EventBridge InputPath / InputTransformer, held to AWS's own examples and recorded behaviour.
 *
 * Sources, cited per case:
 * - [guide]: EventBridge User Guide, "Amazon EventBridge input transformation"
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html): the example
 *   EC2 event, its InputPathsMap and the table of templates with their output.
 * - [api]: EventBridge API Reference, InputTransformer / Target / PutTargets constraints.
 * - [recorded]: bodies and errors recorded from real EventBridge in LocalStack's AWS-validated snapshots
 *   (localstack/localstack tests/aws/services/events/test_events_inputs.snapshot.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UndeliverableInputError, applyTargetInput, putTargetsProblem, validateTargetInput, type TargetInput } from '../../lib/domain/input-transform';
import { RouteTableError, validateRouteTable } from '../../lib/domain/route-validation';
import { routeTable, targetName, type Route } from '../../lib/route-table';

// [guide] "Input transform examples": the example Amazon EC2 event and Input Path.
const ec2Event = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};
const ec2Paths = { timestamp: '$.time', instance: '$.detail.instance-id', state: '$.detail.state', resource: '$.resources[0]' };
// [guide] the reserved-variables example shows this rule ARN and name.
const context = { ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example', ruleName: 'example', ingestionTime: '2015-11-11T21:29:55Z' };

const transform = (template: string, paths: Record<string, string> = ec2Paths, event: object = ec2Event): string =>
  applyTargetInput(event, { paths, template }, context);

describe('the user guide examples, exact output', () => {
  it.each([
    // [guide] "Simple string": a text template keeps its quotes.
    ['simple string', '"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'],
    // [guide] "String with escaped quotes" (the console's behaviour the guide shows).
    ['string with escaped quotes', '"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'],
    // [guide] same row, the note on the CLI: the template arrives unescaped and no quotes are added.
    ['string with bare quotes (the CLI note)', '"instance "<instance>" is in <state>"', '"instance "i-0123456789" is in RUNNING"'],
    // [guide] "Including reserved variables in a string".
    ['reserved variable in a string', '"<aws.events.rule-name> triggered"', '"example triggered"'],
  ])('%s', (_name, template, output) => {
    expect(transform(template)).toBe(output);
  });

  // JSON templates: the guide shows the output laid out like the template; the body EventBridge
  // delivers is minified ([guide], earlier revision of "Common issues": "The JSON that is passed to
  // the target is minified"). Each case asserts the exact minified body and the guide's value.
  it.each([
    // [guide] "Simple JSON": unquoted string variables get their quotes.
    ['simple JSON', '{\n  "instance" : <instance>,\n  "state": <state>\n}', { instance: 'i-0123456789', state: 'RUNNING' }, '{"instance":"i-0123456789","state":"RUNNING"}'],
    // [guide] "JSON with strings and variables".
    [
      'JSON with strings and variables',
      '{\n "instance" : <instance>,\n "state": "<state>",\n "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
      { instance: 'i-0123456789', state: 'RUNNING', instanceStatus: 'instance "i-0123456789" is in RUNNING' },
      '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
    ],
    // [guide] "JSON with a mix of variables and static information".
    [
      'JSON with a mix of variables and static information',
      '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}\n',
      { instance: 'i-0123456789', state: [9, 'RUNNING', true], Transformed: 'Yes' },
      '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
    ],
  ])('%s', (_name, template, value, body) => {
    const delivered = transform(template);
    expect(JSON.parse(delivered)).toEqual(value);
    expect(delivered).toBe(body);
  });

  it('including reserved variables in JSON: rule ARN and name as strings, the event as an object', () => {
    // [guide] "Including reserved variables in JSON" (its originalEvent is elided "for brevity";
    // [recorded] gives its shape: no detail, detailType, time = ingestion time).
    const delivered = JSON.parse(
      transform('{\n  "instance" : <instance>,\n  "state": <state>,\n  "ruleArn" : <aws.events.rule-arn>,\n  "ruleName" : <aws.events.rule-name>,\n  "originalEvent" : <aws.events.event>\n}'),
    );
    expect(delivered).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example',
      ruleName: 'example',
      originalEvent: {
        id: '7bf73129-1428-4cd3-a780-95db273d1602',
        account: '123456789012',
        detailType: 'EC2 Instance State-change Notification',
        time: '2015-11-11T21:29:55Z',
        source: 'aws.ec2',
        region: 'us-east-1',
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
        version: '0',
      },
    });
  });

  it('an array index path ($.resources[0]) resolves', () => {
    // [guide] the example Input Path maps "resource" : "$.resources[0]".
    expect(transform('"<resource>"')).toBe('"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"');
  });
  // Not reproduced: the guide's "Amazon CloudWatch log group" row shows how the log-group target
  // writes its log record (timestamp and message fields), not a body EventBridge delivers.
});

// [recorded] LocalStack's SPECIAL_EVENT_DETAIL, put on a bus and delivered to SQS by real EventBridge.
const recordedEvent = {
  version: '0',
  id: '2d1c3b1a-0000-4000-8000-000000000001',
  'detail-type': 'core.update-account-command',
  source: 'core.update-account-command',
  account: '111111111111',
  time: '2024-06-11T08:33:10Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    command: 'update-account',
    payload: { acc_id: '0a787ecb-4015', sf_id: 'baz' },
    listsingle: ['HIGH'],
    listmulti: ['ACTIVE', 'INACTIVE'],
    valid: true,
  },
};
const recordedPaths = {
  userId: '$.detail.payload.acc_id',
  payload: '$.detail.payload',
  systemstring: '$.detail.awsAccountId',
  listsingle: '$.detail.listsingle',
  listmulti: '$.detail.listmulti',
  valid: '$.detail.valid',
};

describe('recorded deliveries (test_input_transformer_nested_keys_replacement)', () => {
  it.each([
    // [recorded] objects and lists inside a text lose their quotes; a missing path is empty.
    ['"Payload of <payload> with path users-service/users/<userId> and <userId>"', '"Payload of {acc_id:0a787ecb-4015,sf_id:baz} with path users-service/users/0a787ecb-4015 and 0a787ecb-4015"'],
    ['"<listsingle> single list item"', '"[HIGH] single list item"'],
    ['"<listmulti> multiple list items"', '"[ACTIVE,INACTIVE] multiple list items"'],
    ['"<listsingle> single list item <listmulti> multiple list items <systemstring> system account id <payload> payload <userId> user id"', '"[HIGH] single list item [ACTIVE,INACTIVE] multiple list items  system account id {acc_id:0a787ecb-4015,sf_id:baz} payload 0a787ecb-4015 user id"'],
    // [recorded] a boolean inside a text is its JSON text.
    ['"Command is <valid>!"', '"Command is true!"'],
    // [recorded] a multi-line text template keeps its lines (what CDK's fromMultilineText produces).
    ['"<listsingle> single list item"\n"<systemstring> system account id"\n"<userId> user id"', '"[HIGH] single list item"\n" system account id"\n"0a787ecb-4015 user id"'],
  ])('text %s', (template, body) => {
    expect(transform(template, recordedPaths, recordedEvent)).toBe(body);
  });

  it.each([
    // [recorded] an object in a value position is inserted as JSON; strings inside strings raw.
    ['{"method": "PUT", "path": "users-service/users/<userId>", "bod": <payload>}', '{"method":"PUT","path":"users-service/users/0a787ecb-4015","bod":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}'],
    ['{"id" : <userId>}', '{"id":"0a787ecb-4015"}'],
    ['{"id" : "<userId>"}', '{"id":"0a787ecb-4015"}'],
    ['{"method": "PUT", "path": "users-service/users/<userId>", "bod": [<userId>, "hardcoded"]}', '{"method":"PUT","path":"users-service/users/0a787ecb-4015","bod":["0a787ecb-4015","hardcoded"]}'],
    ['{"method": "PUT", "nested": {"level1": {"level2": {"level3": "users-service/users/<userId>"} } }, "bod": "<userId>"}', '{"method":"PUT","nested":{"level1":{"level2":{"level3":"users-service/users/0a787ecb-4015"}}},"bod":"0a787ecb-4015"}'],
    ['{"singlelistitem": <listsingle>}', '{"singlelistitem":["HIGH"]}'],
    ['{"multi_replacement": "users/<userId>/second/<userId>"}', '{"multi_replacement":"users/0a787ecb-4015/second/0a787ecb-4015"}'],
  ])('JSON %s', (template, body) => {
    expect(transform(template, recordedPaths, recordedEvent)).toBe(body);
  });

  it.each([
    // [recorded] test_input_transformer_nested_keys_replacement_not_valid: never delivered.
    '{"not_valid": "users-service/users/<payload>", "bod": <payload>}',
    '{"payload": "<payload>"}',
    '{"singlelistitem": "<listsingle>"}',
  ])('a JSON template that renders to invalid JSON is not delivered: %s', (template) => {
    expect(() => transform(template, recordedPaths, recordedEvent)).toThrow(UndeliverableInputError);
  });
});

describe('missing paths', () => {
  const paths = { 'detail-type': '$.detail-type', timestamp: '$.time', command: '$.detail.notinmessage' };
  it('yield "" in a JSON value position', () => {
    // [recorded] test_put_events_with_input_transformer_input_template_json, "not-match-all".
    expect(transform('{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}', paths, recordedEvent)).toBe(
      '{"detailType":"core.update-account-command","time":"2024-06-11T08:33:10Z","command":""}',
    );
  });
  it('yield nothing inside a text', () => {
    // [recorded] test_put_events_with_input_transformer_input_template_string, "not-match-all".
    expect(transform('"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"', paths, recordedEvent)).toBe(
      '"Event of core.update-account-command type, at time 2024-06-11T08:33:10Z, info extracted from detail "',
    );
  });
});

describe('quoting and escaping', () => {
  const event = { detail: { note: 'say "hi"\nbye', size: 42, none: null } };
  const paths = { note: '$.detail.note', size: '$.detail.size', none: '$.detail.none' };
  it('a string in a JSON value position is quoted and escaped, so the body stays JSON', () => {
    // [guide] "EventBridge automatically adds quotes to string variable values ... to ensure the
    // transformation output is valid JSON".
    expect(transform('{"note": <note>, "size": <size>, "none": <none>}', paths, event)).toBe('{"note":"say \\"hi\\"\\nbye","size":42,"none":null}');
  });
  it('a string inside a JSON string literal is not escaped, so quotes in it break the body', () => {
    // [guide] "EventBridge doesn't escape values extracted by Input Path".
    expect(() => transform('{"note": "<note>"}', paths, event)).toThrow(UndeliverableInputError);
  });
  it('a text template takes values raw, quotes and newlines included', () => {
    // [guide] same rule; a text body is not JSON, so nothing breaks.
    expect(transform('Note: <note> (<size> bytes)', paths, event)).toBe('Note: say "hi"\nbye (42 bytes)');
  });
  it('a number in a JSON template stays a number', () => {
    // [guide] "JSON with a mix of variables and static information" keeps 9 and true unquoted.
    expect(transform('{"size": <size>}', paths, event)).toBe('{"size":42}');
  });
});

describe('predefined variables', () => {
  it('rule ARN, rule name and ingestion time inside a text', () => {
    // [recorded] test_input_transformer_predefined_variables (string template).
    expect(transform('"Message containing all pre defined variables <aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time>"', {})).toBe(
      '"Message containing all pre defined variables arn:aws:events:us-east-2:123456789012:rule/example example 2015-11-11T21:29:55Z"',
    );
  });
  it('aws.events.event.json is the whole event, aws.events.event the event without detail', () => {
    // [recorded] test_input_transformer_predefined_variables (JSON template), key order included.
    const body = transform('{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}', {}, recordedEvent);
    expect(body).toBe(
      JSON.stringify({
        originalEvent: { id: recordedEvent.id, account: '111111111111', detailType: 'core.update-account-command', time: '2015-11-11T21:29:55Z', source: 'core.update-account-command', region: 'us-east-1', resources: [], version: '0' },
        originalEventJson: recordedEvent,
      }),
    );
  });
});

describe('InputPath and no input', () => {
  it('no input delivers the event as JSON', () => {
    expect(applyTargetInput(ec2Event, undefined, context)).toBe(JSON.stringify(ec2Event));
  });
  it.each([
    // [recorded] test_put_events_with_input_path: $.detail delivers the detail object.
    ['$.detail', JSON.stringify(recordedEvent.detail)],
    // [recorded] test_put_events_with_input_path_nested.
    ['$.detail.payload', '{"acc_id":"0a787ecb-4015","sf_id":"baz"}'],
    // [recorded] test_put_events_with_input_path_max_level_depth: a string value is delivered as JSON.
    ['$.detail.payload.sf_id', '"baz"'],
    // [api] Target.InputPath "You may use JSON dot notation or bracket notation".
    ["$['detail']['payload']['acc_id']", '"0a787ecb-4015"'],
    ['$', JSON.stringify(recordedEvent)],
    // [guide] wildcards are supported; undocumented shape: every match collected into one array.
    ['$.detail.listmulti[*]', '["ACTIVE","INACTIVE"]'],
  ])('%s', (path, body) => {
    expect(applyTargetInput(recordedEvent, { path }, context)).toBe(body);
  });
  it('a path that selects nothing is not delivered (undocumented; no value to send)', () => {
    expect(() => applyTargetInput(recordedEvent, { path: '$.detail.absent' }, context)).toThrow(UndeliverableInputError);
  });
});

describe('validateTargetInput', () => {
  const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, '$.detail']));
  it.each<[string, TargetInput, string]>([
    // [recorded] PutTargets: "InputTemplate for target <id> contains invalid placeholder notdefinedkey."
    ['placeholder without a path', { paths: { a: '$.detail' }, template: '"<a> <notdefinedkey>"' }, 'input template uses <notdefinedkey>, which is neither in paths nor predefined'],
    // [api] InputPathsMap: "You can have as many as 100 key-value pairs".
    ['more than 100 paths', { paths: many, template: '"x"' }, 'input has 101 paths, EventBridge allows at most 100'],
    // [api] InputTransformerPathKey pattern [A-Za-z0-9_-]+.
    ['a key with a space', { paths: { 'my key': '$.detail' }, template: '"<my key>"' }, 'input path name "my key" must be 1-256 letters, digits, _ or -'],
    // [guide] predefined names are reserved; [api] "The keys cannot start with AWS.".
    ['a reserved key', { paths: { 'aws.events.rule-name': '$.detail' }, template: '"x"' }, 'input path name "aws.events.rule-name" is reserved (names starting with aws. are EventBridge\'s)'],
    // [api] TransformerInput length 1..8192.
    ['an empty template', { paths: {}, template: '' }, 'input template must be 1-8192 characters, it has 0'],
    ['a template over 8192 characters', { paths: {}, template: `"${'x'.repeat(8191)}"` }, 'input template must be 1-8192 characters, it has 8193'],
    // [api] TargetInputPath max 256.
    ['a path over 256 characters', { path: `$.${'a'.repeat(255)}` }, 'input path is 257 characters, EventBridge allows at most 256'],
    // [api] InputPathsMap "You must use JSON dot notation, not bracket notation".
    ['bracket notation in paths', { paths: { a: "$['detail']" }, template: '"<a>"' }, 'input path "a" "$[\'detail\']" is not a JSONPath EventBridge evaluates: it uses bracket notation for a key (InputPathsMap takes dot notation)'],
    // [guide] supported syntax starts at $ ("dot notation (for example, $.detail)").
    ['a path without $', { path: 'detail.size' }, 'input path "detail.size" is not a JSONPath EventBridge evaluates: it must start with $'],
    ['a filter expression', { path: '$.detail[?(@.size > 1)]' }, 'input path "$.detail[?(@.size > 1)]" is not a JSONPath EventBridge evaluates: it has an unsupported segment "[?(@.size > 1)]"'],
    // [api] "If InputTemplate is a JSON object ... The placeholder cannot be used as an object key."
    ['a placeholder as an object key', { paths: { a: '$.detail' }, template: '{"<a>": 1}' }, 'input template uses <a> as an object key, which a JSON template cannot'],
    // [recorded] a JSON template that cannot render to JSON is never delivered.
    ['a JSON template that is not JSON', { paths: { a: '$.detail' }, template: '{"a": <a>,}' }, 'input template starts with { but is not JSON once filled: '],
  ])('%s', (_name, input, problem) => {
    const found = validateTargetInput(input);
    expect(found?.startsWith(problem) ? problem : found).toBe(problem);
    expect(found).not.toContain('\n');
  });

  it.each<[string, TargetInput]>([
    ['the guide example map and a JSON template', { paths: ec2Paths, template: '{"instance": <instance>, "state": <state>, "at": <aws.events.event.ingestion-time>}' }],
    ['predefined variables without paths', { paths: {}, template: '{"event": <aws.events.event.json>}' }],
    ['a text template', { paths: ec2Paths, template: '<instance> is in state <state>' }],
    ['InputPath with bracket notation', { path: "$['detail']" }],
    ['InputPath $', { path: '$' }],
  ])('accepts %s', (_name, input) => {
    expect(validateTargetInput(input)).toBeUndefined();
  });
});

describe('in the route table', () => {
  it('a target with an input EventBridge rejects stops validation with one line naming route, target and field', () => {
    // GIVEN a route whose http target's template uses a placeholder it never defined
    const route: Route = {
      ...(routeTable[0] as Route),
      name: 'announce',
      targets: [{ kind: 'queue', name: 'their-queue', queueArn: 'arn:aws:sqs:us-east-1:111122223333:q', encryption: 'none', input: { paths: { file: '$.detail.fileName' }, template: '"<file> by <user>"' } }],
    };
    // WHEN the table is validated as the routing stack does
    const validate = () => validateRouteTable([route], { consumerExists: () => true, workflows: [], inputProblem: validateTargetInput });
    // THEN
    expect(validate).toThrow(new RouteTableError('route "announce" target "their-queue": input: input template uses <user>, which is neither in paths nor predefined'));
  });
});

/** File names a sender chose to break the JSON, ping a channel or post a link (issue 20). */
const HOSTILE_FILE_NAMES = ['Bob "final" cut.mp4', '<!channel> urgent.mp4', '<https://evil.example|click here>.mp4', 'back\\slash\n*bold* _it_.mp4'];
const upload = (fileName: string) => ({
  version: '0',
  id: 'c0ffee00-0000-4000-8000-000000000001',
  'detail-type': 'file.uploaded',
  source: 'fastio',
  account: '123456789012',
  time: '2026-12-07T10:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventId: 'evt-h', workspaceId: 'ws-1', fileId: 'f-h', fileName, extension: 'mp4', sizeBytes: 1_048_576, sizeMiB: 1 },
});
const filePaths = { file: '$.detail.fileName' };

describe('sender-controlled values through the input transform', () => {
  it.each(HOSTILE_FILE_NAMES)('a value position carries %j as escaped JSON, exactly as sent', (fileName) => {
    // WHEN the file name is a value of its own
    const body = applyTargetInput(upload(fileName), { paths: filePaths, template: '{"text": <file>}' }, context);
    // THEN the body is JSON and the value is the name, character for character
    expect(JSON.parse(body)).toEqual({ text: fileName });
  });

  it('inside a string literal, a quote in the name makes the body invalid JSON, which EventBridge does not deliver', () => {
    const deliver = () => applyTargetInput(upload('Bob "final" cut.mp4'), { paths: filePaths, template: '{"text": "Video <file> was uploaded"}' }, context);
    expect(deliver).toThrow(UndeliverableInputError);
  });

  it('inside a string literal, a mention or link in the name becomes part of the message text', () => {
    const body = applyTargetInput(upload('<!channel> see <https://evil.example|here>'), { paths: filePaths, template: '{"text": "Video <file>"}' }, context);
    expect(JSON.parse(body)).toEqual({ text: 'Video <!channel> see <https://evil.example|here>' });
  });
});

describe('validateTargetInput refuses placeholders a sender could break out of (design decision 18)', () => {
  it.each<[string, TargetInput, string]>([
    [
      'a path placeholder inside a JSON string',
      { paths: filePaths, template: '{"text": "Video <file> was uploaded"}' },
      'input template puts <file> inside a JSON string, where EventBridge inserts it unescaped (a " breaks the JSON, markup reaches the receiver): make it a value of its own, "field": <file>, or list it in trustedPlaceholders if no sender can shape its values',
    ],
    ['the event object inside a JSON string', { paths: {}, template: '{"text": "<aws.events.event>"}' }, 'input template puts <aws.events.event> inside a JSON string'],
    ['a trusted name that is not a path', { paths: filePaths, template: '{"text": <file>}', trustedPlaceholders: ['size'] }, 'trustedPlaceholders names "size", which is not in paths'],
    [
      'a trusted name the template never puts in a string',
      { paths: filePaths, template: '{"text": <file>}', trustedPlaceholders: ['file'] },
      'trustedPlaceholders names "file", which the template never puts inside a string: remove it',
    ],
  ])('%s', (_name, input, problem) => {
    const found = validateTargetInput(input);
    expect(found?.startsWith(problem) ? problem : found).toBe(problem);
    expect(found).not.toContain('\n');
  });

  it.each<[string, TargetInput]>([
    ['placeholders in value positions', { paths: filePaths, template: '{"text": <file>, "blocks": [{"type": "plain_text", "text": <file>}]}' }],
    ['a placeholder the author lists as trusted', { paths: { size: '$.detail.sizeMiB' }, template: '{"text": "<size> MiB"}', trustedPlaceholders: ['size'] }],
    ['EventBridge scalars inside a string', { paths: {}, template: '{"text": "<aws.events.rule-name> at <aws.events.event.ingestion-time> (<aws.events.rule-arn>)"}' }],
    ['a text template, which has no JSON to break', { paths: filePaths, template: '"Video <file> was uploaded"' }],
  ])('accepts %s', (_name, input) => {
    expect(validateTargetInput(input)).toBeUndefined();
  });

  it('is stricter than PutTargets: EventBridge itself accepts a placeholder inside a string', () => {
    const input = { paths: filePaths, template: '{"text": "Video <file>"}' };
    expect(putTargetsProblem(input)).toBeUndefined();
    expect(validateTargetInput(input)).toBeDefined();
  });
});

describe('the shipped Slack target (video-uploads/slack)', () => {
  const route = routeTable.find((candidate) => candidate.name === 'video-uploads') as Route;
  const slack = route.targets.find((target) => targetName(target) === 'slack');
  const input = slack?.input as TargetInput;

  /** Every object of a parsed Block Kit message, depth first. */
  const objects = (value: unknown): Record<string, unknown>[] =>
    typeof value !== 'object' || value === null ? [] : [...(Array.isArray(value) ? [] : [value as Record<string, unknown>]), ...Object.values(value).flatMap(objects)];

  it('passes the route table validation', () => {
    expect(validateTargetInput(input)).toBeUndefined();
  });

  it("is the template README's Slack section shows", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const shown = /## Send events to Slack[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    const compact = (text: string | undefined) => text?.replace(/\s+/g, '');
    expect(compact(shown)).toBe(compact('template' in input ? input.template : undefined));
  });

  it.each(HOSTILE_FILE_NAMES)('renders valid JSON whose only place for %j is a plain_text object of its own', (fileName) => {
    // GIVEN a matching upload whose file name is hostile
    // WHEN EventBridge renders the target's input
    const message = JSON.parse(applyTargetInput(upload(fileName), input, context)) as Record<string, unknown>;
    // THEN the name is the whole text of plain_text objects, never part of another text
    const texts = objects(message).filter((object) => typeof object.text === 'string');
    expect(texts.filter((object) => object.text === fileName).map((object) => object.type)).toEqual(['plain_text']);
    expect(texts.filter((object) => object.text !== fileName).map((object) => object.text)).not.toContainEqual(expect.stringContaining(fileName));
    // AND nothing in the message is parsed as mrkdwn: the top-level text (the preview) carries no event value
    expect(objects(message).filter((object) => object.type === 'mrkdwn')).toEqual([]);
    expect(message.text).toBe(JSON.parse(applyTargetInput(upload('demo.mp4'), input, context)).text);
  });
});
