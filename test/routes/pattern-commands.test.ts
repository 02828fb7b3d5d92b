import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, InvalidEventPatternException, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createPatternTestCommand, createRoutesTestCommand, formatTestResult, patternCommands, routesTestCommand } from '../../lib/ops/pattern-commands';
import { routeTable } from '../../lib/route-table';
import { SAMPLE_PAYLOADS_DIR as FIXTURES_DIR } from '../../lib/domain/sample-payloads';

const payload = (name: string): string => join(FIXTURES_DIR, name);

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(patternCommands, argv, { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false });
  return { code, out, err, text: out.join('\n') };
}

let dir: string;
/** Writes a file into the test's temporary directory and returns its path. */
function file(name: string, content: string | Buffer | object): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2));
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'routes-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A complete event as TestEventPattern wants it. */
const EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'file.uploaded',
  source: 'fastio',
  account: '111122223333',
  time: '2025-11-18T15:04:51Z',
  region: 'eu-west-1',
  resources: [],
  detail: { extension: 'mp4', sizeBytes: 524_288_000 },
};
const LARGE = { source: ['fastio'], detail: { sizeBytes: [{ numeric: ['>=', 104_857_600] }] } };
const SMALL = { source: ['fastio'], detail: { sizeBytes: [{ numeric: ['<', 1024] }] } };

describe('pattern test (local)', () => {
  it('prints {"Result": true} exactly as aws events test-event-pattern does, and exits 0', async () => {
    const { code, out, err } = await run('pattern', 'test', '--pattern', JSON.stringify(LARGE), '--event', JSON.stringify(EVENT));
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual(['{\n    "Result": true\n}']);
  });

  it('prints {"Result": false} when the event does not match, still exit 0', async () => {
    const { code, out } = await run('pattern', 'test', '--pattern', JSON.stringify(SMALL), '--event', JSON.stringify(EVENT));
    expect(code).toBe(0);
    expect(out).toEqual(['{\n    "Result": false\n}']);
    expect(formatTestResult(false)).toBe('{\n    "Result": false\n}');
  });

  it('reads the pattern and the event from files (BOM tolerated), or inline JSON with leading spaces', async () => {
    const patternFile = file('pattern.json', LARGE);
    const eventFile = file('event.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(EVENT))]));
    expect((await run('pattern', 'test', '--pattern', patternFile, '--event', eventFile)).out).toEqual([formatTestResult(true)]);
    expect((await run('pattern', 'test', '--pattern', `  ${JSON.stringify(SMALL)}`, '--event', eventFile)).out).toEqual([formatTestResult(false)]);
  });

  it('judges every route of the table on its own samples as EventBridge would', async () => {
    for (const route of routeTable) {
      const sample = route.samples.matching[0];
      const event = { ...EVENT, 'detail-type': sample?.['detail-type'], detail: sample?.detail };
      const { out } = await run('pattern', 'test', '--pattern', JSON.stringify(route.pattern), '--event', JSON.stringify(event));
      expect(out, route.name).toEqual([formatTestResult(true)]);
    }
  });

  it.each([
    ['numeric bounds in the wrong order', { detail: { sizeBytes: [{ numeric: ['<', 10, '>', 1] }] } }, /at \$\.detail\.sizeBytes\[0\]\.numeric: /],
    ['a bare value instead of a list', { source: 'fastio' }, /at \$\.source: field value must be an array/],
    ['an unknown operator', { detail: { name: [{ 'starts-with': 'x' }] } }, /at \$\.detail\.name\[0\]/],
    ['an empty object', {}, /at \$: empty objects are not allowed/],
  ])('an invalid pattern (%s) exits 2 with one line naming the JSON path', async (_case, pattern, message) => {
    const { code, out, err } = await run('pattern', 'test', '--pattern', JSON.stringify(pattern), '--event', JSON.stringify(EVENT));
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^error: --pattern is not a valid event pattern at \$/);
    expect(err[0]).toMatch(message);
  });

  it.each([
    ['not JSON', '{"id": ', /^error: --event is not valid JSON \(/],
    ['not an object', '[]', /^error: cannot read --event file \[\] \(ENOENT\); pass a file path or inline JSON starting with \{$/],
    ['missing envelope fields', JSON.stringify({ 'detail-type': 'file.uploaded', detail: {} }), /^error: --event is missing "id", "account", "source", "time", "region" \(TestEventPattern requires id, account, source, time, region, detail-type\)$/],
    ['missing detail-type', JSON.stringify({ ...EVENT, 'detail-type': undefined }), /^error: --event is missing "detail-type" /],
  ])('an invalid event (%s) exits 2 with one line', async (_case, event, message) => {
    const { code, out, err } = await run('pattern', 'test', '--pattern', JSON.stringify(LARGE), '--event', event);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it('an event file holding an array or a string is not an event', async () => {
    const arrayFile = file('array.json', '[1, 2]');
    const { code, err } = await run('pattern', 'test', '--pattern', JSON.stringify(LARGE), '--event', arrayFile);
    expect(code).toBe(2);
    expect(err).toEqual(['error: --event must be a JSON object (an EventBridge event), got an array']);
    const stringFile = file('string.json', '"event"');
    expect((await run('pattern', 'test', '--pattern', stringFile, '--event', JSON.stringify(EVENT))).err).toEqual([
      'error: --pattern is not a valid event pattern at $: pattern must be a JSON object, got "event"',
    ]);
  });

  it.each([
    [['pattern', 'test', '--event', '{}'], /^error: --pattern is required$/],
    [['pattern', 'test', '--pattern', '{}'], /^error: --event is required$/],
    [['pattern', 'test', '--pattern', '/nonexistent/p.json', '--event', '{}'], /cannot read --pattern file \/nonexistent\/p\.json \(ENOENT\)/],
    [['pattern', 'test', '--pattern', '{"a":["b"]}', '--event', '{}', '--region', 'eu-west-1'], /--region applies only with --live/],
    [['pattern', 'test', '--pattern', '{"a":["b"]}', '--event', '{}', '--live', '--region', 'Europe'], /--region "Europe" is not an AWS region name/],
  ])('%j is a one-line usage error (exit 2)', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });
});

describe('pattern test --live', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());
  afterAll(() => eventBridge.restore());

  it('sends the pattern and the event, as compact JSON, to TestEventPattern and prints its Result', async () => {
    eventBridge.on(TestEventPatternCommand).resolves({ Result: true });
    const patternFile = file('live-pattern.json', LARGE);
    const { code, out, err } = await run('pattern', 'test', '--live', '--region', 'eu-west-1', '--pattern', patternFile, '--event', JSON.stringify(EVENT));
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual(['{\n    "Result": true\n}']);
    const calls = eventBridge.commandCalls(TestEventPatternCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      EventPattern: '{"source":["fastio"],"detail":{"sizeBytes":[{"numeric":[">=",104857600]}]}}',
      Event: JSON.stringify(EVENT),
    });
  });

  it('uses the region given with --region', async () => {
    const regions: (string | undefined)[] = [];
    const command = createPatternTestCommand({
      eventBridge: (region) => {
        regions.push(region);
        return new EventBridgeClient({ region: region ?? 'us-east-1' });
      },
    });
    eventBridge.on(TestEventPatternCommand).resolves({ Result: false });
    const out: string[] = [];
    const code = await runCli([command], ['pattern', 'test', '--live', '--region', 'ap-southeast-2', '--pattern', JSON.stringify(SMALL), '--event', JSON.stringify(EVENT)], {
      out: (line) => out.push(line),
      err: () => undefined,
      interactive: false,
    });
    expect(code).toBe(0);
    expect(regions).toEqual(['ap-southeast-2']);
    expect(out).toEqual([formatTestResult(false)]);
  });

  it('prints EventBridge\'s answer and warns on stderr when the local matcher disagrees', async () => {
    eventBridge.on(TestEventPatternCommand).resolves({ Result: false });
    const { code, out, err } = await run('pattern', 'test', '--live', '--pattern', JSON.stringify(LARGE), '--event', JSON.stringify(EVENT));
    expect(code).toBe(0);
    expect(out).toEqual([formatTestResult(false)]);
    expect(err).toEqual(['warning: the local matcher says true, EventBridge says false; EventBridge is authoritative']);
  });

  it('leaves the pattern grammar to EventBridge: a rejection is exit 1 with one line', async () => {
    eventBridge.on(TestEventPatternCommand).rejects(new InvalidEventPatternException({ message: 'Event pattern is not valid. Reason: "source" must be an object or an array', $metadata: {} }));
    const { code, out, err } = await run('pattern', 'test', '--live', '--pattern', '{"source":"fastio"}', '--event', JSON.stringify(EVENT));
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual(['error: InvalidEventPatternException: Event pattern is not valid. Reason: "source" must be an object or an array']);
  });

  it('says so when EventBridge rejects a pattern the local matcher accepts', async () => {
    eventBridge.on(TestEventPatternCommand).rejects(new InvalidEventPatternException({ message: 'Event pattern is not valid.', $metadata: {} }));
    const { code, err } = await run('pattern', 'test', '--live', '--pattern', JSON.stringify(LARGE), '--event', JSON.stringify(EVENT));
    expect(code).toBe(1);
    expect(err).toEqual(['error: InvalidEventPatternException: Event pattern is not valid. (the local matcher accepts this pattern; EventBridge is authoritative)']);
  });

  it.each([
    [Object.assign(new Error('User: arn:aws:iam::111122223333:user/x is not authorized to perform: events:TestEventPattern\nmore'), { name: 'AccessDeniedException' }), 'error: AccessDeniedException: User: arn:aws:iam::111122223333:user/x is not authorized to perform: events:TestEventPattern'],
    [new Error('Region is missing'), 'error: no AWS region configured: set AWS_REGION (or a region in your AWS profile) or pass --region'],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), /^error: no AWS credentials found/],
  ])('AWS errors exit 1 with one line (%#)', async (error, message) => {
    eventBridge.on(TestEventPatternCommand).rejects(error);
    const { code, out, err } = await run('pattern', 'test', '--live', '--pattern', JSON.stringify(LARGE), '--event', JSON.stringify(EVENT));
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it('makes no AWS call for input that is already wrong locally', async () => {
    const { code } = await run('pattern', 'test', '--live', '--pattern', JSON.stringify(LARGE), '--event', '{"detail-type":"x"}');
    expect(code).toBe(2);
    expect(eventBridge.commandCalls(TestEventPatternCommand)).toHaveLength(0);
  });

  it('an answer without Result is a failure, not a guess', async () => {
    eventBridge.on(TestEventPatternCommand).resolves({});
    const { code, err } = await run('pattern', 'test', '--live', '--pattern', JSON.stringify(LARGE), '--event', JSON.stringify(EVENT));
    expect(code).toBe(1);
    expect(err).toEqual(['error: EventBridge answered TestEventPattern without a Result']);
  });
});

interface RoutesJson {
  input: string;
  event: Record<string, unknown> & { detail: Record<string, unknown> };
  routes: { name: string; targets: { name: string; kind: string; to: string }[]; acceptsReplays: boolean; matched: boolean; failure?: { path: string; reason: string } }[];
}

async function routesJson(...argv: string[]): Promise<RoutesJson> {
  const { code, out, err } = await run('routes', 'test', ...argv, '--json');
  expect(err).toEqual([]);
  expect(code).toBe(0);
  return JSON.parse(out.join('\n')) as RoutesJson;
}

describe('routes test', () => {
  it('a raw Fast.io payload: normalized as the ingest does, matched route and the others\' first failing field', async () => {
    const { code, out, err } = await run('routes', 'test', payload('large-video-uploaded.json'));
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toBe('event    file.uploaded from "fastio" (raw Fast.io payload, normalized as the ingest does)');
    expect(out[1]).toMatch(/^detail   \{.*"extension":"mp4","sizeBytes":524288000,"sizeMiB":500\} \(payload omitted\)$/);
    expect(out).toContain('large-media                workflow review                                              delivered  MATCH');
    expect(out).toContain('agent-activity             function agent-audit                                         delivered  no match');
    expect(out).toContain('    at detail.agentId: field is missing');
    expect(out).toContain('untrusted-agent-deletions  workflow review                                              delivered  no match');
    expect(out).toContain('    at detail-type: value "file.uploaded" matches none of ["file.deleted"]');
    expect(out).toContain('    at detail.sizeMiB: value 500 matches none of [{"numeric":["<",100]}]');
    expect(out.at(-1)).toBe(`1 of ${routeTable.length} routes match: large-media`);
  });

  it('--json for a raw payload: the event the rules see and each route with its failure', async () => {
    const result = await routesJson(payload('agent-file-created.json'));
    expect(result.input).toBe('fastio-payload');
    expect(result.event).toMatchObject({ version: '0', 'detail-type': 'file.created', source: 'fastio', resources: [] });
    expect(result.event.detail).toMatchObject({ agentId: 'agt_3e7b1d9f05', extension: 'csv', sizeBytes: 48213 });
    expect(result.routes.map((route) => route.name)).toEqual(routeTable.map((route) => route.name));
    expect(result.routes).toEqual(expect.arrayContaining([
      { name: 'documents', targets: [{ name: 'queue', kind: 'queue', to: 'queue catalog-consumer' }], acceptsReplays: true, matched: true },
      {
        name: 'large-media',
        targets: [{ name: 'workflow', kind: 'workflow', to: 'workflow review' }],
        acceptsReplays: true,
        matched: false,
        failure: { path: 'detail.extension', reason: expect.stringMatching(/^value "csv" matches none of \["mp4",/) },
      },
      { name: 'agent-activity', targets: [{ name: 'function', kind: 'function', to: 'function agent-audit' }], acceptsReplays: true, matched: true },
      {
        name: 'untrusted-agent-deletions',
        targets: [{ name: 'workflow', kind: 'workflow', to: 'workflow review' }],
        acceptsReplays: true,
        matched: false,
        failure: { path: 'detail-type', reason: 'value "file.created" matches none of ["file.deleted"]' },
      },
      {
        name: 'video-uploads',
        targets: [
          { name: 'catalog', kind: 'queue', to: 'queue catalog-consumer' },
          { name: 'slack', kind: 'http', to: 'http POST <config slackWebhookUrl>' },
        ],
        acceptsReplays: true,
        matched: false,
        failure: { path: 'detail-type', reason: 'value "file.created" matches none of ["file.uploaded"]' },
      },
    ]));
  });

  it('a full event is taken as it is, missing envelope fields filled in', async () => {
    const path = file('deleted-event.json', { 'detail-type': 'file.deleted', source: 'fastio', detail: { fileId: 'f-1', extension: 'pdf', agentId: 'agent-7' } });
    const result = await routesJson(path);
    expect(result.input).toBe('event');
    expect(result.event.detail).toEqual({ fileId: 'f-1', extension: 'pdf', agentId: 'agent-7' });
    expect(result.event).toMatchObject({ id: expect.any(String), account: '123456789012', region: 'us-east-1' });
    expect(result.routes.filter((route) => route.matched).map((route) => route.name)).toEqual(['documents', 'agent-activity', 'untrusted-agent-deletions']);

    const { out } = await run('routes', 'test', path);
    expect(out[0]).toBe('event    file.deleted from "fastio" (event)');
    expect(out).toContain('filled   version, id, account, time, region, resources (placeholders for what EventBridge sets)');
  });

  it('a full event from another source matches nothing, and says why', async () => {
    const path = file('other-source.json', { ...EVENT, source: 'acme' });
    const result = await routesJson(path);
    expect(result.routes.filter((route) => route.matched)).toEqual([]);
    const failures = Object.fromEntries(result.routes.map((route) => [route.name, route.failure]));
    expect(failures['agent-activity']).toEqual({ path: 'source', reason: 'value "acme" matches none of ["fastio"]' });
    expect(failures['large-media']).toEqual({ path: 'source', reason: 'value "acme" matches none of ["fastio"]' });
  });

  it('--replay-name simulates a replay: untrusted-agent-deletions receives it like the live event', async () => {
    const path = file('untrusted-deletion.json', { 'detail-type': 'file.deleted', detail: { fileId: 'f-1', extension: 'pdf', agentId: 'agent-7' } });
    const result = await routesJson(path, '--replay-name', 'recovery-2026-01-01');
    expect(result.event['replay-name']).toBe('recovery-2026-01-01');
    const review = result.routes.find((route) => route.name === 'untrusted-agent-deletions');
    expect(review).toEqual({ name: 'untrusted-agent-deletions', targets: [{ name: 'workflow', kind: 'workflow', to: 'workflow review' }], acceptsReplays: true, matched: true });
    expect(result.routes.filter((route) => route.matched).map((route) => route.name)).toEqual(['documents', 'agent-activity', 'untrusted-agent-deletions']);

    const { out } = await run('routes', 'test', path, '--replay-name', 'recovery-2026-01-01');
    expect(out).toContain('replay   simulated replay, replay-name "recovery-2026-01-01"');
  });

  it('--replay-name on a raw payload, deleted by an untrusted agent', async () => {
    const raw = JSON.parse(readFileSync(payload('file-deleted.json'), 'utf8')) as Record<string, unknown>;
    const path = file('deleted-by-agent.json', { ...raw, agent_id: 'agt_unknown' });
    const live = await routesJson(path);
    expect(live.routes.find((route) => route.name === 'untrusted-agent-deletions')?.matched).toBe(true);
    const replayed = await routesJson(path, '--replay-name', 'r1');
    expect(replayed.routes.find((route) => route.name === 'untrusted-agent-deletions')?.matched).toBe(true);
  });

  it('exit 0 when nothing matches', async () => {
    const { code, out } = await run('routes', 'test', payload('image-small.json'));
    expect(code).toBe(0);
    expect(out.at(-1)).toBe('no route matches: the event stays on the bus (and in the archive) only');
  });

  it('a payload the ingest would quarantine is shown as such', async () => {
    const path = file('no-type.json', { resource: { name: 'a.pdf' } });
    const { code, out } = await run('routes', 'test', path);
    expect(code).toBe(0);
    expect(out[0]).toBe('event    fastio.quarantined from "fastio" (raw Fast.io payload, normalized as the ingest does)');
    expect(out[2]).toMatch(/^note     the ingest would quarantine this payload \(reason: no-event-type\)/);
  });

  it.each([
    ['a missing file', () => '/nonexistent/event.json', /^error: cannot read file \/nonexistent\/event\.json \(ENOENT\)$/],
    ['a directory', () => FIXTURES_DIR, /^error: cannot read file .* \(EISDIR\)$/],
    ['not JSON', () => file('not-json.txt', 'hello'), /^error: .*not-json\.txt is not valid JSON \(/],
    ['not UTF-8', () => file('latin1.json', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d])), /^error: .*latin1\.json is not UTF-8 text$/],
    ['a JSON array', () => file('array.json', '[]'), /must hold a JSON object \(an EventBridge event or a Fast\.io payload\), got an array$/],
    ['an event whose detail is not an object', () => file('bad-detail.json', { 'detail-type': 'x', detail: 'y' }), /: "detail" must be a JSON object, got a string$/],
    ['an event whose detail-type is not a string', () => file('bad-type.json', { 'detail-type': 7, detail: {} }), /: "detail-type" must be a non-empty string$/],
  ])('%s exits 2 with one line', async (_case, path, message) => {
    const { code, out, err } = await run('routes', 'test', path());
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it.each([
    [['routes', 'test', payload('file-deleted.json'), '--replay-name', 'has space'], /--replay-name "has space" is invalid/],
    [['routes', 'test', payload('file-deleted.json'), '--replay-name', 'x'.repeat(65)], /--replay-name "x+" is invalid/],
    [['routes', 'test'], /^error: usage: npm run -s ops -- routes test /],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err[0]).toMatch(message);
  });

  it('is registered under "routes test"', () => {
    expect(routesTestCommand.path).toEqual(['routes', 'test']);
  });

  it.each([
    ['a consumer folder that does not exist', { targets: [{ kind: 'queue', consumer: 'no-such-consumer-folder' }] }, 'no-such-consumer-folder'],
    ['an invalid pattern', { pattern: { source: 'fastio' } }, 'the route table is invalid'],
  ])('GIVEN a table with %s WHEN routes test runs THEN one line and exit 2, before any matching', async (_name, change, says) => {
    const shipped = routeTable[0];
    if (shipped === undefined) throw new Error('the route table is empty');
    const table = [{ ...shipped, ...change } as (typeof routeTable)[number]];
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli([createRoutesTestCommand(table)], ['routes', 'test', payload('large-video-uploaded.json')], { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('error: the route table is invalid, fix lib/route-table.ts first');
    expect(err[0]).toContain(says);
  });
});
