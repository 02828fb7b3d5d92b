/**
 * `ops reconcile --from <t> --to <t>`: every recorded event of the window against every target of
 * every route it matched (lib/recorder/reconcile.ts). Exit 0 when every event is completed,
 * confirmed or unverifiable and the recorder's input was complete; 1 when anything is missing or
 * dead-lettered, the recorder's DLQ is not empty, or a source fails; 3 when the only gaps are
 * pending or unconfirmed, or when the window's end is still within the recorder's buffering interval
 * (its last events may not be written yet: it says when to run it again); 2 for bad input.
 *
 * `--recover` redrives the dead-lettered events and re-delivers the missing ones (their body read
 * from the recorder) to their route's target alone, never back through the bus, so no other route
 * sees them twice; then it reconciles again, waiting for the consumers to finish (asynchronous
 * targets complete seconds later) for at most RECOVER_SETTLE_MS, and prints the final counts.
 * It delivers each event once per run: a target that fails again is reported, not retried.
 */
import { routeTable, targetHandle, type Route } from '../route-table';
import { reconcile, TARGET_STATUSES, type Reconciliation, type ReconcileReport } from '../recorder/reconcile';
import { trackedTargets, type RecorderSources, type ScanProgress, type TrackedTarget } from '../recorder/sources';
import type { BusEvent } from '../domain/route-samples';
import { OPS_COMMAND, requiredStringOption, stringListOption, stringOption, type CommandIo, type OpsCommand, type OptionValues } from './command';
import { defaultRuntime, deploymentOptions, withAwsErrors, type OpsRuntime } from './aws-runtime';
import { resolveRoutes } from './deployment';
import { Progress } from './progress';
import { defaultSourceFactories, sourcesFor, type RecorderSourceFactories } from './recorder-sources';
import { parseWindow, type TimeWindow } from './time-window';

/** How long --recover waits for re-delivered events to complete before printing the final counts. */
export const RECOVER_SETTLE_MS = 5 * 60_000;

/**
 * On a terminal, a bar redrawn in place; into a pipe or a log, one line once the reading is done
 * (each phase's finished bar would be a line of its own, a dozen or more per run).
 */
function progressReporter(io: CommandIo): { readonly progress: ScanProgress; finish(): void } {
  const detail = (phase: string, done: number, total: number | undefined) => `${phase} ${done}${total === undefined ? '' : `/${total}`}`;
  if (io.interactive) {
    const bar = new Progress(io, 'reconcile');
    return { progress: (phase, done, total) => bar.update(total === undefined ? undefined : total === 0 ? 1 : done / total, detail(phase, done, total)), finish: () => undefined };
  }
  const latest = new Map<string, string>();
  return {
    progress: (phase, done, total) => latest.set(phase, detail(phase, done, total)),
    finish: () => {
      if (latest.size > 0) io.err(`reconcile read ${[...latest.values()].join(', ')}`);
    },
  };
}

const HEADINGS = ['EVENTS', ...TARGET_STATUSES.map((status) => status.toUpperCase())];

export function printReport(report: ReconcileReport, io: CommandIo, title = 'reconcile'): void {
  io.out(
    `${title} ${report.from} .. ${report.to}: ${report.events} event${report.events === 1 ? '' : 's'} recorded (${report.recorded} copies: ${report.resends} Fast.io resend${report.resends === 1 ? '' : 's'}, ${report.replayCopies} replay cop${report.replayCopies === 1 ? 'y' : 'ies'})`,
  );
  const rows = report.routes.flatMap((route) =>
    route.targets.map((target) => [targetHandle(route.route, target.target), String(route.events), ...TARGET_STATUSES.map((status) => String(target.counts[status]))]),
  );
  const width = Math.max('ROUTE/TARGET'.length, ...rows.map((row) => (row[0] as string).length));
  io.out(['ROUTE/TARGET'.padEnd(width), ...HEADINGS].join('  '));
  for (const row of rows) io.out([(row[0] as string).padEnd(width), ...row.slice(1).map((cell, index) => cell.padStart((HEADINGS[index] as string).length))].join('  '));
  const targets = report.routes.flatMap((route) => route.targets);
  const missing = targets.flatMap((target) => target.missing.map((id) => `  ${target.route}/${target.target}  ${id}`));
  const dead = targets.flatMap((target) => target.deadLettered.map((letter) => `  ${target.route}/${target.target}  ${letter.fastioEventId}  in ${letter.queue}: ${letter.reason}`));
  const unverifiable = targets.flatMap((target) => target.unverifiable.map((id) => `  ${target.route}/${target.target}  ${id}`));
  const pending = targets.flatMap((target) => target.pending.map((entry) => `  ${target.route}/${target.target}  ${entry.fastioEventId}  ${entry.why}${entry.until === undefined ? '' : ` (horizon ends ${entry.until})`}`));
  const unconfirmed = targets.flatMap((target) => target.unconfirmed.map((id) => `  ${target.route}/${target.target}  ${id}`));
  const section = (heading: string, lines: readonly string[]) => {
    if (lines.length === 0) return;
    io.out(heading);
    for (const line of lines) io.out(line);
  };
  if (report.recordedBeforeStart.length > 0) {
    io.out(`recorded before this pipeline started, not checked (its completion records and dead letters were in the previous run's memory): ${report.recordedBeforeStart.length}`);
    for (const id of report.recordedBeforeStart) io.out(`  ${id}`);
  }
  if (report.notDeployed.length > 0) io.out(`not deployed (their config was not set), not checked: ${report.notDeployed.join(', ')}`);
  const input = report.recorderInput;
  if (!input.complete) {
    io.out(
      `recorder input incomplete: the recorder DLQ holds ${input.deadLetters} event${input.deadLetters === 1 ? '' : 's'} EventBridge could not record${input.inFlight > 0 ? ` (${input.inFlight} more in flight)` : ''}; ${input.joined} of them in this window, reconciled from the DLQ`,
    );
  }
  if (report.recorderBuffer !== undefined) io.out(recorderBufferLine(report));
  section(`missing (${missing.length}):`, missing);
  section(`dead-lettered (${dead.length}):`, dead);
  section(`pending (${pending.length}): no evidence yet, within the target's retry horizon or with dead letters in flight:`, pending);
  section(`unconfirmed (${unconfirmed.length}): past the retry horizon with no delivery record of EventBridge (log delivery is best-effort); not re-delivered:`, unconfirmed);
  section(`unverifiable (${unverifiable.length}): no completion record but older than such records live, and in no dead-letter queue; not counted as missing:`, unverifiable);
}

/** A duration as an operator reads it: whole seconds, tenths below ten. */
function seconds(ms: number): string {
  const value = ms >= 10_000 ? Math.ceil(ms / 1000) : Math.ceil(ms / 100) / 10;
  return `${value} s`;
}

/** The one line that says the window is not all written yet. */
function recorderBufferLine(report: ReconcileReport): string {
  const buffer = report.recorderBuffer as NonNullable<ReconcileReport['recorderBuffer']>;
  return `recorder buffer: the recorder may not have written the window's last ${seconds(buffer.unwrittenMs)} yet (it writes events up to ${seconds(buffer.bufferMs)} after they arrive); not clean until ${buffer.writtenBy}`;
}

async function recover(reconciliation: Reconciliation, sources: RecorderSources, io: CommandIo): Promise<{ delivered: number; redriven: number; recorded: number; failures: string[] }> {
  const recovery = sources.recovery;
  if (recovery === undefined) return { delivered: 0, redriven: 0, recorded: 0, failures: ['these sources cannot recover events'] };
  const failures: string[] = [];
  const warnings: string[] = [];
  let redriven = 0;
  if (reconciliation.work.deadLetters.length > 0) {
    const outcome = await recovery.redrive(reconciliation.work.deadLetters);
    redriven = outcome.delivered;
    failures.push(...outcome.failures);
    warnings.push(...(outcome.warnings ?? []));
  }
  // One delivery per target, with the exact event the bus delivered (read back from the recorder).
  const byTarget = new Map<TrackedTarget, BusEvent[]>();
  let delivered = 0;
  for (const { target, event } of reconciliation.work.missing) {
    try {
      // An event from the recorder DLQ is whole already; the recorder's rows hold normalized fields only.
      const full = event.fromRecorderDlq === true ? event.event : await sources.recorder.fullEvent(event);
      byTarget.set(target, [...(byTarget.get(target) ?? []), full]);
    } catch (error) {
      failures.push(`${event.fastioEventId} to ${target.route.name}/${target.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const [target, events] of byTarget) {
    const outcome = await recovery.deliver(target, events);
    delivered += outcome.delivered;
    failures.push(...outcome.failures);
    warnings.push(...(outcome.warnings ?? []));
  }
  let recorded = 0;
  if (reconciliation.work.unrecorded.length > 0 && recovery.rerecord !== undefined) {
    const outcome = await recovery.rerecord();
    recorded = outcome.delivered;
    failures.push(...outcome.failures);
  }
  io.err(
    `recover: redrove ${redriven} dead letter${redriven === 1 ? '' : 's'}, re-delivered ${delivered} missing event${delivered === 1 ? '' : 's'}, recorded ${recorded} event${recorded === 1 ? '' : 's'} of the recorder DLQ${failures.length === 0 ? '' : `, ${failures.length} failed`}`,
  );
  for (const failure of failures) io.err(`  failed: ${failure}`);
  for (const warning of warnings) io.err(`  warning: ${warning}`);
  return { delivered, redriven, recorded, failures };
}

export function createReconcileCommand(
  runtime: OpsRuntime = defaultRuntime,
  table: readonly Route[] = routeTable,
  factories: RecorderSourceFactories = defaultSourceFactories(runtime),
): OpsCommand {
  return {
    path: ['reconcile'],
    summary: 'check every recorded event of a window against every route it matched: completed, confirmed, dead-lettered, pending, missing, unconfirmed or unverifiable (--recover re-delivers to the target alone)',
    usage: '--from <time> --to <time> [--route <name>...] [--recover] [--stage <s>] [--region <r>] [--local] [--json]',
    options: { ...deploymentOptions, from: { type: 'string' }, to: { type: 'string' }, route: { type: 'string', multiple: true }, recover: { type: 'boolean' }, local: { type: 'boolean' } },
    async run({ options, io }) {
      const fromRaw = requiredStringOption(options, 'from');
      const toRaw = requiredStringOption(options, 'to');
      const now = runtime.now();
      const window: TimeWindow = parseWindow(fromRaw, toRaw, now);
      const names = stringListOption(options, 'route');
      const routes = names.length === 0 ? [...table] : resolveRoutes(names, table);
      const factory = sourcesFor(factories, options);
      const json = options.json === true;
      return withAwsErrors(async () => {
        const sources = await factory({ targets: routes.flatMap(trackedTargets), options });
        const reporter = progressReporter(io);
        const first = await reconcile(window, routes, sources, { now, progress: reporter.progress });
        reporter.finish();
        if (options.recover !== true || first.report.verdict !== 'failed') {
          if (json) io.out(JSON.stringify(first.report, null, 2));
          else printReport(first.report, io);
          return exitCode(first.report, io, options, fromRaw, toRaw);
        }
        if (!json) printReport(first.report, io, 'before recovery:');
        const recovery = await recover(first, sources, io);
        // Re-delivered events complete asynchronously: reconcile again until nothing needs recovery or the deadline.
        const deadline = runtime.now().getTime() + RECOVER_SETTLE_MS;
        const recovered = recoveredKeys(first);
        let last = await reconcile(window, routes, sources, { now: runtime.now() });
        while (awaitingRecovery(last, recovered) && runtime.now().getTime() < deadline) {
          await runtime.sleep(runtime.pollIntervalMs);
          last = await reconcile(window, routes, sources, { now: runtime.now() });
        }
        if (json) io.out(JSON.stringify({ before: first.report, recovery, after: last.report }, null, 2));
        else printReport(last.report, io, 'after recovery:');
        return exitCode(last.report, io, options, fromRaw, toRaw);
      });
    },
  };
}

/** A word as the shell reads it back: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** This very run again, as a command that works as printed: the same window, routes and deployment (--local kept). */
export function reconcileCommandLine(options: OptionValues, from: string, to: string, recover: boolean): string {
  const words = [...OPS_COMMAND.split(' '), 'reconcile', '--from', from, '--to', to];
  for (const route of stringListOption(options, 'route')) words.push('--route', route);
  for (const name of ['stage', 'region'] as const) {
    const value = stringOption(options, name);
    if (value !== undefined) words.push(`--${name}`, value);
  }
  if (options.local === true) words.push('--local');
  if (recover) words.push('--recover');
  return words.map(shellWord).join(' ');
}

/** `<route>/<target>#<fastio id>` of everything --recover acted on. */
function recoveredKeys(reconciliation: Reconciliation): Set<string> {
  return new Set([
    ...reconciliation.work.missing.map(({ target, event }) => `${target.route.name}/${target.name}#${event.fastioEventId}`),
    ...reconciliation.work.deadLetters.flatMap((letter) => (letter.fastioEventId === undefined ? [] : [`${letter.route}/${letter.target}#${letter.fastioEventId}`])),
  ]);
}

/** Whether to reconcile again: something still to recover, or a recovered event not yet completed (it is pending until its record lands). */
function awaitingRecovery(reconciliation: Reconciliation, recovered: ReadonlySet<string>): boolean {
  // The recorder's buffer passes within its interval (at most Firehose's 900 s): worth the wait.
  if (reconciliation.report.verdict === 'failed' || reconciliation.report.recorderBuffer !== undefined) return true;
  return reconciliation.report.routes.some((route) =>
    route.targets.some((target) => target.pending.some((entry) => recovered.has(`${target.route}/${target.target}#${entry.fastioEventId}`))),
  );
}

function exitCode(report: ReconcileReport, io: CommandIo, options: OptionValues, from: string, to: string): number {
  if (report.verdict === 'failed') {
    const parts = [
      ...(report.missing + report.deadLettered > 0 ? [`${report.missing} missing and ${report.deadLettered} dead-lettered deliveries`] : []),
      ...(report.recorderInput.complete ? [] : ['the recorder input was incomplete (its DLQ is not empty)']),
    ];
    io.err(`error: ${parts.join('; ')} between ${report.from} and ${report.to}; recover them with: ${reconcileCommandLine(options, from, to, true)}`);
  } else if (report.verdict === 'not-yet') {
    const when = report.rerunAfter === undefined ? 'later' : `after ${report.rerunAfter}`;
    const gaps = [
      ...(report.pending + report.unconfirmed > 0 || report.recorderBuffer === undefined ? [`${report.pending} pending and ${report.unconfirmed} unconfirmed deliveries`] : []),
      ...(report.recorderBuffer === undefined ? [] : [`the recorder may not have written the last ${seconds(report.recorderBuffer.unwrittenMs)} yet`]),
    ];
    // A relative --to (`now`) would move the window's end into the buffer again: the rerun names the window as checked.
    const rerun = report.recorderBuffer === undefined ? reconcileCommandLine(options, from, to, false) : reconcileCommandLine(options, report.from, report.to, false);
    io.err(`not yet: ${gaps.join('; ')} between ${report.from} and ${report.to}, nothing missing; run it again ${when}: ${rerun}`);
  }
  return report.exitCode;
}

export const reconcileCommand = createReconcileCommand();
