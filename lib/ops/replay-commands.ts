/**
 * `replay start|status|list|cancel`: re-send archived events to the rules of chosen routes.
 *
 * Everything that can be checked locally is checked before any AWS call (usage errors, exit 2);
 * the window is checked against the archive's retention before StartReplay is called.
 * Replays are safe to repeat: consumers record completed event ids (Powertools Idempotency) and
 * write time-conditionally, so a replay redoes only what did not complete.
 */
import {
  CancelReplayCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  ListReplaysCommand,
  ReplayState,
  StartReplayCommand,
  type DescribeReplayCommandOutput,
  type EventBridgeClient,
  type Replay,
} from '@aws-sdk/client-eventbridge';
import { localTargetHandles, replayListLocally, replayLocally, replayStatusLocally } from './local-recovery';
import { stackNames } from '../config';
import { routeTable, type Route } from '../route-table';
import { StatefulOutput, targetOutputKey } from '../stack-outputs';
import { planLines, replayPlan, withDeployed, type PlannedTarget } from './replay-plan';
import {
  OperationFailed,
  UsageError,
  refuseOptions,
  requiredStringOption,
  stringListOption,
  stringOption,
  type CommandIo,
  type OpsCommand,
  type OptionValues,
  OPS_COMMAND,
} from './command';
import { defaultRuntime, deploymentOptions, regionOption, stageOption, withAwsErrors, type OpsRuntime } from './aws-runtime';
import { loadStackOutputs, resolveRoutes } from './deployment';
import { Progress } from './progress';
import { assertWithinRetention, compactTimestamp, formatDuration, parseWindow, type TimeWindow } from './time-window';

export const REPLAY_NAME_PATTERN = /^[.\-_A-Za-z0-9]{1,64}$/;
const BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]+$/;
const ARCHIVE_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:archive\/([.\-_A-Za-z0-9]+)$/;
const RULE_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:rule\/[A-Za-z0-9._\-/]+$/;

/**
 * EventBridge writes events to the archive with a delay, so a replay whose window ends later than
 * this before now can report COMPLETED without the newest events of the window.
 */
export const ARCHIVE_LAG_MS = 10 * 60_000;

const REPLAY_STATES = Object.values(ReplayState);
const TERMINAL_STATES: readonly string[] = [ReplayState.COMPLETED, ReplayState.FAILED, ReplayState.CANCELLED];

function replayNameArgument(raw: string | undefined, what: string): string {
  if (raw === undefined || !REPLAY_NAME_PATTERN.test(raw)) {
    throw new UsageError(`${what} "${raw ?? ''}" is invalid: 1-64 characters from letters, digits, '.', '-' and '_'`);
  }
  return raw;
}

function arnOption(options: OptionValues, name: string, pattern: RegExp, example: string): string | undefined {
  const value = stringOption(options, name);
  if (value !== undefined && !pattern.test(value)) throw new UsageError(`--${name} "${value}" is not an ARN like ${example}`);
  return value;
}

/** `<stage>-<routes or all>-<yyyymmddThhmmss>-<4 random>`, at most 64 characters. */
export function generateReplayName(stage: string, routes: readonly string[] | 'all', now: Date, random: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let suffix = '';
  for (let i = 0; i < 4; i += 1) suffix += alphabet[Math.floor(random() * alphabet.length) % alphabet.length];
  const tail = `-${compactTimestamp(now)}-${suffix}`;
  const room = 64 - stage.length - 1 - tail.length;
  const routesPart = (routes === 'all' ? 'all' : routes.join('_')).slice(0, room).replace(/[-_.]+$/, '');
  return `${stage}-${routesPart}${tail}`;
}

function iso(date: Date | undefined): string | undefined {
  return date?.toISOString();
}

function windowText(window: TimeWindow): string {
  return `${window.from.toISOString()} → ${window.to.toISOString()} (${formatDuration(window.to.getTime() - window.from.getTime())})`;
}

/** How far through its window a replay is, from the time of the last event it re-sent. */
function replayFraction(state: string | undefined, window: TimeWindow, last: Date | undefined): number | undefined {
  if (state === ReplayState.COMPLETED) return 1;
  if (last === undefined) return state === ReplayState.STARTING ? 0 : undefined;
  const span = window.to.getTime() - window.from.getTime();
  return span > 0 ? (last.getTime() - window.from.getTime()) / span : undefined;
}

function describeProgress(replay: DescribeReplayCommandOutput): string {
  const last = replay.EventLastReplayedTime;
  return last === undefined ? `${replay.State ?? 'UNKNOWN'}` : `${replay.State ?? 'UNKNOWN'}, replayed up to ${last.toISOString()}`;
}

function windowOf(replay: { EventStartTime?: Date; EventEndTime?: Date }, fallback?: TimeWindow): TimeWindow | undefined {
  if (replay.EventStartTime && replay.EventEndTime) return { from: replay.EventStartTime, to: replay.EventEndTime };
  return fallback;
}

/** Polls DescribeReplay until a terminal state, drawing progress on stderr. */
async function watchReplay(
  client: EventBridgeClient,
  replayName: string,
  window: TimeWindow,
  runtime: OpsRuntime,
  io: CommandIo,
): Promise<DescribeReplayCommandOutput> {
  const progress = new Progress(io, `replay ${replayName}`);
  for (;;) {
    const replay = await client.send(new DescribeReplayCommand({ ReplayName: replayName }));
    const shown = windowOf(replay, window) ?? window;
    progress.update(replayFraction(replay.State, shown, replay.EventLastReplayedTime), describeProgress(replay));
    if (replay.State !== undefined && TERMINAL_STATES.includes(replay.State)) return replay;
    await runtime.sleep(runtime.pollIntervalMs);
  }
}

function finalReplayLine(replay: { ReplayName?: string; State?: string; StateReason?: string }): string {
  return `replay ${replay.ReplayName ?? ''} ${replay.State ?? 'UNKNOWN'}${replay.StateReason ? `: ${replay.StateReason}` : ''}`;
}

/** Exit code of a finished replay; FAILED and CANCELLED say why on stderr. */
function replayExitCode(replay: { ReplayName?: string; State?: string; StateReason?: string }, io: CommandIo): number {
  if (replay.State === ReplayState.COMPLETED) return 0;
  io.err(`error: replay ${replay.ReplayName ?? ''} ended ${replay.State ?? 'UNKNOWN'}: ${replay.StateReason ?? 'no reason given'}`);
  return 1;
}

interface ReplayTargets {
  /** undefined = every rule on the bus (--all-routes) */
  readonly filterArns: string[] | undefined;
  readonly describe: string[];
}

function startReplayCommand(runtime: OpsRuntime, table: readonly Route[]): OpsCommand {
  return {
    path: ['replay', 'start'],
    summary: 'replay archived events of a time window to the rules of chosen routes or targets (--dry-run shows who would receive them)',
    usage:
      '--from <time> --to <time> (--route <name>... [--target <name>...] | --all-routes) [--dry-run] [--name <n>] [--wait] [--force] [--stage <s>] [--bus <arn>] [--archive <arn>] [--rule-arn <arn>...] [--region <r>] [--local] [--json]',
    options: {
      ...deploymentOptions,
      from: { type: 'string' },
      to: { type: 'string' },
      route: { type: 'string', multiple: true },
      target: { type: 'string', multiple: true },
      'all-routes': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      name: { type: 'string' },
      wait: { type: 'boolean' },
      force: { type: 'boolean' },
      bus: { type: 'string' },
      archive: { type: 'string' },
      'rule-arn': { type: 'string', multiple: true },
      local: { type: 'boolean' },
    },
    async run({ options, io }) {
      // ---- everything local first: no AWS call for bad input --------------------------------------
      if (options.local === true) {
        // The local archive is written before PutEvents answers: it has no lag to force past.
        refuseOptions(options, ['stage', 'region', 'bus', 'archive', 'rule-arn', 'force'], '--local', 'it replays the archive of the pipeline `npm start` runs to its rules');
      }
      const stage = stageOption(options);
      const region = regionOption(options);
      const fromRaw = requiredStringOption(options, 'from');
      const toRaw = requiredStringOption(options, 'to');
      const routeNames = stringListOption(options, 'route');
      const allRoutes = options['all-routes'] === true;
      const ruleArnOverrides = stringListOption(options, 'rule-arn');
      for (const arn of ruleArnOverrides) {
        if (!RULE_ARN.test(arn)) throw new UsageError(`--rule-arn "${arn}" is not an ARN like arn:aws:events:eu-west-1:123456789012:rule/<bus>/<rule>`);
      }
      if (allRoutes && (routeNames.length > 0 || ruleArnOverrides.length > 0)) {
        throw new UsageError('--all-routes replays to every rule: give it alone, or name routes with --route (and --rule-arn), not both');
      }
      if (!allRoutes && routeNames.length === 0 && ruleArnOverrides.length === 0) {
        throw new UsageError(`choose where replayed events go: --route <name> (repeatable; one of ${table.map((r) => r.name).join(', ')}) or --all-routes for every rule`);
      }
      const routes = resolveRoutes(routeNames, table);
      const targetNames = stringListOption(options, 'target');
      if (targetNames.length > 0 && ruleArnOverrides.length > 0) {
        throw new UsageError('--rule-arn names the exact rules already: give --target or --rule-arn, not both');
      }
      const dryRun = options['dry-run'] === true;
      // From the table alone: the deployment then drops what it does not have (withDeployed).
      const tablePlan = ruleArnOverrides.length > 0 ? undefined : replayPlan({ routes, targetNames, allRoutes, table });
      const busOverride = arnOption(options, 'bus', BUS_ARN, 'arn:aws:events:eu-west-1:123456789012:event-bus/<name>');
      const archiveOverride = arnOption(options, 'archive', ARCHIVE_ARN, 'arn:aws:events:eu-west-1:123456789012:archive/<name>');
      const explicitName = stringOption(options, 'name');
      if (explicitName !== undefined) replayNameArgument(explicitName, '--name');
      const now = runtime.now();
      const window = parseWindow(fromRaw, toRaw, now);
      const json = options.json === true;
      if (options.local !== true && options.force !== true && window.to.getTime() > now.getTime() - ARCHIVE_LAG_MS) {
        throw new UsageError(
          `--to (${window.to.toISOString()}) is less than ${ARCHIVE_LAG_MS / 60_000} minutes ago: the archive lags behind the bus, so the replay could report COMPLETED without the newest events; end at --to=-${ARCHIVE_LAG_MS / 60_000}m or earlier, or add --force`,
        );
      }

      if (options.local === true) {
        const deployed = new Set(await localTargetHandles());
        const plan = tablePlan === undefined ? undefined : withDeployed(tablePlan, (entry) => deployed.has(entry.handle));
        const warnings = announcePlan(plan, window, io, json);
        const receiving = receivingTargets(plan, allRoutes);
        if (dryRun) return printDryRun(plan, warnings, io, json);
        return replayLocally({ from: window.from, to: window.to, ...(allRoutes ? { allRoutes } : { targets: receiving ?? [] }), now, ...(explicitName === undefined ? {} : { name: explicitName }) }, io, json, plan);
      }

      return withAwsErrors(async () => {
        const clients = runtime.clients(region);
        const names = stackNames(stage);

        // ---- resolve the bus, the archive and the rules (stack outputs unless overridden) ---------
        let busArn = busOverride;
        let archiveArn = archiveOverride;
        const fullyOverridden = busArn !== undefined && archiveArn !== undefined && ruleArnOverrides.length > 0;
        let recorderRuleArn: string | undefined;
        if (!fullyOverridden) {
          const stateful = await loadStackOutputs(clients.cloudFormation, names.stateful);
          busArn ??= stateful.get(StatefulOutput.eventBusArn);
          archiveArn ??= stateful.get(StatefulOutput.archiveArn);
          recorderRuleArn = stateful.get(StatefulOutput.recorderRuleArn);
        }
        // Only reachable with --bus or --archive alone missing its partner and outputs that lack it.
        if (busArn === undefined || archiveArn === undefined) throw new OperationFailed('the stateful stack outputs name no event bus or archive');
        const routing = ruleArnOverrides.length > 0 ? undefined : await loadStackOutputs(clients.cloudFormation, names.routing);
        const ruleArnKey = (entry: PlannedTarget) => targetOutputKey(entry.route, entry.target, 'RuleArn');
        const plan = tablePlan === undefined ? undefined : routing === undefined ? tablePlan : withDeployed(tablePlan, (entry) => routing.has(ruleArnKey(entry)));
        const warnings = announcePlan(plan, window, io, json);
        receivingTargets(plan, allRoutes);
        const routeTargets = replayTargets(plan, allRoutes, ruleArnOverrides, (entry) => routing?.get(ruleArnKey(entry)) ?? '');
        // The flight recorder's catch-all rule gets every replay copy too, as it does on the live bus, so
        // reconcile and trace see what a replay delivered. Without stack outputs (--bus, --archive and
        // --rule-arn all given) the operator names every rule, the recorder's included.
        const targets =
          routeTargets.filterArns === undefined || recorderRuleArn === undefined
            ? routeTargets
            : { filterArns: [...routeTargets.filterArns, recorderRuleArn], describe: [...routeTargets.describe, `flight recorder: ${recorderRuleArn} (records the replay copies)`] };

        // ---- the archive must hold the window, and archive the bus we replay to ------------------
        const archiveName = ARCHIVE_ARN.exec(archiveArn)?.[1];
        if (archiveName === undefined) throw new OperationFailed(`archive ARN "${archiveArn}" from the stack outputs is not an archive ARN`);
        const archive = await clients.eventBridge.send(new DescribeArchiveCommand({ ArchiveName: archiveName }));
        if (archive.EventSourceArn !== undefined && archive.EventSourceArn !== busArn) {
          throw new UsageError(`archive ${archiveName} archives ${archive.EventSourceArn}, not ${busArn}: a replay can only go back to the archived bus`);
        }
        assertWithinRetention(window, archive.RetentionDays, now);
        if (dryRun) return printDryRun(plan, warnings, io, json, { busArn, archiveArn, filterArns: targets.filterArns ?? 'all rules' });

        const replayName = explicitName ?? generateReplayName(stage, allRoutes ? 'all' : routes.length > 0 ? routes.map((r) => r.name) : ['rules'], now, runtime.random);
        const destination = { Arn: busArn, ...(targets.filterArns === undefined ? {} : { FilterArns: targets.filterArns }) };
        const started = await clients.eventBridge.send(
          new StartReplayCommand({
            ReplayName: replayName,
            Description: `fastio ops: ${allRoutes ? 'all routes' : routes.map((r) => r.name).join(', ') || 'explicit rules'}`.slice(0, 512),
            EventSourceArn: archiveArn,
            EventStartTime: window.from,
            EventEndTime: window.to,
            Destination: destination,
          }),
        );

        const summary = {
          replayName,
          replayArn: started.ReplayArn,
          state: started.State,
          stateReason: started.StateReason,
          from: window.from.toISOString(),
          to: window.to.toISOString(),
          eventSourceArn: archiveArn,
          destination: { busArn, filterArns: targets.filterArns ?? 'all rules' },
          ...(plan === undefined ? {} : { targets: plan }),
          warnings,
        };
        if (!json) {
          io.out(`replay ${replayName} ${started.State ?? 'STARTING'}`);
          io.out(`  archive  ${archiveArn}`);
          io.out(`  window   ${windowText(window)}`);
          io.out(`  bus      ${busArn}`);
          for (const line of targets.describe) io.out(`  rules    ${line}`);
        }
        if (options.wait !== true) {
          if (json) io.out(JSON.stringify(summary, null, 2));
          else io.out(`watch it: ${OPS_COMMAND} replay status ${replayName}    stop it: ${OPS_COMMAND} replay cancel ${replayName}`);
          return 0;
        }

        if (!json) io.err(`waiting for ${replayName} (Ctrl-C stops watching, not the replay; replay cancel ${replayName} stops it)`);
        const finished = await watchReplay(clients.eventBridge, replayName, window, runtime, io);
        if (json) {
          io.out(
            JSON.stringify(
              { ...summary, state: finished.State, stateReason: finished.StateReason, eventLastReplayedTime: iso(finished.EventLastReplayedTime), replayEndTime: iso(finished.ReplayEndTime) },
              null,
              2,
            ),
          );
        } else {
          io.out(finalReplayLine({ ...finished, ReplayName: replayName }));
        }
        return replayExitCode({ ...finished, ReplayName: replayName }, io);
      });
    },
  };
}

/**
 * Prints the plan (unless --json, which carries it) and the warnings; returns the warnings. The
 * plan is printed before StartReplay, so the operator sees who gets copies before anyone does.
 */
function announcePlan(plan: readonly PlannedTarget[] | undefined, window: TimeWindow, io: CommandIo, json: boolean): string[] {
  const warnings = (plan ?? []).flatMap((entry) => (entry.warning === undefined ? [] : [entry.warning]));
  if (!json && plan !== undefined) {
    io.out(`replay plan for ${windowText(window)}:`);
    for (const line of planLines(plan)) io.out(line);
  }
  for (const warning of warnings) io.err(`warning: ${warning}`);
  return warnings;
}

/** The handles of the targets that receive; refuses a replay that would reach none of them. */
function receivingTargets(plan: readonly PlannedTarget[] | undefined, allRoutes: boolean): string[] | undefined {
  if (plan === undefined) return undefined;
  const receiving = plan.filter((entry) => entry.receives).map((entry) => entry.handle);
  if (receiving.length === 0 && !allRoutes) {
    throw new UsageError(`no chosen target takes replay copies (${plan.map((entry) => `${entry.handle}: ${entry.reason}`).join('; ')}): nothing to replay`);
  }
  return receiving;
}

function printDryRun(plan: readonly PlannedTarget[] | undefined, warnings: readonly string[], io: CommandIo, json: boolean, destination?: Record<string, unknown>): number {
  if (json) io.out(JSON.stringify({ dryRun: true, ...(destination === undefined ? {} : { destination }), targets: plan ?? [], warnings }, null, 2));
  else io.out('dry run: nothing replayed (run it again without --dry-run to start it)');
  return 0;
}

function replayTargets(
  plan: readonly PlannedTarget[] | undefined,
  allRoutes: boolean,
  ruleArnOverrides: readonly string[],
  ruleArnOf: (entry: PlannedTarget) => string,
): ReplayTargets {
  // Rules of skipping targets would drop the copies anyway; every rule is on the bus for --all-routes.
  if (allRoutes) return { filterArns: undefined, describe: ['every rule on the bus (--all-routes); targets that skip replays filter them out'] };
  if (ruleArnOverrides.length > 0 || plan === undefined) {
    // --rule-arn is the exact destination; --route only names the replay.
    return { filterArns: [...new Set(ruleArnOverrides)], describe: [...new Set(ruleArnOverrides)] };
  }
  const receiving = plan.filter((entry) => entry.receives);
  return { filterArns: receiving.map(ruleArnOf), describe: receiving.map((entry) => `${entry.handle}: ${ruleArnOf(entry)}`) };
}

function statusReplayCommand(runtime: OpsRuntime): OpsCommand {
  return {
    path: ['replay', 'status'],
    summary: 'show the state and progress of a replay',
    usage: '<name> [--region <r>] [--local] [--json]',
    options: { region: deploymentOptions.region, json: deploymentOptions.json, local: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ positionals, options, io }) {
      const replayName = replayNameArgument(positionals[0], 'replay name');
      if (options.local === true) {
        refuseOptions(options, ['region'], '--local', 'it asks the pipeline `npm start` runs');
        return replayStatusLocally(replayName, io, options.json === true);
      }
      const region = regionOption(options);
      return withAwsErrors(async () => {
        const replay = await describeReplayOrExplain(runtime.clients(region).eventBridge, replayName);
        const window = windowOf(replay);
        const fraction = window ? replayFraction(replay.State, window, replay.EventLastReplayedTime) : undefined;
        if (options.json === true) {
          io.out(
            JSON.stringify(
              {
                ...replayView({ ...replay, ReplayName: replay.ReplayName ?? replayName }),
                replayArn: replay.ReplayArn,
                eventSourceArn: replay.EventSourceArn,
                destination: replay.Destination,
                progress: fraction === undefined ? null : Math.min(1, Math.max(0, fraction)),
              },
              null,
              2,
            ),
          );
          return 0;
        }
        io.out(finalReplayLine({ ...replay, ReplayName: replay.ReplayName ?? replayName }));
        if (replay.EventSourceArn) io.out(`  archive   ${replay.EventSourceArn}`);
        if (window) io.out(`  window    ${windowText(window)}`);
        if (fraction !== undefined) {
          const last = replay.EventLastReplayedTime ? ` (replayed up to ${replay.EventLastReplayedTime.toISOString()})` : '';
          io.out(`  progress  ${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%${last}`);
        }
        if (replay.Destination?.Arn) io.out(`  bus       ${replay.Destination.Arn}`);
        io.out(`  rules     ${replay.Destination?.FilterArns?.length ? replay.Destination.FilterArns.join(', ') : 'every rule on the bus'}`);
        if (replay.ReplayStartTime) io.out(`  started   ${replay.ReplayStartTime.toISOString()}`);
        if (replay.ReplayEndTime) io.out(`  ended     ${replay.ReplayEndTime.toISOString()}`);
        return 0;
      });
    },
  };
}

/** The fields `--json` shows of any replay, in the same shape for `replay status` and `replay list`. */
function replayView(replay: Replay) {
  return {
    replayName: replay.ReplayName,
    state: replay.State,
    stateReason: replay.StateReason,
    from: iso(replay.EventStartTime),
    to: iso(replay.EventEndTime),
    eventLastReplayedTime: iso(replay.EventLastReplayedTime),
    replayStartTime: iso(replay.ReplayStartTime),
    replayEndTime: iso(replay.ReplayEndTime),
  };
}

/** An unknown replay name reads as such, whichever call found it out. */
function explainMissingReplay(error: unknown, replayName: string): unknown {
  return error instanceof Error && error.name === 'ResourceNotFoundException'
    ? new OperationFailed(`replay ${replayName} not found (replay list shows the existing ones)`)
    : error;
}

async function describeReplayOrExplain(client: EventBridgeClient, replayName: string): Promise<DescribeReplayCommandOutput> {
  try {
    return await client.send(new DescribeReplayCommand({ ReplayName: replayName }));
  } catch (error) {
    throw explainMissingReplay(error, replayName);
  }
}

function listReplayCommand(runtime: OpsRuntime): OpsCommand {
  return {
    path: ['replay', 'list'],
    summary: "list the replays of the deployment's archive",
    usage: `[--state ${REPLAY_STATES.join('|')}] [--stage <s>] [--archive <arn>] [--region <r>] [--local] [--json]`,
    options: { ...deploymentOptions, state: { type: 'string' }, archive: { type: 'string' }, local: { type: 'boolean' } },
    async run({ options, io }) {
      const stage = stageOption(options);
      const region = regionOption(options);
      const stateRaw = stringOption(options, 'state');
      const state = stateRaw?.toUpperCase();
      if (state !== undefined && !(REPLAY_STATES as readonly string[]).includes(state)) {
        throw new UsageError(`--state "${stateRaw ?? ''}" is invalid; valid states: ${REPLAY_STATES.join(', ')}`);
      }
      if (options.local === true) {
        refuseOptions(options, ['stage', 'region', 'archive'], '--local', 'it lists the replays of the pipeline `npm start` runs');
        return replayListLocally(state, io, options.json === true);
      }
      const archiveOverride = arnOption(options, 'archive', ARCHIVE_ARN, 'arn:aws:events:eu-west-1:123456789012:archive/<name>');
      return withAwsErrors(async () => {
        const clients = runtime.clients(region);
        const archiveArn = archiveOverride ?? (await loadStackOutputs(clients.cloudFormation, stackNames(stage).stateful)).get(StatefulOutput.archiveArn);
        const replays: Replay[] = [];
        let nextToken: string | undefined;
        do {
          // ListReplays takes at most one of its filters (AWS rejects State with EventSourceArn):
          // the archive scopes the list to this deployment, the state is filtered here.
          const page = await clients.eventBridge.send(new ListReplaysCommand({ EventSourceArn: archiveArn, ...(nextToken ? { NextToken: nextToken } : {}) }));
          replays.push(...(page.Replays ?? []).filter((replay) => state === undefined || replay.State === state));
          nextToken = page.NextToken;
        } while (nextToken);
        replays.sort((a, b) => (b.ReplayStartTime?.getTime() ?? 0) - (a.ReplayStartTime?.getTime() ?? 0));

        if (options.json === true) {
          io.out(JSON.stringify(replays.map(replayView), null, 2));
          return 0;
        }
        if (replays.length === 0) {
          io.out(`no replays${state ? ` in state ${state}` : ''} of ${archiveArn}`);
          return 0;
        }
        const nameWidth = Math.max(4, ...replays.map((replay) => (replay.ReplayName ?? '').length));
        io.out(`${'NAME'.padEnd(nameWidth)}  ${'STATE'.padEnd(10)}  ${'STARTED'.padEnd(24)}  WINDOW`);
        for (const replay of replays) {
          const window = windowOf(replay);
          io.out(
            `${(replay.ReplayName ?? '').padEnd(nameWidth)}  ${(replay.State ?? '').padEnd(10)}  ${(iso(replay.ReplayStartTime) ?? '-').padEnd(24)}  ${window ? windowText(window) : '-'}`,
          );
        }
        return 0;
      });
    },
  };
}

function cancelReplayCommand(runtime: OpsRuntime): OpsCommand {
  return {
    path: ['replay', 'cancel'],
    summary: 'cancel a running replay (events already re-sent stay delivered)',
    usage: '<name> [--region <r>] [--json]',
    options: { region: deploymentOptions.region, json: deploymentOptions.json, local: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ positionals, options, io }) {
      if (options.local === true) {
        // Accepted only to say why: a local replay re-sends every event before `replay start --local` returns.
        throw new UsageError('there is no local replay cancel: the local pipeline re-sends all of a replay\'s events before `replay start --local` returns, so no local replay is ever running; `replay status <name> --local` shows what it sent');
      }
      const replayName = replayNameArgument(positionals[0], 'replay name');
      const region = regionOption(options);
      return withAwsErrors(async () => {
        let result;
        try {
          result = await runtime.clients(region).eventBridge.send(new CancelReplayCommand({ ReplayName: replayName }));
        } catch (error) {
          if (error instanceof Error && error.name === 'IllegalStatusException') {
            throw new OperationFailed(`replay ${replayName} cannot be cancelled in its current state (${error.message.split('\n')[0] ?? ''}); replay status ${replayName} shows it`);
          }
          throw explainMissingReplay(error, replayName);
        }
        if (options.json === true) io.out(JSON.stringify({ replayName, replayArn: result.ReplayArn, state: result.State, stateReason: result.StateReason }, null, 2));
        else io.out(finalReplayLine({ ...result, ReplayName: replayName }));
        return 0;
      });
    },
  };
}

/** `table` is the route table the deployment was built from (tests pass others). */
export function createReplayCommands(runtime: OpsRuntime = defaultRuntime, table: readonly Route[] = routeTable): OpsCommand[] {
  return [startReplayCommand(runtime, table), statusReplayCommand(runtime), listReplayCommand(runtime), cancelReplayCommand(runtime)];
}

export const replayCommands: readonly OpsCommand[] = createReplayCommands();
