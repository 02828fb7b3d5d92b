import { routeTable } from '../../lib/route-table';
import { StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { causalOrder, createTraceCommand, type StoryEntry } from '../../lib/ops/trace-command';
import { ATHENA_DEADLINE_MS } from '../../lib/ops/recorder-aws-sources';
import { capture, fakeRuntime, queueUrl, type FakeRuntime } from './support';
import { busEvent, completeOnTarget, deadLetterMessage, fakeDeployment, type FakeDeployment } from './recorder-support';

/** The four single-target routes these fixtures were written for (video-uploads fans out to a target the fixtures do not deploy). */
const SINGLE_TARGET_ROUTES = routeTable.filter((route) => route.name !== 'video-uploads');

let fake: FakeRuntime;
let deployment: FakeDeployment;

const run = async (...argv: string[]) => {
  const captured = capture();
  const code = await runCli([createTraceCommand(fake.runtime, SINGLE_TARGET_ROUTES)], argv, captured.io);
  return { code, out: captured.out, err: captured.err, stdout: captured.stdout(), stderr: captured.stderr() };
};

const agentPdf = (extra: Record<string, unknown> = {}) =>
  busEvent('evt-7', { extension: 'pdf', sizeBytes: 2048, agentId: 'agent-7', ...extra }, { 'detail-type': 'file.created' });

beforeEach(() => {
  fake = fakeRuntime();
  deployment = fakeDeployment();
});
afterEach(() => deployment.restore());

describe('ops trace', () => {
  it("shows where one event went: each copy received, every matched route's targets completed or dead-lettered and why, the replays, and why the other routes did not match", async () => {
    const bodyRef = { bucket: 'dev-fastio-bodies', key: 'bodies/ab12', sizeBytes: 400_000, sha256: 'ab12' };
    deployment.recorded.push(
      agentPdf({ bodyRef, payload: undefined }),
      { ...agentPdf({ bodyRef }), id: 'eb-evt-7-resent', time: '2026-11-22T10:30:02Z' },
      { ...agentPdf({ bodyRef }), id: 'eb-evt-7-replayed', 'replay-name': 'recovery-1' },
      busEvent('evt-8', { extension: 'pdf' }),
    );
    completeOnTarget(deployment.items, 'documents', 'queue', 'evt-7', new Date('2026-11-22T10:30:05Z'));
    deployment.queues.set(queueUrl('agent-activity', 'function', 'target-dlq'), [
      deadLetterMessage('m-1', agentPdf(), { ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'Unable to invoke Lambda function: Rate Exceeded' }),
    ]);
    const { code, out } = await run('trace', 'evt-7');
    expect(code).toBe(0);
    expect(out).toEqual([
      'event evt-7 (searched 2026-11-21T12:00:00.000Z .. 2026-11-22T12:00:00.000Z)',
      'received  2026-11-22T10:30:00Z  original  file.created  2.0 KiB  not quarantined  body in the claim-check store (s3://dev-fastio-bodies/bodies/ab12)  (EventBridge id eb-evt-7)',
      'received  2026-11-22T10:30:00Z  replay recovery-1  (EventBridge id eb-evt-7-replayed)',
      'received  2026-11-22T10:30:02Z  Fast.io resend  (EventBridge id eb-evt-7-resent)',
      'route documents matched (covered by replays: recovery-1)',
      '  queue (queue catalog-consumer)',
      `    status: completed 2026-11-22T10:30:05.000Z, attempt not recorded [${[...deployment.items.keys()][0] ?? ''}]`,
      'route agent-activity matched (covered by replays: recovery-1)',
      '  function (function agent-audit)',
      '    2026-11-22T10:45:00.000Z  dead-lettered in agent-activity/function/target-dlq (received once): SDK_CLIENT_ERROR: Unable to invoke Lambda function: Rate Exceeded',
      '    status: dead-lettered',
      // Every route it did not match, with the first field that failed (as `routes test` explains it)
      expect.stringMatching(/^route large-media not matched: detail\.extension: value "pdf" matches none of \["mp4",/),
      'route untrusted-agent-deletions not matched: detail-type: value "file.created" matches none of ["file.deleted"]',
    ]);
    // Read, never removed.
    expect(deployment.queues.get(queueUrl('agent-activity', 'function', 'target-dlq'))).toHaveLength(1);
  });

  it('passes the event id as an execution parameter and scans the partitions from 15 minutes before --from up to now', async () => {
    deployment.recorded.push(agentPdf());
    await run('trace', "evt-7'OR'1'='1", '--from', '2026-11-22T08:00:00Z');
    const start = deployment.mocks.athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start?.ExecutionParameters).toEqual(["'2026-11-22'", "'2026-11-22'", "'2026-11-22'", '7', "'2026-11-22'", '12', "'2026-11-22T08:00:00Z'", "'2026-11-22T12:00:00Z'", "'evt-7''OR''1''=''1'"]);
    expect(start?.QueryString).not.toContain('evt-7');
  });

  it('--json gives the whole journey', async () => {
    deployment.recorded.push(busEvent('evt-9', { extension: 'pdf' }));
    const { code, stdout } = await run('trace', 'evt-9', '--json');
    expect(code).toBe(0);
    // Recorded 90 minutes ago, with no record yet: within the queue target's retry horizon.
    expect(JSON.parse(stdout)).toMatchObject({ fastioEventId: 'evt-9', routes: [{ route: 'documents', targets: [{ target: 'queue', status: 'pending', deadLetters: [] }] }] });
  });

  it('an event the recorder does not hold in the window is one line and exit 1', async () => {
    const { code, err } = await run('trace', 'evt-unknown');
    expect(code).toBe(1);
    expect(err).toEqual(['error: event evt-unknown is not in the flight recorder between 2026-11-21T12:00:00.000Z and 2026-11-22T12:00:00.000Z (widen --from/--to?)']);
  });

  it('a query that FAILS is one line and exit 1', async () => {
    deployment.queryState = { state: 'FAILED', reason: 'Access denied when writing output to url: s3://x' };
    const { code, err } = await run('trace', 'evt-7');
    expect({ code, err }).toEqual({ code: 1, err: ['error: recorder query q-1 FAILED: Access denied when writing output to url: s3://x'] });
  });

  it('a query that times out is one line and exit 1', async () => {
    deployment.queryState = { state: 'RUNNING' };
    const started = fake.now();
    const { code, err } = await run('trace', 'evt-7');
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^error: recorder query q-1 still RUNNING after 300 s: gave up/);
    expect(fake.now() - started).toBe(ATHENA_DEADLINE_MS);
  });

  it.each([
    [['trace'], 'usage: npm run -s ops -- trace <fastio-event-id>'],
    [['trace', 'evt 7'], '"evt 7" is not a Fast.io event id'],
    [['trace', 'evt-7', '--from', 'soon'], '--from "soon" is not a time'],
    [['trace', 'evt-7', '--to', '2030-01-01T00:00:00Z'], 'is in the future'],
    [['trace', 'evt-7', '--local', '--region', 'eu-west-1'], '--region does not apply with --local'],
  ])('bad input %j is one line and exit 2', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(message);
    expect(deployment.mocks.athena.calls()).toHaveLength(0);
  });

  it("puts a buffer dead letter after the delivery record that queued it, though its SentTimestamp is a millisecond earlier", () => {
    // GIVEN SQS keeps the source queue's SentTimestamp, and the bus log is written after the send returned
    const deliveredAt = '2026-12-07T23:05:19.173Z';
    const entries: StoryEntry[] = [
      { kind: 'recovery', at: '2026-12-07T23:05:33.993Z', text: 'redriven from documents/queue/buffer-dlq by root: delivered' },
      { kind: 'dead-letter', at: '2026-12-07T23:05:19.172Z', text: 'dead-lettered in documents/queue/buffer-dlq: the consumer failed it' },
      { kind: 'delivery', at: deliveredAt, text: 'EventBridge: delivered (attempt 1): SUCCESS' },
    ];
    // WHEN
    const story = causalOrder(entries).map((entry) => entry.text.split(' ')[0]);
    // THEN
    expect(story).toEqual(['EventBridge:', 'dead-lettered', 'redriven']);
  });

  it('keeps a delivery record more than a second after a dead letter after it (a later copy, not the one that queued it)', () => {
    const story = causalOrder([
      { kind: 'delivery', at: '2026-12-07T23:06:00.000Z', text: 'EventBridge: delivered (attempt 1): SUCCESS' },
      { kind: 'dead-letter', at: '2026-12-07T23:05:19.172Z', text: 'dead-lettered in documents/queue/buffer-dlq: the consumer failed it' },
    ]).map((entry) => entry.text.split(' ')[0]);
    expect(story).toEqual(['dead-lettered', 'EventBridge:']);
  });

  it('keeps a target dead letter before a recovery less than a second later (only delivery records move it)', () => {
    const story = causalOrder([
      { kind: 'recovery', at: '2026-12-07T23:48:48.069Z', text: 'redriven from pdf-hook/hook/target-dlq by root: delivered' },
      { kind: 'dead-letter', at: '2026-12-07T23:48:47.991Z', text: 'dead-lettered in pdf-hook/hook/target-dlq: HTTP_503' },
      { kind: 'delivery', at: '2026-12-07T23:48:47.990Z', text: 'EventBridge: gave up, sent to the dead-letter queue (attempt 9)' },
    ]).map((entry) => entry.text.split(' ')[0]);
    expect(story).toEqual(['EventBridge:', 'dead-lettered', 'redriven']);
  });
});
