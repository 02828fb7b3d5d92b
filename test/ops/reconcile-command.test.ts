import { routeTable } from '../../lib/route-table';
import { GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createReconcileCommand } from '../../lib/ops/reconcile-command';
import { ATHENA_DEADLINE_MS, awsRecorderSources } from '../../lib/ops/recorder-aws-sources';
import { reconcile } from '../../lib/recorder/reconcile';
import { trackedTargets } from '../../lib/recorder/sources';
import type { Route } from '../../lib/domain/route-types';
import { mockClient } from 'aws-sdk-client-mock';
import { StatefulOutput } from '../../lib/stack-outputs';
import { capture, fakeRuntime, functionArn, queueUrl, stack, stateMachineArn, type FakeRuntime } from './support';

/** Past every target's retry horizon for the window's events (the longest, a function's, is 3 h 15 min). */
const SETTLED_NOW = new Date('2026-11-22T16:00:00.000Z');
import {
  busEvent,
  busLogRecord,
  completeOnTarget,
  completeReview,
  deadLetterMessage,
  fakeDeployment,
  recorderStatefulOutputs,
  RECORDER_DLQ_URL,
  RECORDER_STREAM,
  withDeliveryOutputs,
  WORKGROUP,
  type FakeDeployment,
} from './recorder-support';

/**
 * The four single-target routes these fixtures were written for (video-uploads fans out to a target the
 * fixtures do not deploy), named so a route added to the table leaves these counts as they are.
 */
const FIXTURE_ROUTES = ['documents', 'large-media', 'agent-activity', 'untrusted-agent-deletions'];
const SINGLE_TARGET_ROUTES = routeTable.filter((route) => FIXTURE_ROUTES.includes(route.name));

let fake: FakeRuntime;
let deployment: FakeDeployment;

const run = async (...argv: string[]) => {
  const captured = capture();
  const code = await runCli([createReconcileCommand(fake.runtime, SINGLE_TARGET_ROUTES)], argv, captured.io);
  return { code, out: captured.out, err: captured.err, stdout: captured.stdout(), stderr: captured.stderr() };
};

const WINDOW = ['--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z'];
const pdf = (id: string, extra: Record<string, unknown> = {}) => busEvent(id, { extension: 'pdf', sizeBytes: 2048, ...extra });
const media = (id: string) => busEvent(id, { extension: 'mp4', sizeBytes: 524_288_000, sizeMiB: 500 });

/**
 * Across the four routes: completed, missing and dead-lettered events, a Fast.io resend, a replay
 * copy, an event on two routes, and one no route matches.
 */
function incident(): void {
  deployment.recorded.push(
    pdf('doc-1'),
    pdf('doc-2'),
    pdf('doc-3'),
    { ...pdf('doc-3'), id: 'eb-doc-3-resent', time: '2026-11-22T10:30:04Z' },
    pdf('doc-4'),
    { ...pdf('doc-1'), id: 'eb-doc-1-replayed', 'replay-name': 'recovery-1' },
    media('media-1'),
    media('media-2'),
    busEvent('agent-1', { extension: 'pdf', agentId: 'agent-7' }, { 'detail-type': 'file.created' }),
    busEvent('del-1', { agentId: 'agent-7', eventType: 'file.deleted' }, { 'detail-type': 'file.deleted' }),
    busEvent('png-1', { extension: 'png', sizeBytes: 10 }),
    // Outside the window: not reconciled.
    { ...pdf('doc-late'), time: '2026-11-22T11:30:00Z' },
  );
  const items = deployment.items;
  for (const id of ['doc-1', 'doc-3', 'agent-1']) completeOnTarget(items, 'documents', 'queue', id);
  completeOnTarget(items, 'agent-activity', 'function', 'del-1');
  completeReview(items, 'large-media', 'media-1');
  completeReview(items, 'untrusted-agent-deletions', 'del-1');
  deployment.queues.set(queueUrl('documents', 'queue', 'buffer-dlq'), [deadLetterMessage('m-doc-4', pdf('doc-4'))]);
  deployment.queues.set(queueUrl('agent-activity', 'function', 'on-failure'), [
    deadLetterMessage('m-agent-1', {
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      responsePayload: { errorType: 'ProvisionedThroughputExceededException', errorMessage: 'audit table throttled' },
      requestPayload: busEvent('agent-1', { extension: 'pdf', agentId: 'agent-7' }, { 'detail-type': 'file.created' }),
    }),
  ]);
}

beforeEach(() => {
  fake = fakeRuntime(SETTLED_NOW);
  deployment = fakeDeployment();
});
afterEach(() => deployment.restore());

describe('ops reconcile', () => {
  it('counts each route and target exactly, a resend and a replay copy once, and exits 1', async () => {
    incident();
    const { code, stdout, stderr } = await run('reconcile', ...WINDOW, '--json');
    const report = JSON.parse(stdout) as { events: number; recorded: number; resends: number; replayCopies: number; routes: { route: string; events: number; targets: { target: string; counts: Record<string, number>; missing: string[]; deadLettered: { fastioEventId: string; queue: string; reason: string }[] }[] }[] };
    expect(code).toBe(1);
    expect({ events: report.events, recorded: report.recorded, resends: report.resends, replayCopies: report.replayCopies }).toEqual({ events: 9, recorded: 11, resends: 1, replayCopies: 1 });
    const counts = Object.fromEntries(report.routes.flatMap((route) => route.targets.map((target) => [`${route.route}/${target.target}`, { events: route.events, ...target.counts }])));
    expect(counts).toEqual({
      'documents/queue': { events: 5, completed: 3, confirmed: 0, 'dead-lettered': 1, pending: 0, missing: 1, unconfirmed: 0, unverifiable: 0 },
      'large-media/workflow': { events: 2, completed: 1, confirmed: 0, 'dead-lettered': 0, pending: 0, missing: 1, unconfirmed: 0, unverifiable: 0 },
      'agent-activity/function': { events: 2, completed: 1, confirmed: 0, 'dead-lettered': 1, pending: 0, missing: 0, unconfirmed: 0, unverifiable: 0 },
      'untrusted-agent-deletions/workflow': { events: 1, completed: 1, confirmed: 0, 'dead-lettered': 0, pending: 0, missing: 0, unconfirmed: 0, unverifiable: 0 },
    });
    const targets = report.routes.flatMap((route) => route.targets.map((target) => ({ route: route.route, ...target })));
    expect(targets.flatMap((target) => target.missing.map((id) => `${target.route}/${target.target} ${id}`))).toEqual(['documents/queue doc-2', 'large-media/workflow media-2']);
    expect(targets.flatMap((target) => target.deadLettered)).toEqual([
      { fastioEventId: 'doc-4', queue: 'documents/queue/buffer-dlq', reason: expect.stringContaining('the consumer failed it') },
      { fastioEventId: 'agent-1', queue: 'agent-activity/function/on-failure', reason: 'ProvisionedThroughputExceededException: audit table throttled' },
    ]);
    expect(stderr).toContain('error: 2 missing and 2 dead-lettered deliveries');
  });

  it('prints a summary per route and target, lists what is missing and dead-lettered, and leaves every dead letter in place', async () => {
    incident();
    const { code, out, err } = await run('reconcile', ...WINDOW);
    expect(code).toBe(1);
    expect(out[1]).toMatch(/^ROUTE\/TARGET +EVENTS +COMPLETED +CONFIRMED +DEAD-LETTERED +PENDING +MISSING +UNCONFIRMED +UNVERIFIABLE$/);
    expect(out[2]).toMatch(/^documents\/queue +5 +3 +0 +1 +0 +1 +0 +0$/);
    // Not a terminal: one summary line of what was read, no progress bars.
    expect(err.filter((line) => line.startsWith('reconcile '))).toEqual([expect.stringMatching(/^reconcile read .*completions 4\/4/)]);
    expect(err.some((line) => line.includes('['))).toBe(false);
    expect(out).toContain('  documents/queue  doc-2');
    expect(out).toContain('  documents/queue  doc-4  in documents/queue/buffer-dlq: the consumer failed it 5 times (see the consumer\'s logs for the error)');
    expect(deployment.queues.get(queueUrl('documents', 'queue', 'buffer-dlq'))).toHaveLength(1);
    expect(deployment.queues.get(queueUrl('agent-activity', 'function', 'on-failure'))).toHaveLength(1);
    expect(deployment.deliveries).toEqual([]);
  });

  it('exits 0 when every event completed', async () => {
    deployment.recorded.push(pdf('doc-1'), media('media-1'));
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-1');
    completeReview(deployment.items, 'large-media', 'media-1');
    const { code, stderr } = await run('reconcile', ...WINDOW);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining('error') });
  });

  it('checks only the routes named with --route', async () => {
    incident();
    const { code, stdout } = await run('reconcile', ...WINDOW, '--route', 'untrusted-agent-deletions', '--json');
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { routes: { route: string }[] }).routes.map((route) => route.route)).toEqual(['untrusted-agent-deletions']);
  });

  it('queries the recorder workgroup with the window partitions and times as parameters, never in the SQL', async () => {
    await run('reconcile', ...WINDOW);
    const start = deployment.mocks.athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start?.WorkGroup).toBe(WORKGROUP);
    // Partitions from 15 minutes (Firehose's largest buffer) before the window to its end plus the arrival lag (2h15m): 09:45 .. 13:15.
    expect(start?.ExecutionParameters).toEqual(["'2026-11-22'", "'2026-11-22'", "'2026-11-22'", '9', "'2026-11-22'", '13', "'2026-11-22T10:00:00Z'", "'2026-11-22T11:00:00Z'"]);
    expect(start?.QueryString).not.toContain('2026');
  });

  it('reads the previous day\'s last hour for a window starting just after midnight, and filters by the events\' own time', async () => {
    // GIVEN an event of 00:02 that Firehose buffered with one of 23:55: its object is under dt=2026-11-21/hour=23
    deployment.recorded.push({ ...pdf('doc-midnight'), time: '2026-11-22T00:02:00Z' }, { ...pdf('doc-before'), time: '2026-11-21T23:55:00Z' });
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-midnight');
    // WHEN
    const { stdout } = await run('reconcile', '--from', '2026-11-22T00:00:00Z', '--to', '2026-11-22T01:00:00Z', '--route', 'documents', '--json');
    // THEN the scan starts at 23:00 of the day before, and only the window's event is reconciled
    const start = deployment.mocks.athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start?.ExecutionParameters?.slice(0, 4)).toEqual(["'2026-11-21'", "'2026-11-22'", "'2026-11-21'", '23']);
    expect((JSON.parse(stdout) as { events: number }).events).toBe(1);
  });

  it('--recover with the shipped table leaves out the slack target its config left undeployed, and reaches no output it lacks', async () => {
    // GIVEN the shipped table, whose video-uploads/slack target takes its URL from config, and a deployment without it
    incident();
    const captured = capture();
    // WHEN
    const code = await runCli([createReconcileCommand(fake.runtime, routeTable)], [...['reconcile', ...WINDOW], '--recover'], captured.io);
    // THEN the slack target is named as not deployed and nothing asks for its outputs
    expect(captured.stdout()).toContain('not deployed (their config was not set), not checked: video-uploads/slack');
    expect(captured.stderr()).not.toContain('has no output');
    expect(captured.stderr()).toContain('recover: redrove 2 dead letters');
    expect([0, 1]).toContain(code);
  });

  it('--recover redrives the dead letters and re-delivers the missing events to their target alone, then is clean', async () => {
    incident();
    const { code, stdout, stderr } = await run('reconcile', ...WINDOW, '--recover', '--json');
    expect(stderr).toContain('recover: redrove 2 dead letters, re-delivered 2 missing events');
    expect(code).toBe(0);
    expect(deployment.deliveries.sort()).toEqual(
      [`${queueUrl('documents', 'queue', 'buffer')} doc-4`, `${functionArn('agent-activity', 'function')} agent-1`, `${queueUrl('documents', 'queue', 'buffer')} doc-2`, `${stateMachineArn('large-media', 'workflow')} media-2`].sort(),
    );
    expect(deployment.queues.get(queueUrl('documents', 'queue', 'buffer-dlq'))).toEqual([]);
    expect(deployment.queues.get(queueUrl('agent-activity', 'function', 'on-failure'))).toEqual([]);
    const result = JSON.parse(stdout) as { after: { clean: boolean; missing: number; deadLettered: number } };
    expect(result.after).toMatchObject({ clean: true, missing: 0, deadLettered: 0 });
  });

  it('--recover re-delivers the event exactly as recorded, verbatim payload included', async () => {
    deployment.recorded.push(pdf('doc-2', { payload: { event_id: 'doc-2', note: 'verbatim' } }));
    const sent: string[] = [];
    deployment.mocks.sqs.on((await import('@aws-sdk/client-sqs')).SendMessageCommand).callsFake((input: { MessageBody: string }) => {
      sent.push(input.MessageBody);
      completeOnTarget(deployment.items, 'documents', 'queue', 'doc-2');
      return {};
    });
    const { code } = await run('reconcile', ...WINDOW, '--recover');
    expect(code).toBe(0);
    expect(sent.map((body) => JSON.parse(body) as unknown)).toEqual([pdf('doc-2', { payload: { event_id: 'doc-2', note: 'verbatim' } })]);
  });

  it('--recover exits 1 with the final counts when a target still fails', async () => {
    incident();
    deployment.stillFailing.add(stateMachineArn('large-media', 'workflow'));
    const { code, stdout, stderr } = await run('reconcile', ...WINDOW, '--recover');
    expect(code).toBe(1);
    expect(stdout).toContain('after recovery:');
    expect(stderr).toContain('error: 1 missing and 0 dead-lettered deliveries');
    // Delivered once, not again on every later pass.
    expect(deployment.deliveries.filter((delivery) => delivery.endsWith('media-2'))).toHaveLength(1);
  });

  it('a query that FAILS is one line and exit 1', async () => {
    deployment.queryState = { state: 'FAILED', reason: 'HIVE_BAD_DATA: Error parsing field value' };
    const { code, err } = await run('reconcile', ...WINDOW);
    expect(code).toBe(1);
    expect(err.filter((line) => line.startsWith('error'))).toEqual(['error: recorder query q-1 FAILED: HIVE_BAD_DATA: Error parsing field value']);
  });

  it('a query that does not finish in time is one line and exit 1', async () => {
    deployment.queryState = { state: 'RUNNING' };
    const { code, err } = await run('reconcile', ...WINDOW);
    expect(code).toBe(1);
    expect(err.filter((line) => line.startsWith('error'))).toEqual([`error: recorder query q-1 still RUNNING after ${ATHENA_DEADLINE_MS / 1000} s: gave up (Athena may still finish it; narrow the window or try again)`]);
    expect(deployment.mocks.athena.commandCalls(GetQueryExecutionCommand).length).toBeGreaterThan(100);
  });

  it.each([
    [['reconcile', '--to', 'now'], '--from is required'],
    [['reconcile', '--from', '-2h'], '--to is required'],
    [['reconcile', '--from', 'yesterday', '--to', 'now'], '--from "yesterday" is not a time'],
    [['reconcile', '--from', 'now', '--to', '-1h'], 'must be before --to'],
    [['reconcile', ...WINDOW, '--route', 'nope'], 'unknown route "nope"'],
    [['reconcile', ...WINDOW, '--stage', 'Bad!'], '--stage "Bad!" is invalid'],
    [['reconcile', ...WINDOW, '--local', '--stage', 'dev'], '--stage does not apply with --local'],
    [['reconcile', ...WINDOW, '--bogus'], "Unknown option '--bogus'"],
  ])('bad input %j is one line and exit 2, with no AWS call', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain(message);
    expect(deployment.mocks.athena.calls()).toHaveLength(0);
  });
});

describe('ops reconcile: evidence, nothing read past', () => {
  it('--recover finds the wanted dead letter behind 30 stale letters of completed events, and leaves those in place', async () => {
    // GIVEN 30 stale letters of completed events ahead of the one wanted
    const stale = Array.from({ length: 30 }, (_, index) => `doc-stale-${index}`);
    deployment.recorded.push(pdf('doc-wanted'), ...stale.map((id) => pdf(id)));
    for (const id of stale) completeOnTarget(deployment.items, 'documents', 'queue', id);
    deployment.queues.set(queueUrl('documents', 'queue', 'buffer-dlq'), [...stale.map((id) => deadLetterMessage(`m-${id}`, pdf(id))), deadLetterMessage('m-wanted', pdf('doc-wanted'))]);
    // WHEN
    const { code, stderr } = await run('reconcile', ...WINDOW, '--route', 'documents', '--recover');
    // THEN it is redriven (and completes), the stale ones stay, visible
    expect(stderr).toContain('recover: redrove 1 dead letter,');
    expect(code).toBe(0);
    expect(deployment.deliveries).toEqual([`${queueUrl('documents', 'queue', 'buffer')} doc-wanted`]);
    expect(deployment.queues.get(queueUrl('documents', 'queue', 'buffer-dlq'))?.map((message) => message.MessageId)).toEqual(stale.map((id) => `m-${id}`));
  });

  it('reads every letter of a queue holding more than one batch, so a letter after 10 stale ones is dead-lettered, not missing', async () => {
    const stale = Array.from({ length: 12 }, (_, index) => `doc-stale-${index}`);
    deployment.recorded.push(pdf('doc-wanted'));
    deployment.queues.set(queueUrl('documents', 'queue', 'buffer-dlq'), [...stale.map((id) => deadLetterMessage(`m-${id}`, pdf(id))), deadLetterMessage('m-wanted', pdf('doc-wanted'))]);
    const { stdout } = await run('reconcile', ...WINDOW, '--route', 'documents', '--json');
    const report = JSON.parse(stdout) as { routes: { targets: { counts: Record<string, number> }[] }[] };
    expect(report.routes[0]?.targets[0]?.counts).toMatchObject({ 'dead-lettered': 1, missing: 0 });
  });

  it('an event without a record is pending, not missing (exit 3), while a DLQ of its target has messages in flight', async () => {
    // GIVEN someone peeking the buffer DLQ: one message hidden from this read
    deployment.recorded.push(pdf('doc-2'));
    deployment.inFlight.set(queueUrl('documents', 'queue', 'buffer-dlq'), 1);
    // WHEN
    const { code, stdout, stderr } = await run('reconcile', ...WINDOW, '--route', 'documents');
    // THEN
    expect(code).toBe(3);
    expect(stdout).toContain('  documents/queue  doc-2  1 message(s) of documents/queue/buffer-dlq in flight while read');
    expect(stderr).toContain('not yet: 1 pending and 0 unconfirmed deliveries');
    expect(stderr).toContain('run it again after ');
  });

  it("joins the recorder DLQ's events, says the recorder input was incomplete (exit 1), and --recover records them with PutRecord, never on the bus", async () => {
    // GIVEN an event EventBridge could not hand to Firehose: only the recorder DLQ has it
    const lost = pdf('doc-lost');
    deployment.queues.set(RECORDER_DLQ_URL, [deadLetterMessage('m-lost', lost)]);
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-lost');
    // WHEN
    const first = await run('reconcile', ...WINDOW, '--route', 'documents');
    // THEN
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('recorder input incomplete: the recorder DLQ holds 1 event EventBridge could not record; 1 of them in this window');
    expect(first.stdout).toMatch(/^documents\/queue +1 +1 /m);
    expect(first.stderr).toContain('the recorder input was incomplete (its DLQ is not empty)');
    // WHEN recovering
    const recovered = await run('reconcile', ...WINDOW, '--route', 'documents', '--recover');
    // THEN it is on the recorder stream exactly once, the DLQ is empty, and the run is clean
    expect(deployment.putRecords).toEqual([`${RECORDER_STREAM} ${JSON.stringify(lost)}`]);
    expect(deployment.queues.get(RECORDER_DLQ_URL)).toEqual([]);
    expect(deployment.deliveries).toEqual([]);
    expect(recovered.stderr).toContain('recorded 1 event of the recorder DLQ');
    expect(recovered.code).toBe(0);
  });
});

describe("ops reconcile at the recorder's buffer edge", () => {
  const DOCUMENTS = SINGLE_TARGET_ROUTES.filter((route) => route.name === 'documents');
  const runAt = async (now: string, ...argv: string[]) => {
    const captured = capture();
    const code = await runCli([createReconcileCommand(fakeRuntime(new Date(now)).runtime, DOCUMENTS)], argv, captured.io);
    return { code, stdout: captured.stdout(), stderr: captured.stderr() };
  };

  it('is not clean (exit 3) while the window ends within the stream\'s 60 s buffer, even with every recorded event completed', async () => {
    // GIVEN a completed event, and now 30 s after the window's end: Firehose may still hold what arrived since 10:59:30
    deployment.recorded.push(pdf('doc-1'));
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-1');
    // WHEN
    const { code, stdout, stderr } = await runAt('2026-11-22T11:00:30Z', 'reconcile', ...WINDOW);
    // THEN one line says so, and the rerun names the window as checked (a relative --to would move into the buffer again)
    expect(code).toBe(3);
    expect(stdout.split('\n').filter((line) => line.startsWith('recorder buffer:'))).toEqual([
      "recorder buffer: the recorder may not have written the window's last 30 s yet (it writes events up to 60 s after they arrive); not clean until 2026-11-22T11:01:00.000Z",
    ]);
    expect(stderr).toContain(
      'not yet: the recorder may not have written the last 30 s yet between 2026-11-22T10:00:00.000Z and 2026-11-22T11:00:00.000Z, nothing missing; run it again after 2026-11-22T11:01:00.000Z: npm run -s ops -- reconcile --from 2026-11-22T10:00:00.000Z --to 2026-11-22T11:00:00.000Z',
    );
  });

  it('--to now is never clean at once: the whole buffer interval of the window may be unwritten (--json carries it)', async () => {
    deployment.recorded.push(pdf('doc-1'));
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-1');
    const { code, stdout } = await runAt('2026-11-22T11:00:00Z', 'reconcile', '--from', '2026-11-22T10:00:00Z', '--to', 'now', '--json');
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: 'not-yet', clean: false, recorderBuffer: { unwrittenMs: 60_000, bufferMs: 60_000, writtenBy: '2026-11-22T11:01:00.000Z' } });
  });

  it('is clean (exit 0) once the buffer interval has passed since the window\'s end', async () => {
    deployment.recorded.push(pdf('doc-1'));
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-1');
    const { code, stdout } = await runAt('2026-11-22T11:01:00Z', 'reconcile', ...WINDOW);
    expect(code).toBe(0);
    expect(stdout).not.toContain('recorder buffer');
  });

  it("assumes Firehose's largest buffer (900 s) for a stack without the buffer output", async () => {
    // GIVEN a stateful stack deployed before it had the RecorderBufferSeconds output
    const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
    const cfn = mockClient(CloudFormationClient);
    cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-stateful' }).resolves(stack('dev-fastio-stateful', recorderStatefulOutputs.filter((output) => output.OutputKey !== StatefulOutput.recorderBufferSeconds)));
    cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', deployment.routingOutputs));
    deployment.recorded.push(pdf('doc-1'));
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-1');
    try {
      // WHEN 10 minutes after the window's end
      const { code, stdout } = await runAt('2026-11-22T11:10:00Z', 'reconcile', ...WINDOW, '--json');
      // THEN the last 5 minutes may be unwritten
      expect(code).toBe(3);
      expect(JSON.parse(stdout)).toMatchObject({ recorderBuffer: { unwrittenMs: 300_000, bufferMs: 900_000 } });
    } finally {
      cfn.restore();
    }
  });

  it('--recover waits out the buffer before its final count, so a recovered window ends clean', async () => {
    // GIVEN an event past its target's retry horizon with no record (missing), and now 10 s after the window's end
    deployment.recorded.push({ ...pdf('doc-2'), time: '2026-11-22T06:05:00Z' });
    const fake = fakeRuntime(new Date('2026-11-22T11:00:10Z'));
    const captured = capture();
    // WHEN
    const code = await runCli([createReconcileCommand(fake.runtime, DOCUMENTS)], ['reconcile', '--from', '2026-11-22T06:00:00Z', '--to', '2026-11-22T11:00:00Z', '--recover'], captured.io);
    // THEN it is re-delivered, and the final reconcile ran after the buffer had passed
    expect(deployment.deliveries).toEqual([`${queueUrl('documents', 'queue', 'buffer')} doc-2`]);
    expect(code).toBe(0);
    expect(fake.now()).toBeGreaterThanOrEqual(Date.parse('2026-11-22T11:01:00Z'));
    const [before, after] = captured.stdout().split('after recovery:');
    expect(before).toContain("recorder buffer: the recorder may not have written the window's last 50 s yet");
    expect(after).not.toContain('recorder buffer');
  });
});

describe('the bus-log source on AWS', () => {
  const HOOK: Route = {
    name: 'hook',
    description: 'an http target outside the project',
    pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'] },
    targets: [{ kind: 'http', name: 'receiver', url: 'https://hooks.example.com/x', authorization: { type: 'api-key', headerName: 'x-key', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k' } }],
    samples: { matching: [], notMatching: [] },
  };
  const settle = async (now: Date) => {
    deployment.routingOutputs = withDeliveryOutputs(deployment.routingOutputs, [{ route: 'hook', target: 'receiver' }]);
    const runtime = fakeRuntime(now).runtime;
    const sources = await awsRecorderSources(runtime, { stage: 'dev', region: 'eu-west-1', targets: trackedTargets(HOOK) });
    return reconcile({ from: new Date('2026-11-22T10:00:00Z'), to: new Date('2026-11-22T11:00:00Z') }, [HOOK], { ...sources, deployed: () => true }, { now });
  };

  it("confirms an http target's event by EventBridge's INVOCATION_SUCCESS record for its EventBridge id (exit 0)", async () => {
    deployment.recorded.push(pdf('doc-1'));
    deployment.busLogs.push(
      busLogRecord('eb-doc-1', 'hook', 'receiver', 'INVOCATION_ATTEMPT_RETRYABLE_FAILURE', '2026-11-22T10:30:01Z', { error_message: 'Service Unavailable', aws_service: 'ApiDestination', http_status_code: 503 }),
      busLogRecord('eb-doc-1', 'hook', 'receiver', 'INVOCATION_SUCCESS', '2026-11-22T10:31:00Z'),
    );
    const { report } = await settle(SETTLED_NOW);
    expect(report.routes[0]?.targets[0]?.counts).toMatchObject({ confirmed: 1, unconfirmed: 0, pending: 0 });
    expect(report.exitCode).toBe(0);
    const busQuery = deployment.queries.find((query) => query.sql.includes('"bus_logs"'));
    expect(busQuery?.sql).not.toContain('arn:aws');
    expect(busQuery?.parameters.slice(0, 2)).toEqual(["'2026/11/22/09'", "'2026/11/22/13'"]);
  });

  it('calls it unconfirmed past the horizon with no record at all (exit 3), and pending while young', async () => {
    deployment.recorded.push(pdf('doc-1'));
    const late = await settle(SETTLED_NOW);
    expect(late.report.routes[0]?.targets[0]?.unconfirmed).toEqual(['doc-1']);
    expect(late.report.exitCode).toBe(3);
    const young = await settle(new Date('2026-11-22T11:00:00Z'));
    expect(young.report.routes[0]?.targets[0]?.pending).toEqual([expect.objectContaining({ fastioEventId: 'doc-1', until: '2026-11-22T12:45:00.000Z' })]);
    expect(young.report.exitCode).toBe(3);
  });
});

describe('review guards on AWS', () => {
  // GIVEN a large-media event 52 days before now, its guard claimed a minute after it
  const OLD_WINDOW = ['--from', '2026-10-01T10:00:00Z', '--to', '2026-10-01T11:00:00Z', '--route', 'large-media', '--json'];
  const oldMedia = () => ({ ...media('media-old'), time: '2026-10-01T10:30:00Z' });
  const countsOf = (stdout: string) => (JSON.parse(stdout) as { routes: { targets: { counts: Record<string, number> }[] }[] }).routes[0]?.targets[0]?.counts;

  it('reads an expired guard as gone and calls the event unverifiable (exit 0), not completed and not missing', async () => {
    // GIVEN an archive of 30 days: the guard expired 44 days after its claim, 8 days ago, and TTL has not deleted it yet
    deployment.recorded.push(oldMedia());
    completeReview(deployment.items, 'large-media', 'media-old', '2026-10-01T10:31:00.000Z');
    // WHEN
    const { code, stdout } = await run('reconcile', ...OLD_WINDOW);
    // THEN
    expect(countsOf(stdout)).toMatchObject({ completed: 0, missing: 0, unverifiable: 1 });
    expect(code).toBe(0);
  });

  it('calls the same event missing (exit 1) when the archive keeps events indefinitely: its guards never expire', async () => {
    // GIVEN no guard at all and an archive without retention
    deployment.recorded.push(oldMedia());
    deployment.archiveRetentionDays = 0;
    // WHEN
    const { code, stdout } = await run('reconcile', ...OLD_WINDOW);
    // THEN
    expect(countsOf(stdout)).toMatchObject({ completed: 0, missing: 1, unverifiable: 0 });
    expect(code).toBe(1);
  });
});
