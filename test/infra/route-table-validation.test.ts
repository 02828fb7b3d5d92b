import { describe, expect, it } from 'vitest';
import { RouteTableError, generatedNames, validateRouteTable } from '../../lib/domain/route-validation';
import type { Route, RouteTarget } from '../../lib/route-table';
import { WORKFLOW_NAMES } from '../../lib/workflows';
import { ARNS, allKindsTable } from './all-kinds-table';
import { buildApp, synthesizeOrExplain } from '../../lib/stacks/fastio-app';
import { cdkJsonContext, synthesize } from './synthesize';

const checks = { consumerExists: (folder: string) => ['catalog-consumer', 'agent-audit'].includes(folder), workflows: WORKFLOW_NAMES };
const route = (targets: readonly RouteTarget[]): Route => ({ ...(allKindsTable[0] as Route), name: 'uploads', targets });
const problem = (targets: readonly RouteTarget[]) => {
  try {
    validateRouteTable([route(targets)], checks);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(RouteTableError);
    return (error as Error).message;
  }
};

describe('route table mistakes stop synth with one line naming route, target and field', () => {
  it('accepts the all-kinds table', () => {
    expect(() => validateRouteTable(allKindsTable, checks)).not.toThrow();
  });

  it.each([
    ['an unknown consumer folder', [{ kind: 'queue', consumer: 'transcriber' }], 'route "uploads" target "queue": consumer "transcriber" has no lambdas/transcriber/handler.ts'],
    ['an unknown workflow', [{ kind: 'workflow', workflow: 'approve' }], 'route "uploads" target "workflow": workflow "approve" is not one of lib/workflows: review'],
    ['a malformed queue ARN', [{ kind: 'queue', queueArn: 'arn:aws:sqs:eu-west-1:1234:q', encryption: 'none' }], 'route "uploads" target "queue": queueArn "arn:aws:sqs:eu-west-1:1234:q" is not an SQS queue ARN'],
    ['a function ARN that names a queue', [{ kind: 'function', functionArn: ARNS.plainQueue }], `route "uploads" target "function": functionArn "${ARNS.plainQueue}" is not a Lambda function ARN`],
    [
      'a URL that is not https',
      [{ kind: 'http', url: 'http://hooks.example.com/x', authorization: { type: 'api-key', headerName: 'x-api-key', secretArn: ARNS.apiKeySecret } }],
      'route "uploads" target "http": url "http://hooks.example.com/x" is not an https URL',
    ],
    [
      'a queue ARN without encryption',
      [{ kind: 'queue', queueArn: ARNS.plainQueue } as unknown as RouteTarget],
      `route "uploads" target "queue": encryption is missing: say 'none', 'sqs-managed' or { kmsKeyArn } for the queue's customer-managed key, which EventBridge must be allowed to use`,
    ],
    [
      'two targets with one name',
      [
        { kind: 'queue', consumer: 'catalog-consumer' },
        { kind: 'queue', queueArn: ARNS.plainQueue, encryption: 'none' },
      ],
      'route "uploads": two targets are named "queue"; give one a different name',
    ],
    [
      'a replay policy that is neither deliver nor skip',
      [{ kind: 'queue', consumer: 'catalog-consumer', replays: 'always' } as unknown as RouteTarget],
      `route "uploads" target "queue": replays "always" is neither 'deliver' nor 'skip'`,
    ],
    ['six targets', Array.from({ length: 6 }, (_, index) => ({ kind: 'bus', name: `bus-${index}`, eventBusArn: ARNS.bus })), 'route "uploads": targets has 6 entries; a rule takes 1 to 5'],
  ] as const)('%s', (_what, targets, expected) => {
    const message = problem(targets as readonly RouteTarget[]);
    expect(message).toBe(expected);
    expect(message).not.toContain('\n');
  });

  it('rejects an input EventBridge would refuse, through the routing stack', () => {
    const broken = [route([{ kind: 'queue', consumer: 'catalog-consumer', input: { path: 'detail' } }])];
    expect(() => synthesize({}, broken)).toThrow(/^route "uploads" target "queue": input: [^\n]+$/);
  });

  it('refuses at synth, in one line naming route, target and placeholder, a placeholder inside a JSON string', () => {
    // GIVEN an http target whose template puts the file name inside a string literal
    const template = '{"text": "Video <file> was uploaded"}';
    const broken = [route([{ kind: 'http', name: 'chat', url: 'https://hooks.example.com/x', authorization: { type: 'api-key', headerName: 'x-api-key', secretArn: ARNS.apiKeySecret }, input: { paths: { file: '$.detail.fileName' }, template } }])];
    // WHEN the routing stack is built THEN synth stops with that one line
    expect(() => synthesize({}, broken)).toThrow(/^route "uploads" target "chat": input: input template puts <file> inside a JSON string[^\n]+$/);
  });

  it('stops the routing stack before anything is built', () => {
    const broken = [route([{ kind: 'queue', consumer: 'transcriber' }])];
    expect(() => synthesize({}, broken)).toThrow(RouteTableError);
  });

  it('makes the app (bin/app.ts) print one error line and exit 1', () => {
    // GIVEN the real app with a table whose http target is not https
    const broken = [route([{ kind: 'http', url: 'http://example.com', authorization: { type: 'basic', username: 'u', passwordSecretArn: ARNS.passwordSecret } }])];
    const written: string[] = [];
    const exit = (code: number): never => {
      throw new Error(`exit ${code}`);
    };
    // WHEN bin/app.ts's entry point synthesizes it
    expect(() => synthesizeOrExplain(() => buildApp({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } }, broken), { stderr: { write: (text) => written.push(text) }, exit })).toThrow('exit 1');
    // THEN one line, no stack trace
    expect(written).toEqual(['error: route "uploads" target "http": url "http://example.com" is not an https URL\n']);
  });
});

describe('names that cannot collide', () => {
  const bus = (name: string): RouteTarget => ({ kind: 'bus', name, eventBusArn: ARNS.bus });
  const routeNamed = (name: string, targets: readonly RouteTarget[]): Route => ({ ...(allKindsTable[0] as Route), name, targets });
  const tableProblem = (routes: readonly Route[]) => {
    try {
      validateRouteTable(routes, checks);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(RouteTableError);
      return (error as Error).message;
    }
  };

  it.each([
    ['a trailing dash', 'ab-'],
    ['a double dash', 'a--b'],
    ['a leading digit', '2ab'],
    ['an upper-case letter', 'aB'],
    ['an underscore', 'a_b'],
  ])('refuses a route name with %s', (_what, name) => {
    expect(tableProblem([routeNamed(name, [bus('partner')])])).toBe(
      `route name "${name}" is invalid: use kebab-case (lower-case letters and digits, words joined by single '-', starting with a letter), at most 40 characters`,
    );
  });

  it('refuses a target name that is not kebab-case, naming route and target', () => {
    expect(tableProblem([routeNamed('partner', [bus('eu-')])])).toBe(
      `route "partner" target "eu-": name "eu-" is invalid: use kebab-case (lower-case letters and digits, words joined by single '-', starting with a letter), at most 30 characters`,
    );
  });

  it.each<[string, Route[], string]>([
    [
      'route partner + target target-eu and route partner-target + target eu',
      [routeNamed('partner', [bus('target-eu')]), routeNamed('partner-target', [bus('eu')])],
      'route "partner" target "target-eu" and route "partner-target" target "eu" both generate the stack output key "RoutePartnerTargetTargetEuDestinationArn": rename one of them',
    ],
    ['routes v-2 and v2', [routeNamed('v-2', [bus('partner')]), routeNamed('v2', [bus('partner')])], 'route "v-2" and route "v2" both generate the logical id prefix "Routev2": rename one of them'],
    ['routes a-b and ab', [routeNamed('a-b', [bus('partner')]), routeNamed('ab', [bus('partner')])], 'route "a-b" and route "ab" both generate the logical id prefix "Routeab": rename one of them'],
    ['targets v-2 and v2 of one route', [routeNamed('partner', [bus('v-2'), bus('v2')])], 'route "partner" target "v-2" and route "partner" target "v2" both generate the logical id prefix "RoutepartnerTargetv2": rename one of them'],
  ])('refuses %s in one line naming both', (_what, routes, expected) => {
    const message = tableProblem(routes);
    expect(message).toBe(expected);
    expect(message).not.toContain('\n');
  });

  it('refuses two own workflows that would get one state machine name', () => {
    const workflow = (name?: string): RouteTarget => ({ kind: 'workflow', workflow: 'review', ...(name ? { name } : {}) });
    expect(tableProblem([routeNamed('media-review', [workflow()]), routeNamed('media', [workflow('review')])])).toMatch(/^route "media-review" target "workflow" and route "media" target "review" both generate the [a-z ]+ "[^"]+": rename one of them$/);
  });

  it('accepts the shipped names and the all-kinds table, whose names are all distinct', () => {
    expect(tableProblem(allKindsTable)).toBeUndefined();
  });

  it('considers every alarm name the monitoring stack gives a route or target', () => {
    // GIVEN the all-kinds table, synthesized
    const { monitoring } = synthesize({}, allKindsTable).templates;
    const considered = allKindsTable.flatMap((route) => generatedNames(route).flatMap(({ names }) => names.filter((name) => name.kind === 'alarm name').map((name) => name.value)));
    // WHEN reading the alarms named after one of the table's routes (`<stage>-fastio-[rules-]<generated name>-<metric>`)
    const alarmNames = Object.values(monitoring.findResources('AWS::CloudWatch::Alarm')).map((alarm) => String(alarm.Properties.AlarmName));
    const ofRoutes = alarmNames.filter((name) => allKindsTable.some((route) => name.includes(route.name)));
    expect(ofRoutes.length).toBeGreaterThan(0);
    // THEN each one is a name the check compares
    const generated = (alarm: string) => alarm.replace(/^[a-z0-9-]+?-fastio-(rules-)?/, '');
    expect(ofRoutes.filter((alarm) => !considered.some((name) => generated(alarm).startsWith(`${name}-`)))).toEqual([]);
  });

  it('considers every output key and construct of the routing stack (the check names through the functions the stack names with)', () => {
    // GIVEN the all-kinds table, synthesized
    const { routing } = synthesize({}, allKindsTable).templates;
    const considered = allKindsTable.flatMap((route) => generatedNames(route).flatMap(({ names }) => names));
    // THEN every output key the stack writes is one the check compares (CDK's own cross-stack
    // reference outputs, PublishOutput…, are named from logical ids, hash included: unique already)
    const keys = new Set(considered.filter((name) => name.kind === 'stack output key').map((name) => name.value));
    const written = Object.keys(routing.toJSON().Outputs).filter((key) => !key.startsWith('PublishOutput'));
    expect(written.length).toBeGreaterThan(0);
    expect(written.filter((key) => !keys.has(key))).toEqual([]);
    // AND every logical id of a route's resources starts with a prefix the check compares
    const prefixes = considered.filter((name) => name.kind === 'logical id prefix').map((name) => name.value);
    const routeResources = Object.keys(routing.toJSON().Resources).filter((id) => id.startsWith('Route'));
    expect(routeResources.filter((id) => !prefixes.some((prefix) => id.startsWith(prefix)))).toEqual([]);
  });

  it('stops synth with that one line, before a construct clash', () => {
    const routes = [routeNamed('partner', [bus('target-eu')]), routeNamed('partner-target', [bus('eu')])];
    expect(() => synthesize({}, routes)).toThrow(/^route "partner" target "target-eu" and route "partner-target" target "eu" both generate [^\n]+$/);
  });
});
