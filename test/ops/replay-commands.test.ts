import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CancelReplayCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  ListReplaysCommand,
  StartReplayCommand,
  type ReplayState,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createReplayCommands } from '../../lib/ops/replay-commands';
import { allKindsTable } from '../infra/all-kinds-table';
import { routeTable, targetName } from '../../lib/route-table';
import { ARCHIVE_ARN, ARCHIVE_NAME, BUS_ARN, RECORDER_RULE_ARN, NOW, awsError, capture, fakeRuntime, routingOutputs, routingOutputsFor, ruleArn, stack, statefulOutputs, type FakeRuntime } from './support';

const cfn = mockClient(CloudFormationClient);
const eventBridge = mockClient(EventBridgeClient);

let fake: FakeRuntime;
const run = async (argv: string[], interactive = false) => {
  const captured = capture(interactive);
  const code = await runCli(createReplayCommands(fake.runtime), argv, captured.io);
  return { code, ...captured };
};
const hours = (n: number) => new Date(NOW.getTime() - n * 3_600_000);
/** The rule ARN of a route's first target in the stubbed outputs (one rule per target). */
const firstRuleArn = (route: string) => ruleArn(route, targetName(routeTable.find((candidate) => candidate.name === route)?.targets[0] ?? { kind: 'queue', consumer: '' }));

beforeEach(() => {
  cfn.reset();
  eventBridge.reset();
  fake = fakeRuntime();
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-stateful' }).resolves(stack('dev-fastio-stateful', statefulOutputs));
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputs));
  eventBridge.on(DescribeArchiveCommand).resolves({ ArchiveName: ARCHIVE_NAME, ArchiveArn: ARCHIVE_ARN, EventSourceArn: BUS_ARN, RetentionDays: 30 });
  eventBridge.on(StartReplayCommand).resolves({ ReplayArn: 'arn:aws:events:eu-west-1:123456789012:replay/x', State: 'STARTING' });
});

const stackLookups = () => cfn.commandCalls(DescribeStacksCommand).map((call) => call.args[0].input.StackName);

describe('replay start', () => {
  it('replays the window to the named route rule only, resolving ARNs from the stack outputs', async () => {
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents']);

    expect(result.code).toBe(0);
    expect(stackLookups()).toEqual(['dev-fastio-stateful', 'dev-fastio-routing']);
    expect(eventBridge.commandCalls(DescribeArchiveCommand)[0]?.args[0].input).toEqual({ ArchiveName: ARCHIVE_NAME });
    const calls = eventBridge.commandCalls(StartReplayCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      ReplayName: 'dev-documents-20261122T120000-ssss',
      Description: 'fastio ops: documents',
      EventSourceArn: ARCHIVE_ARN,
      EventStartTime: hours(2),
      EventEndTime: hours(1),
      Destination: { Arn: BUS_ARN, FilterArns: [firstRuleArn('documents'), RECORDER_RULE_ARN] },
    });
    expect(result.stdout()).toContain('replay dev-documents-20261122T120000-ssss STARTING');
    expect(result.stdout()).toContain('window   2026-11-22T10:00:00.000Z → 2026-11-22T11:00:00.000Z (1h 00m)');
    expect(result.stdout()).toContain(`documents/queue: ${firstRuleArn('documents')}`);
    // the flight recorder's rule takes the copies too, so reconcile and trace see the replay
    expect(result.stdout()).toContain(`flight recorder: ${RECORDER_RULE_ARN}`);
    expect(result.stdout()).toContain('replay status dev-documents-20261122T120000-ssss');
    expect(result.err).toEqual([]);
  });

  it('a route with several targets replays to the rules of the targets that take copies, and prints who receives and who skips before starting', async () => {
    // GIVEN a route whose targets are topics, http endpoints and a bus
    cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputsFor(allKindsTable)));
    const route = allKindsTable.find((candidate) => candidate.name === 'fan-out-kinds');
    const names = (route?.targets ?? []).map((target) => ({ name: targetName(target), receives: target.kind !== 'http' && target.kind !== 'topic' }));
    const captured = capture();

    // WHEN it is replayed
    const code = await runCli(createReplayCommands(fake.runtime, allKindsTable), ['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'fan-out-kinds'], captured.io);

    // THEN only the receiving targets' rules are in FilterArns (with the recorder's), and the plan lists every target
    expect(code).toBe(0);
    const receiving = names.filter((entry) => entry.receives).map((entry) => ruleArn('fan-out-kinds', entry.name));
    expect(receiving.length).toBeGreaterThan(0);
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input.Destination).toEqual({ Arn: BUS_ARN, FilterArns: [...receiving, RECORDER_RULE_ARN] });
    const planned = captured.out.filter((line) => /^ {2}(receives|skips)/.test(line)).map((line) => line.trim().split(/\s+/).slice(0, 2));
    expect(planned).toEqual(names.map((entry) => [entry.receives ? 'receives' : 'skips', `fan-out-kinds/${entry.name}`]));
    const firstStart = captured.out.findIndex((line) => line.startsWith('replay '));
    expect(captured.out.findIndex((line) => line.startsWith('replay plan'))).toBeLessThan(firstStart === -1 ? Infinity : firstStart + 1);
    // AND a bus target, which is not the project's, is warned about
    expect(captured.stderr()).toContain('takes replay copies without the project');
  });

  it('--target limits a replay to one target of the route', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputsFor(allKindsTable)));
    const route = allKindsTable.find((candidate) => candidate.targets.length > 1 && candidate.targets.filter((target) => target.kind !== 'http' && target.kind !== 'topic').length > 1);
    const [chosen, other] = (route?.targets ?? []).filter((target) => target.kind !== 'http' && target.kind !== 'topic').map(targetName);
    if (route === undefined || chosen === undefined || other === undefined) throw new Error('the all-kinds table needs a route with two targets that take replays');
    const captured = capture();

    const code = await runCli(createReplayCommands(fake.runtime, allKindsTable), ['replay', 'start', '--from=-2h', '--to=-1h', '--route', route.name, '--target', chosen], captured.io);

    expect(code).toBe(0);
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input.Destination).toEqual({ Arn: BUS_ARN, FilterArns: [ruleArn(route.name, chosen), RECORDER_RULE_ARN] });
    expect(captured.out).toContainEqual(expect.stringMatching(new RegExp(`^ {2}skips +${route.name}/${other} .*not chosen by --target$`)));
  });

  it('--dry-run prints the plan and starts nothing', async () => {
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--dry-run']);

    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
    expect(result.out).toContainEqual(expect.stringMatching(/^ {2}receives {2}documents\/queue /));
    expect(result.out.at(-1)).toBe('dry run: nothing replayed (run it again without --dry-run to start it)');
  });

  it('refuses --target that is no target of the named routes, in one line, before any AWS call', async () => {
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--target', 'nosuch']);

    expect(result.code).toBe(2);
    expect(result.err).toEqual([expect.stringMatching(/^error: --target nosuch: no such target of documents; targets: queue$/)]);
    expect(cfn.calls()).toHaveLength(0);
  });

  it('refuses a replay none of whose chosen targets takes copies', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).resolves(stack('dev-fastio-routing', routingOutputsFor(allKindsTable)));
    const route = allKindsTable.find((candidate) => candidate.targets.some((target) => target.kind === 'http'));
    const http = route?.targets.find((target) => target.kind === 'http');
    if (route === undefined || http === undefined) throw new Error('the all-kinds table needs an http target');
    const captured = capture();

    const code = await runCli(createReplayCommands(fake.runtime, allKindsTable), ['replay', 'start', '--from=-2h', '--to=-1h', '--route', route.name, '--target', targetName(http)], captured.io);

    expect(code).toBe(2);
    expect(captured.err).toEqual([expect.stringMatching(/^error: no chosen target takes replay copies .*http target skips replays by default/)]);
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('accepts relative times written as separate arguments (--from -2h)', async () => {
    const result = await run(['replay', 'start', '--from', '-2h', '--to', '-1h', '--route', 'documents']);

    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input).toMatchObject({ EventStartTime: hours(2), EventEndTime: hours(1) });
  });

  it('limits several routes to their rules, the review route included, without a warning', async () => {
    const result = await run(['replay', 'start', '--from', 'now-3h', '--to', 'now', '--force', '--route', 'agent-activity', '--route', 'untrusted-agent-deletions', '--name', 'incident-42']);

    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input).toMatchObject({
      ReplayName: 'incident-42',
      EventStartTime: hours(3),
      EventEndTime: NOW,
      Destination: { Arn: BUS_ARN, FilterArns: [firstRuleArn('agent-activity'), firstRuleArn('untrusted-agent-deletions'), RECORDER_RULE_ARN] },
    });
    expect(result.err).toEqual([]);
  });

  it('refuses a window ending less than 10 minutes ago, which the lagging archive may not hold yet, and starts nothing', async () => {
    const result = await run(['replay', 'start', '--from=-1h', '--to=-9m', '--route', 'documents']);

    expect(result.code).toBe(2);
    expect(result.err).toEqual([
      'error: --to (2026-11-22T11:51:00.000Z) is less than 10 minutes ago: the archive lags behind the bus, so the replay could report COMPLETED without the newest events; end at --to=-10m or earlier, or add --force',
    ]);
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('starts a window ending 10 minutes ago without --force', async () => {
    const result = await run(['replay', 'start', '--from=-1h', '--to=-10m', '--route', 'documents']);

    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input).toMatchObject({ EventEndTime: new Date(NOW.getTime() - 10 * 60_000) });
  });

  it('--all-routes sends Destination without FilterArns; no route drops replays', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'prod-fastio-stateful' }).resolves(stack('prod-fastio-stateful', statefulOutputs));
    cfn.on(DescribeStacksCommand, { StackName: 'prod-fastio-routing' }).resolves(stack('prod-fastio-routing', routingOutputs));
    const result = await run(['replay', 'start', '--from=-1d', '--to=-23h', '--all-routes', '--stage', 'prod', '--json']);

    expect(result.code).toBe(0);
    // The routing outputs say which targets are deployed, for the plan.
    expect(stackLookups()).toEqual(['prod-fastio-stateful', 'prod-fastio-routing']);
    const input = eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input;
    expect(input?.Destination).toEqual({ Arn: BUS_ARN });
    expect(input?.ReplayName).toBe('prod-all-20261122T120000-ssss');
    expect(result.stderr()).not.toContain('refuses replayed events');
    expect(JSON.parse(result.stdout())).toMatchObject({
      replayName: 'prod-all-20261122T120000-ssss',
      state: 'STARTING',
      from: '2026-11-21T12:00:00.000Z',
      to: '2026-11-21T13:00:00.000Z',
      destination: { busArn: BUS_ARN, filterArns: 'all rules' },
    });
  });

  it('makes no CloudFormation call when --bus, --archive and --rule-arn are all given', async () => {
    const rule = 'arn:aws:events:eu-west-1:123456789012:rule/dev-fastio/x';
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--bus', BUS_ARN, '--archive', ARCHIVE_ARN, '--rule-arn', rule]);

    expect(result.code).toBe(0);
    expect(cfn.calls()).toHaveLength(0);
    expect(eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input.Destination).toEqual({ Arn: BUS_ARN, FilterArns: [rule] });
  });

  it.each([
    [['--from=-2h', '--to=-1h'], 'choose where replayed events go: --route <name> (repeatable; one of documents, large-media, agent-activity, untrusted-agent-deletions, video-uploads) or --all-routes'],
    [['--from=-2h', '--to=-1h', '--route', 'documents', '--all-routes'], '--all-routes replays to every rule: give it alone'],
    [['--from=-2h', '--to=-1h', '--route', 'docs'], 'unknown route "docs"; valid routes: documents, large-media, agent-activity, untrusted-agent-deletions'],
    [['--from=-1h', '--to=-2h', '--all-routes'], '--from (2026-11-22T11:00:00.000Z) must be before --to (2026-11-22T10:00:00.000Z)'],
    [['--from=-1h', '--to', '2026-11-22T13:00:00Z', '--all-routes'], '--to (2026-11-22T13:00:00.000Z) is in the future'],
    [['--from', 'last tuesday', '--to', 'now', '--all-routes'], '--from "last tuesday" is not a time'],
    [['--to', 'now', '--all-routes'], '--from is required'],
    [['--from=-2h', '--to=-1h', '--all-routes', '--name', 'bad name!'], '--name "bad name!" is invalid'],
    [['--from=-2h', '--to=-1h', '--all-routes', '--bus', 'arn:aws:sqs:eu-west-1:123456789012:q'], '--bus "arn:aws:sqs:eu-west-1:123456789012:q" is not an ARN like'],
    [['--from=-2h', '--to=-1h', '--all-routes', '--stage', 'Prod'], '--stage "Prod" is invalid'],
    [['--from=-2h', '--to=-1h', '--all-routes', '--region', 'mars'], '--region "mars" is not an AWS region name'],
  ])('refuses %j before any AWS call (exit 2)', async (args, message) => {
    const result = await run(['replay', 'start', ...args]);

    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toContain(`error: ${message}`);
    expect(cfn.calls()).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('refuses a window older than the archive retention before StartReplay (exit 2)', async () => {
    eventBridge.on(DescribeArchiveCommand).resolves({ ArchiveName: ARCHIVE_NAME, EventSourceArn: BUS_ARN, RetentionDays: 1 });
    const result = await run(['replay', 'start', '--from=-2d', '--to=-1h', '--route', 'documents']);

    expect(result.code).toBe(2);
    expect(result.stderr()).toContain("is older than the archive's retention of 1 days");
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('refuses an archive that does not archive the given bus', async () => {
    const otherBus = 'arn:aws:events:eu-west-1:123456789012:event-bus/other';
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--bus', otherBus]);

    expect(result.code).toBe(2);
    expect(result.stderr()).toBe(`error: archive ${ARCHIVE_NAME} archives ${BUS_ARN}, not ${otherBus}: a replay can only go back to the archived bus`);
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('explains a missing stack in one line (exit 1)', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).rejects(awsError('ValidationError', 'Stack with id dev-fastio-routing does not exist'));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents']);

    expect(result.code).toBe(1);
    expect(result.err).toEqual(['error: stack dev-fastio-routing not found: deploy first or pass --stage']);
    expect(eventBridge.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('explains missing credentials in one line (exit 1)', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents']);

    expect(result.code).toBe(1);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(/^error: no AWS credentials found \(Could not load credentials from any providers\)/);
  });

  it('passes an AWS refusal of StartReplay through as one line (exit 1)', async () => {
    eventBridge.on(StartReplayCommand).rejects(awsError('LimitExceededException', 'Too many concurrent replays\nmore detail'));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents']);

    expect(result.code).toBe(1);
    expect(result.err).toEqual(['error: LimitExceededException: Too many concurrent replays']);
  });
});

describe('replay start --wait', () => {
  const replaying = (state: ReplayState, minutesIn?: number, reason?: string) => ({
    ReplayName: 'incident-1',
    State: state,
    StateReason: reason,
    EventStartTime: hours(2),
    EventEndTime: hours(1),
    EventLastReplayedTime: minutesIn === undefined ? undefined : new Date(hours(2).getTime() + minutesIn * 60_000),
  });

  it('polls DescribeReplay every interval until COMPLETED, with a line per poll off a terminal', async () => {
    eventBridge
      .on(DescribeReplayCommand)
      .resolvesOnce(replaying('STARTING'))
      .resolvesOnce(replaying('RUNNING', 30))
      .resolvesOnce(replaying('RUNNING', 45))
      .resolvesOnce(replaying('COMPLETED', 60));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--name', 'incident-1', '--wait']);

    expect(result.code).toBe(0);
    const polls = eventBridge.commandCalls(DescribeReplayCommand);
    expect(polls).toHaveLength(4);
    for (const poll of polls) expect(poll.args[0].input).toEqual({ ReplayName: 'incident-1' });
    expect(fake.sleeps).toEqual([5_000, 5_000, 5_000]);
    const bars = result.err.filter((line) => line.startsWith('replay incident-1 ['));
    // Off a terminal, only the finished bar.
    expect(bars).toEqual([`replay incident-1 [${'#'.repeat(30)}] 100% COMPLETED, replayed up to 2026-11-22T11:00:00.000Z`]);
    expect(result.out.at(-1)).toBe('replay incident-1 COMPLETED');
  });

  it('redraws the bar in place on a terminal', async () => {
    eventBridge.on(DescribeReplayCommand).resolvesOnce(replaying('RUNNING', 30)).resolvesOnce(replaying('COMPLETED', 60));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--name', 'incident-1', '--wait'], true);

    expect(result.code).toBe(0);
    const bars = result.err.filter((line) => line.includes('replay incident-1 ['));
    expect(bars[0]?.startsWith('replay incident-1 [')).toBe(true);
    expect(bars[1]?.startsWith('\x1b[1A\x1b[2Kreplay incident-1 [')).toBe(true);
  });

  it.each([
    ['FAILED' as const, 'Destination rule no longer exists'],
    ['CANCELLED' as const, 'Cancelled by operator'],
  ])('exits 1 on %s with the state reason', async (state, reason) => {
    eventBridge.on(DescribeReplayCommand).resolvesOnce(replaying('RUNNING', 10)).resolvesOnce(replaying(state, 20, reason));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--name', 'incident-1', '--wait']);

    expect(result.code).toBe(1);
    expect(result.err.at(-1)).toBe(`error: replay incident-1 ended ${state}: ${reason}`);
    expect(result.out.at(-1)).toBe(`replay incident-1 ${state}: ${reason}`);
  });

  it('--json prints the final state once, on stdout', async () => {
    eventBridge.on(DescribeReplayCommand).resolves(replaying('COMPLETED', 60));
    const result = await run(['replay', 'start', '--from=-2h', '--to=-1h', '--route', 'documents', '--name', 'incident-1', '--wait', '--json']);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout())).toMatchObject({ replayName: 'incident-1', state: 'COMPLETED', eventLastReplayedTime: '2026-11-22T11:00:00.000Z' });
  });
});

describe('replay status, list, cancel', () => {
  it('status shows state, window and progress without any stack lookup', async () => {
    eventBridge.on(DescribeReplayCommand, { ReplayName: 'incident-1' }).resolves({
      ReplayName: 'incident-1',
      State: 'RUNNING',
      EventSourceArn: ARCHIVE_ARN,
      EventStartTime: hours(2),
      EventEndTime: hours(1),
      EventLastReplayedTime: new Date(hours(2).getTime() + 15 * 60_000),
      Destination: { Arn: BUS_ARN, FilterArns: [firstRuleArn('documents'), RECORDER_RULE_ARN] },
      ReplayStartTime: NOW,
    });
    const result = await run(['replay', 'status', 'incident-1']);

    expect(result.code).toBe(0);
    expect(cfn.calls()).toHaveLength(0);
    expect(result.out).toEqual([
      'replay incident-1 RUNNING',
      `  archive   ${ARCHIVE_ARN}`,
      '  window    2026-11-22T10:00:00.000Z → 2026-11-22T11:00:00.000Z (1h 00m)',
      '  progress  25% (replayed up to 2026-11-22T10:15:00.000Z)',
      `  bus       ${BUS_ARN}`,
      `  rules     ${firstRuleArn('documents')}, ${RECORDER_RULE_ARN}`,
      '  started   2026-11-22T12:00:00.000Z',
    ]);
  });

  it('status of an unknown replay is one line, exit 1', async () => {
    eventBridge.on(DescribeReplayCommand).rejects(awsError('ResourceNotFoundException', 'Replay nope does not exist.'));
    const result = await run(['replay', 'status', 'nope']);
    expect(result.code).toBe(1);
    expect(result.err).toEqual(['error: replay nope not found (replay list shows the existing ones)']);
  });

  it('status refuses an invalid name without calling AWS', async () => {
    const result = await run(['replay', 'status', 'a/b']);
    expect(result.code).toBe(2);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it("list pages through the deployment archive's replays with one filter, and filters the state itself", async () => {
    // GIVEN an archive with replays in several states over two pages
    eventBridge
      .on(ListReplaysCommand)
      .resolvesOnce({
        Replays: [
          { ReplayName: 'older', State: 'COMPLETED', ReplayStartTime: hours(5), EventStartTime: hours(8), EventEndTime: hours(7) },
          { ReplayName: 'broken', State: 'FAILED', ReplayStartTime: hours(4), EventStartTime: hours(8), EventEndTime: hours(7) },
        ],
        NextToken: 't1',
      })
      .resolvesOnce({
        Replays: [
          { ReplayName: 'running', State: 'RUNNING', ReplayStartTime: hours(0.5), EventStartTime: hours(3), EventEndTime: hours(2) },
          { ReplayName: 'newer', State: 'COMPLETED', ReplayStartTime: hours(1), EventStartTime: hours(3), EventEndTime: hours(2) },
        ],
      });
    // WHEN listing one state
    const result = await run(['replay', 'list', '--state', 'completed']);

    // THEN ListReplays got only EventSourceArn (its filters are exclusive), on every page
    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(ListReplaysCommand).map((call) => call.args[0].input)).toEqual([{ EventSourceArn: ARCHIVE_ARN }, { EventSourceArn: ARCHIVE_ARN, NextToken: 't1' }]);
    // AND only the replays in that state are shown, newest first
    expect(result.out).toHaveLength(3);
    expect(result.out[0]).toMatch(/^NAME\s+STATE\s+STARTED\s+WINDOW$/);
    expect(result.out[1]).toMatch(/^newer\s+COMPLETED/);
    expect(result.out[2]).toMatch(/^older\s+COMPLETED/);
  });

  it('list with a state that no replay is in says so', async () => {
    eventBridge.on(ListReplaysCommand).resolves({ Replays: [{ ReplayName: 'done', State: 'COMPLETED', ReplayStartTime: hours(1) }] });
    const result = await run(['replay', 'list', '--state', 'RUNNING']);
    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(ListReplaysCommand).map((call) => call.args[0].input)).toEqual([{ EventSourceArn: ARCHIVE_ARN }]);
    expect(result.out).toEqual([`no replays in state RUNNING of ${ARCHIVE_ARN}`]);
  });

  it('list refuses an unknown state (exit 2) and lists the valid ones', async () => {
    const result = await run(['replay', 'list', '--state', 'DONE']);
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['error: --state "DONE" is invalid; valid states: CANCELLED, CANCELLING, COMPLETED, FAILED, RUNNING, STARTING']);
    expect(cfn.calls()).toHaveLength(0);
  });

  it('cancel calls CancelReplay and prints the new state', async () => {
    eventBridge.on(CancelReplayCommand).resolves({ State: 'CANCELLING' });
    const result = await run(['replay', 'cancel', 'incident-1']);

    expect(result.code).toBe(0);
    expect(eventBridge.commandCalls(CancelReplayCommand)[0]?.args[0].input).toEqual({ ReplayName: 'incident-1' });
    expect(result.out).toEqual(['replay incident-1 CANCELLING']);
  });

  it('cancel of a finished replay is one line, exit 1', async () => {
    eventBridge.on(CancelReplayCommand).rejects(awsError('IllegalStatusException', 'Replay incident-1 is not in a cancellable state'));
    const result = await run(['replay', 'cancel', 'incident-1']);
    expect(result.code).toBe(1);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toContain('replay incident-1 cannot be cancelled in its current state');
  });
});
