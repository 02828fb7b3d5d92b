/**
 * The two questions after an incident, answered from the flight recorder, the completion records
 * and the dead-letter queues (lib/recorder/sources.ts), with no AWS SDK here:
 * - reconcile: did every event of a window complete on every target of every route it matched?
 * - trace: where did one Fast.io event go?
 *
 * Rules, written down because they decide what "recovered" means:
 * - One Fast.io event is one event however often it was recorded: a Fast.io resend (same
 *   `detail.eventId`, new EventBridge id) and a replay copy (`replay-name`) are copies of it.
 * - A route counts an event when any copy matches its pattern under the route table this CLI was
 *   built with (the deployed one); a route that refuses replays matches no replay copy by its own
 *   pattern, so a replay alone never makes it owe an event.
 * - Every status rests on evidence, never on absence. Per target, in this order:
 *   `completed`: the project's own completion record (a stale dead letter of a completed event is harmless);
 *   `confirmed`: for a `delivery` target, EventBridge's INVOCATION_SUCCESS record for a copy of the event;
 *   `dead-lettered`: a dead letter of the event in one of the target's queues;
 *   `pending`: a queue of the target had messages in flight while read, or the event is younger
 *   than the target's retry horizon (lib/recorder/horizon.ts);
 *   `unverifiable`: past the horizon with no record, older than the target's completion records
 *   live (Powertools' expiry, the review guards' TTL): listed, not failing the run, never re-delivered;
 *   `missing`: an own target past its horizon with no record, or a `delivery` target whose
 *   EventBridge failure record has no dead letter left;
 *   `unconfirmed`: a `delivery` target past its horizon with neither a success nor a failure
 *   record (log delivery is best-effort): not clean, not re-delivered.
 * - Nothing is clean by absence at the recorder's buffer edge: the recorder (Firehose, and the
 *   local one like it) writes an event up to its buffering interval after it arrived, so a window
 *   ending later than (now - that interval) may lack its last events; it is not clean (exit 3).
 * - Exit codes: 0 when every event is completed, confirmed or unverifiable, the recorder's own
 *   DLQ is empty and the recorder has written the whole window; 1 when anything is missing or
 *   dead-lettered, or the recorder's input was incomplete; 3 when the only gaps are pending or
 *   unconfirmed, or the window's end is still within the recorder's buffer (run it again later).
 */
import { compiledRoutePattern } from '../domain/route-samples';
import { describeTarget, targetHandle, type Route } from '../domain/route-types';
import type { TimeWindow } from '../ops/time-window';
import { longestHorizonMs, retryHorizonMs } from './horizon';
import type { RecordedEvent } from './recorded-event';
import type { RecoveryAction } from './recovery-log';
import {
  trackedTargets,
  type Completion,
  type CompletionKind,
  type DeadLetter,
  type DeliveryRecord,
  type InFlightQueue,
  type RecorderDeadLetters,
  type RecorderSources,
  type ScanProgress,
  type TrackedTarget,
} from './sources';

export const TARGET_STATUSES = ['completed', 'confirmed', 'dead-lettered', 'pending', 'missing', 'unconfirmed', 'unverifiable'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

/** Exit codes of `ops reconcile`: clean, a gap to recover (or incomplete input), or only not-yet gaps. */
export const RECONCILE_EXIT = { clean: 0, failed: 1, notYet: 3 } as const;

const DAY_MS = 86_400_000;

/** All recorded copies of one Fast.io event. */
export interface EventCopies {
  readonly fastioEventId: string;
  /** Earliest first; originals (no replay-name) before replay copies of the same time. */
  readonly copies: readonly RecordedEvent[];
}

/** Groups copies by Fast.io event id, in order of the first copy's time. */
export function groupCopies(recorded: readonly RecordedEvent[]): EventCopies[] {
  const byId = new Map<string, RecordedEvent[]>();
  for (const copy of recorded) {
    const list = byId.get(copy.fastioEventId);
    if (list === undefined) byId.set(copy.fastioEventId, [copy]);
    else if (!list.some((known) => known.id !== '' && known.id === copy.id)) list.push(copy);
  }
  const order = (a: RecordedEvent, b: RecordedEvent) =>
    a.time.localeCompare(b.time) || Number(a.replayName !== undefined) - Number(b.replayName !== undefined) || a.id.localeCompare(b.id);
  return [...byId.entries()]
    .map(([fastioEventId, copies]) => ({ fastioEventId, copies: copies.sort(order) }))
    .sort((a, b) => order(a.copies[0] as RecordedEvent, b.copies[0] as RecordedEvent));
}

/** The copies of an event that this route's rule delivers (its pattern decides, replay-name included). */
export function matchingCopies(route: Route, event: EventCopies): RecordedEvent[] {
  const pattern = compiledRoutePattern(route);
  return event.copies.filter((copy) => pattern.matches(copy.event));
}

export interface TargetOutcome {
  readonly status: TargetStatus;
  readonly completion?: Completion;
  readonly deadLetters: readonly DeadLetter[];
  /** The bus-log records of the event on this target, oldest first. */
  readonly deliveries: readonly DeliveryRecord[];
  /** Why it is pending, missing or unconfirmed, in one line. */
  readonly why?: string;
  /** pending: when the target's horizon ends (ISO 8601). */
  readonly until?: string;
}

/** What classify weighs for one event on one target. */
export interface Evidence {
  readonly target: TrackedTarget;
  /** The event's first copy's `time` that this route counts. */
  readonly time: string;
  readonly completion?: Completion;
  readonly deadLetters: readonly DeadLetter[];
  readonly deliveries: readonly DeliveryRecord[];
  /** Queues of the target that had messages in flight while they were read. */
  readonly inFlight: readonly InFlightQueue[];
  readonly now: Date;
  /** Days the target's completion records live; undefined when they do not expire. */
  readonly expiryDays?: number;
  /** The horizon is divided by it (RecorderSources.timeScale). */
  readonly timeScale?: number;
}

const FAILED_DELIVERY = new Set<DeliveryRecord['status']>(['failed', 'dead-lettered']);

/** The status of one event on one target from its evidence (the rules in this file's header). */
export function classify(evidence: Evidence): TargetOutcome {
  const { target, completion, deadLetters, inFlight, now } = evidence;
  const deliveries = [...evidence.deliveries].sort((a, b) => a.at.localeCompare(b.at));
  const base = { deadLetters, deliveries };
  if (completion !== undefined) return { status: 'completed', completion, ...base };
  const delivery = target.completion === 'delivery';
  if (delivery && deliveries.some((record) => record.status === 'succeeded')) return { status: 'confirmed', ...base };
  if (deadLetters.length > 0) return { status: 'dead-lettered', ...base };
  if (inFlight.length > 0) {
    return { status: 'pending', ...base, why: `${inFlight.map((queue) => `${queue.inFlight} message(s) of ${queue.queue}`).join(', ')} in flight while read` };
  }
  const time = Date.parse(evidence.time);
  const horizonEnd = time + Math.round(retryHorizonMs(target) / (evidence.timeScale ?? 1));
  const lastAttempt = deliveries.at(-1);
  if (now.getTime() < horizonEnd) {
    const attempt = lastAttempt === undefined ? 'no delivery record yet' : `last record ${lastAttempt.status}${lastAttempt.reason === undefined ? '' : `: ${lastAttempt.reason}`}`;
    return { status: 'pending', ...base, until: new Date(horizonEnd).toISOString(), why: `within the target's retry horizon (${attempt})` };
  }
  if (evidence.expiryDays !== undefined && target.completion !== 'delivery' && time < now.getTime() - evidence.expiryDays * DAY_MS) {
    return { status: 'unverifiable', ...base };
  }
  if (!delivery) return { status: 'missing', ...base, why: 'no completion record and no dead letter past the retry horizon' };
  const failure = deliveries.find((record) => FAILED_DELIVERY.has(record.status));
  if (failure !== undefined) {
    return { status: 'missing', ...base, why: `EventBridge logged ${failure.status} at ${failure.at}${failure.reason === undefined ? '' : ` (${failure.reason})`} and no dead letter holds it` };
  }
  return { status: 'unconfirmed', ...base, why: 'no delivery record of EventBridge past the retry horizon' };
}

/** Dead letters by target, then by Fast.io event id. */
function indexDeadLetters(deadLetters: readonly DeadLetter[]): Map<string, Map<string, DeadLetter[]>> {
  const index = new Map<string, Map<string, DeadLetter[]>>();
  for (const letter of deadLetters) {
    if (letter.fastioEventId === undefined) continue;
    const key = targetHandle(letter.route, letter.target);
    const byEvent = index.get(key) ?? new Map<string, DeadLetter[]>();
    index.set(key, byEvent);
    byEvent.set(letter.fastioEventId, [...(byEvent.get(letter.fastioEventId) ?? []), letter]);
  }
  return index;
}

/** Delivery records by target, then by Fast.io event id (found through the copies' EventBridge ids). */
function indexDeliveries(records: readonly DeliveryRecord[], copies: readonly RecordedEvent[]): Map<string, Map<string, DeliveryRecord[]>> {
  const fastioIdOf = new Map(copies.filter((copy) => copy.id !== '').map((copy) => [copy.id, copy.fastioEventId]));
  const index = new Map<string, Map<string, DeliveryRecord[]>>();
  for (const record of records) {
    const fastioEventId = record.fastioEventId ?? fastioIdOf.get(record.eventId);
    if (fastioEventId === undefined) continue;
    const key = targetHandle(record.route, record.target);
    const byEvent = index.get(key) ?? new Map<string, DeliveryRecord[]>();
    index.set(key, byEvent);
    byEvent.set(fastioEventId, [...(byEvent.get(fastioEventId) ?? []), { ...record, fastioEventId }]);
  }
  return index;
}

/**
 * A re-delivery the recovery log says succeeded (the target answered the CLI itself: SQS took the
 * message, the endpoint answered 2xx) is the same evidence as EventBridge's success record: after a
 * redrive no bus-log success exists for the event, and it is not lost.
 */
export function recoveryDeliveries(actions: readonly RecoveryAction[] | undefined): DeliveryRecord[] {
  return (actions ?? []).flatMap((action) =>
    action.outcome !== 'delivered' || action.target === undefined || action.fastioEventId === undefined
      ? []
      : [{ route: action.route, target: action.target, eventId: '', fastioEventId: action.fastioEventId, status: 'succeeded' as const, at: action.at, reason: `re-delivered by ${action.by} (${action.command})` }],
  );
}

function inFlightByTarget(queues: readonly InFlightQueue[]): Map<string, InFlightQueue[]> {
  const index = new Map<string, InFlightQueue[]>();
  for (const queue of queues) {
    if (queue.inFlight <= 0) continue;
    const key = targetHandle(queue.route, queue.target);
    index.set(key, [...(index.get(key) ?? []), queue]);
  }
  return index;
}

function expiryDaysOf(sources: RecorderSources, kind: CompletionKind): number | undefined {
  if (kind === 'idempotency') return sources.completionExpiryDays;
  if (kind === 'review-guard') return sources.reviewGuardExpiryDays;
  return undefined;
}

async function completionsOf(sources: RecorderSources, target: TrackedTarget, ids: readonly string[]): Promise<ReadonlyMap<string, Completion>> {
  if (target.completion === 'delivery' || ids.length === 0) return new Map();
  return sources.completions.completions(target, ids);
}

/** Recorded copies plus the recorder DLQ's events of the window (they are whole events EventBridge could not record). */
function withRecorderDeadLetters(recorded: readonly RecordedEvent[], input: RecorderDeadLetters | undefined, window: TimeWindow): RecordedEvent[] {
  if (input === undefined) return [...recorded];
  const known = new Set(recorded.map((copy) => copy.id).filter((id) => id !== ''));
  const from = window.from.getTime();
  const to = window.to.getTime();
  const joined = input.events.filter((event) => {
    const time = Date.parse(event.time);
    return time >= from && time <= to && !(event.id !== '' && known.has(event.id));
  });
  return [...recorded, ...joined.map((event): RecordedEvent => ({ ...event, fromRecorderDlq: true }))];
}

// ---- reconcile ------------------------------------------------------------------------------------

/** One event on one target, as `--json` carries it. */
export interface EventOutcome {
  readonly fastioEventId: string;
  readonly status: TargetStatus;
  readonly why?: string;
  readonly until?: string;
}

export interface TargetReport {
  readonly route: string;
  readonly target: string;
  /** e.g. `queue catalog-consumer` */
  readonly describe: string;
  readonly completion: CompletionKind;
  /** The target's retry horizon in minutes after an event's time. */
  readonly horizonMinutes: number;
  readonly counts: Readonly<Record<TargetStatus, number>>;
  /** Every event the route matched, with its status on this target. */
  readonly events: readonly EventOutcome[];
  readonly missing: readonly string[];
  readonly deadLettered: readonly { readonly fastioEventId: string; readonly queue: string; readonly reason: string }[];
  readonly pending: readonly { readonly fastioEventId: string; readonly why: string; readonly until?: string }[];
  readonly unconfirmed: readonly string[];
  readonly unverifiable: readonly string[];
}

export interface RouteReport {
  readonly route: string;
  /** Distinct Fast.io events the route matched. */
  readonly events: number;
  readonly targets: readonly TargetReport[];
}

/** The recorder's own DLQ: events EventBridge could not record. */
export interface RecorderInputReport {
  /** False while the recorder DLQ holds anything, or when it had messages in flight. */
  readonly complete: boolean;
  readonly deadLetters: number;
  readonly inFlight: number;
  /** Of its events, those of the window, which joined the reconciled set. */
  readonly joined: number;
  /** False where the sources have no recorder DLQ to read. */
  readonly checked: boolean;
}

export type ReconcileVerdict = 'clean' | 'failed' | 'not-yet';

/** The window's end lies within the recorder's buffering interval: its last events may not be readable yet. */
export interface RecorderBufferReport {
  /** Milliseconds at the window's end the recorder may not have written yet. */
  readonly unwrittenMs: number;
  /** The recorder's buffering interval as it runs (time-scaled locally), in milliseconds. */
  readonly bufferMs: number;
  /** When the recorder has written every event of the window (ISO 8601): run it again then. */
  readonly writtenBy: string;
}

/**
 * The part of the window the recorder may not have written by `now`: events arrive up to their
 * `time` and are written up to `bufferMs` later. undefined when the whole window is written.
 */
export function recorderBufferGap(window: TimeWindow, bufferMs: number, now: Date): RecorderBufferReport | undefined {
  const writtenUpTo = now.getTime() - bufferMs;
  const end = Math.min(window.to.getTime(), now.getTime());
  if (bufferMs <= 0 || end <= writtenUpTo) return undefined;
  return { unwrittenMs: end - Math.max(window.from.getTime(), writtenUpTo), bufferMs, writtenBy: new Date(window.to.getTime() + bufferMs).toISOString() };
}

export interface ReconcileReport {
  readonly from: string;
  readonly to: string;
  /** Recorded copies in the window, resends and replays included (and the recorder DLQ's). */
  readonly recorded: number;
  /** Distinct Fast.io events. */
  readonly events: number;
  /** Copies beyond the first of an event that were not replays: Fast.io resends. */
  readonly resends: number;
  readonly replayCopies: number;
  readonly routes: readonly RouteReport[];
  /** `<route>/<target>` of the table's targets this deployment does not have (config not set). */
  readonly notDeployed: readonly string[];
  /** Totals over every target, per status. */
  readonly totals: Readonly<Record<TargetStatus, number>>;
  readonly missing: number;
  readonly deadLettered: number;
  readonly pending: number;
  readonly unconfirmed: number;
  readonly unverifiable: number;
  /** Fast.io ids of events first recorded before the pipeline whose evidence this is started (local only): not checked. */
  readonly recordedBeforeStart: readonly string[];
  readonly recorderInput: RecorderInputReport;
  /** Present when the recorder may not have written the window's last events yet (the report is then not clean). */
  readonly recorderBuffer?: RecorderBufferReport;
  /** clean: exit 0; failed: exit 1; not-yet: only pending or unconfirmed, or the window's end still in the recorder's buffer, exit 3. */
  readonly verdict: ReconcileVerdict;
  readonly exitCode: number;
  /** not-yet: when every pending event's horizon has passed and the recorder has written the window (run it again then). */
  readonly rerunAfter?: string;
  /** Nothing missing, dead-lettered, pending or unconfirmed, and the recorder's input complete. */
  readonly clean: boolean;
}

/** What --recover has to do: a recorded event per missing target, the dead letters to redrive, the recorder DLQ's events to record. */
export interface RecoveryWork {
  readonly missing: readonly { readonly target: TrackedTarget; readonly event: RecordedEvent }[];
  readonly deadLetters: readonly DeadLetter[];
  /** Every readable event of the recorder DLQ (of the window or not: each is an unrecorded event). */
  readonly unrecorded: readonly RecordedEvent[];
}

export interface Reconciliation {
  readonly report: ReconcileReport;
  readonly work: RecoveryWork;
}

export interface ReconcileOptions {
  readonly now: Date;
  readonly progress?: ScanProgress;
}

/** The targets of a route the deployment has, and the names of those it lacks. */
function deployedTargets(route: Route, sources: RecorderSources): { targets: TrackedTarget[]; absent: string[] } {
  const all = trackedTargets(route);
  const targets = all.filter((target) => sources.deployed?.(target) ?? true);
  return { targets, absent: all.filter((target) => !targets.includes(target)).map((target) => targetHandle(route.name, target.name)) };
}

function emptyCounts(): Record<TargetStatus, number> {
  return { completed: 0, confirmed: 0, 'dead-lettered': 0, pending: 0, missing: 0, unconfirmed: 0, unverifiable: 0 };
}

/** The verdict and exit code of a report's totals, recorder input and recorder buffer (the rules in this file's header). */
export function verdictOf(
  totals: Readonly<Record<TargetStatus, number>>,
  recorderInput: RecorderInputReport,
  recorderBuffer?: RecorderBufferReport,
): { verdict: ReconcileVerdict; exitCode: number } {
  if (totals.missing > 0 || totals['dead-lettered'] > 0 || !recorderInput.complete) return { verdict: 'failed', exitCode: RECONCILE_EXIT.failed };
  if (totals.pending > 0 || totals.unconfirmed > 0 || recorderBuffer !== undefined) return { verdict: 'not-yet', exitCode: RECONCILE_EXIT.notYet };
  return { verdict: 'clean', exitCode: RECONCILE_EXIT.clean };
}

/** Checks every recorded event of the window against every target of every route (of `routes`) it matched. */
export async function reconcile(window: TimeWindow, routes: readonly Route[], sources: RecorderSources, options: ReconcileOptions): Promise<Reconciliation> {
  const progress = options.progress ?? (() => undefined);
  const now = options.now;
  const recorderBuffer = recorderBufferGap(window, sources.recorderBufferMs ?? 0, now);
  const input = await sources.recorderInput?.recorderDeadLetters(progress);
  const recorded = withRecorderDeadLetters(await sources.recorder.events(window, progress), input, window);
  // Locally, completion records and dead letters live in the running pipeline's memory: an event it
  // did not see (first recorded before it started) has no evidence here, and is listed apart.
  const grouped = groupCopies(recorded);
  const startedAt = sources.evidenceSince?.getTime();
  const beforeStart = (event: EventCopies) => startedAt !== undefined && Date.parse((event.copies[0] as RecordedEvent).time) < startedAt;
  const events = grouped.filter((event) => !beforeStart(event));
  const recordedBeforeStart = grouped.filter(beforeStart).map((event) => event.fastioEventId);
  const deployed = routes.map((route) => deployedTargets(route, sources));
  const targets = deployed.flatMap((entry) => entry.targets);
  const scan = await sources.deadLetters.deadLetters(targets, progress);
  const lettersByTarget = indexDeadLetters(scan.letters);
  const inFlight = inFlightByTarget(scan.inFlight);
  const deliveryTargets = targets.filter((target) => target.completion === 'delivery');
  const records = sources.deliveries === undefined || deliveryTargets.length === 0 || events.length === 0 ? [] : await sources.deliveries.deliveries(deliveryTargets, { window }, progress);
  const recovered = recoveryDeliveries(await sources.recoveryLog?.actionsIn({ from: window.from, to: options.now }));
  const deliveriesByTarget = indexDeliveries([...records, ...recovered], recorded);

  const routeReports: RouteReport[] = [];
  const missingWork: { target: TrackedTarget; event: RecordedEvent }[] = [];
  const deadLetterWork: DeadLetter[] = [];
  const pendingUntil: number[] = [];
  const totalChecks = targets.length;
  let checked = 0;
  for (const [index, route] of routes.entries()) {
    const matched = events.flatMap((event) => {
      const copies = matchingCopies(route, event);
      return copies.length === 0 ? [] : [{ event, copy: copies.find((copy) => copy.replayName === undefined) ?? (copies[0] as RecordedEvent) }];
    });
    const ids = matched.map(({ event }) => event.fastioEventId);
    const targetReports: TargetReport[] = [];
    for (const target of deployed[index]?.targets ?? []) {
      const key = targetHandle(route.name, target.name);
      const completions = await completionsOf(sources, target, ids);
      const letters = lettersByTarget.get(key) ?? new Map<string, DeadLetter[]>();
      const deliveries = deliveriesByTarget.get(key) ?? new Map<string, DeliveryRecord[]>();
      const counts = emptyCounts();
      const outcomes: EventOutcome[] = [];
      const missing: string[] = [];
      const deadLettered: { fastioEventId: string; queue: string; reason: string }[] = [];
      const pending: { fastioEventId: string; why: string; until?: string }[] = [];
      const unconfirmed: string[] = [];
      const unverifiable: string[] = [];
      for (const { event, copy } of matched) {
        const id = event.fastioEventId;
        const completion = completions.get(id);
        const expiryDays = expiryDaysOf(sources, target.completion);
        const outcome = classify({
          target,
          time: copy.time,
          ...(completion === undefined ? {} : { completion }),
          deadLetters: letters.get(id) ?? [],
          deliveries: deliveries.get(id) ?? [],
          inFlight: inFlight.get(key) ?? [],
          now,
          ...(expiryDays === undefined ? {} : { expiryDays }),
          ...(sources.timeScale === undefined ? {} : { timeScale: sources.timeScale }),
        });
        counts[outcome.status] += 1;
        outcomes.push({ fastioEventId: id, status: outcome.status, ...(outcome.why === undefined ? {} : { why: outcome.why }), ...(outcome.until === undefined ? {} : { until: outcome.until }) });
        switch (outcome.status) {
          case 'missing':
            missing.push(id);
            missingWork.push({ target, event: copy });
            break;
          case 'dead-lettered':
            for (const letter of outcome.deadLetters) deadLettered.push({ fastioEventId: id, queue: letter.queue, reason: letter.reason });
            deadLetterWork.push(...outcome.deadLetters);
            break;
          case 'pending':
            pending.push({ fastioEventId: id, why: outcome.why ?? '', ...(outcome.until === undefined ? {} : { until: outcome.until }) });
            if (outcome.until !== undefined) pendingUntil.push(Date.parse(outcome.until));
            break;
          case 'unconfirmed':
            unconfirmed.push(id);
            break;
          case 'unverifiable':
            unverifiable.push(id);
            break;
          default:
            break;
        }
      }
      targetReports.push({
        route: route.name,
        target: target.name,
        describe: describeTarget(target.target),
        completion: target.completion,
        horizonMinutes: Math.round(retryHorizonMs(target) / (sources.timeScale ?? 1) / 60_000),
        counts,
        events: outcomes,
        missing,
        deadLettered,
        pending,
        unconfirmed,
        unverifiable,
      });
      checked += 1;
      progress('completions', checked, totalChecks);
    }
    routeReports.push({ route: route.name, events: matched.length, targets: targetReports });
  }

  const totals = emptyCounts();
  for (const route of routeReports) for (const target of route.targets) for (const status of TARGET_STATUSES) totals[status] += target.counts[status];
  const joined = recorded.filter((copy) => copy.fromRecorderDlq === true).length;
  const recorderInput: RecorderInputReport = {
    checked: input !== undefined,
    complete: input === undefined || (input.messages === 0 && input.inFlight === 0),
    deadLetters: input?.messages ?? 0,
    inFlight: input?.inFlight ?? 0,
    joined,
  };
  const { verdict, exitCode } = verdictOf(totals, recorderInput, recorderBuffer);
  // An in-flight queue has no horizon of its own: a reader's visibility timeout is at most the longest horizon.
  const anyInFlight = routeReports.some((route) => route.targets.some((target) => target.pending.some((entry) => entry.until === undefined)));
  if (recorderBuffer !== undefined) pendingUntil.push(Date.parse(recorderBuffer.writtenBy));
  const rerun = pendingUntil.length === 0 ? undefined : Math.max(...pendingUntil);
  const rerunAfter = rerun !== undefined ? new Date(rerun) : anyInFlight ? new Date(now.getTime() + 5 * 60_000) : undefined;
  const replayCopies = recorded.filter((copy) => copy.replayName !== undefined).length;
  return {
    report: {
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      recorded: recorded.length,
      events: events.length,
      resends: events.reduce((total, event) => total + Math.max(0, event.copies.filter((copy) => copy.replayName === undefined).length - 1), 0),
      replayCopies,
      routes: routeReports,
      notDeployed: deployed.flatMap((entry) => entry.absent),
      totals,
      missing: totals.missing,
      deadLettered: totals['dead-lettered'],
      pending: totals.pending,
      unconfirmed: totals.unconfirmed,
      unverifiable: totals.unverifiable,
      recorderInput,
      ...(recorderBuffer === undefined ? {} : { recorderBuffer }),
      recordedBeforeStart,
      verdict,
      exitCode,
      ...(rerunAfter === undefined || (totals.pending === 0 && recorderBuffer === undefined) ? {} : { rerunAfter: rerunAfter.toISOString() }),
      clean: verdict === 'clean',
    },
    work: { missing: missingWork, deadLetters: deadLetterWork, unrecorded: input?.events ?? [] },
  };
}

/** How far past a window's end its evidence can arrive, for the sources reading delivery records. */
export function evidenceHorizonMs(routes: readonly Route[]): number {
  return longestHorizonMs(routes.flatMap(trackedTargets));
}

// ---- trace ----------------------------------------------------------------------------------------

export interface TraceTarget {
  readonly target: string;
  readonly describe: string;
  readonly completion: CompletionKind;
  readonly status: TargetStatus;
  readonly completed?: Completion;
  readonly deadLetters: readonly DeadLetter[];
  /** What recovery commands did for this event on this target, oldest first (the recovery log). */
  readonly recovery: readonly RecoveryAction[];
  /** EventBridge's delivery records of the event on this target, oldest first. */
  readonly deliveries: readonly DeliveryRecord[];
  readonly why?: string;
}

export interface TraceRoute {
  readonly route: string;
  /** Replays whose copy of the event this route's rule delivered. */
  readonly replays: readonly string[];
  readonly targets: readonly TraceTarget[];
}

export interface TraceReport {
  readonly fastioEventId: string;
  readonly from: string;
  readonly to: string;
  /** The first copy that was not a replay (else the first copy); undefined when nothing was recorded. */
  readonly received?: {
    readonly id: string;
    readonly time: string;
    readonly detailType: string;
    readonly sizeBytes?: number;
    readonly quarantined: boolean;
    readonly body: RecordedEvent['body'];
  };
  /** Every recorded copy: the original, Fast.io resends, replay copies. */
  readonly copies: readonly { readonly id: string; readonly time: string; readonly replayName?: string }[];
  readonly routes: readonly TraceRoute[];
  /** Every route of the table no copy matched, with the first field that failed for the first copy and why. */
  readonly notMatched: readonly { readonly route: string; readonly path: string; readonly reason: string }[];
}

/** One event's journey: received, every route it matched, and per target completed, dead-lettered or missing. */
export async function trace(fastioEventId: string, window: TimeWindow, routes: readonly Route[], sources: RecorderSources, now: Date): Promise<TraceReport> {
  const recorded = await sources.recorder.eventsOf(fastioEventId, window);
  const [event] = groupCopies(recorded.filter((copy) => copy.fastioEventId === fastioEventId));
  const base = { fastioEventId, from: window.from.toISOString(), to: window.to.toISOString() };
  if (event === undefined) return { ...base, copies: [], routes: [], notMatched: [] };
  const first = event.copies.find((copy) => copy.replayName === undefined) ?? (event.copies[0] as RecordedEvent);
  const matchedRoutes = routes.map((route) => ({ route, copies: matchingCopies(route, event) })).filter(({ copies }) => copies.length > 0);
  const targets = matchedRoutes.flatMap(({ route }) => deployedTargets(route, sources).targets);
  const scan = await sources.deadLetters.deadLetters(targets);
  const letters = indexDeadLetters(scan.letters);
  const inFlight = inFlightByTarget(scan.inFlight);
    const eventIds = event.copies.map((copy) => copy.id).filter((id) => id !== '');
  const records = sources.deliveries === undefined || targets.length === 0 ? [] : await sources.deliveries.deliveries(targets, { window, eventIds });
  const deliveries = indexDeliveries(records, event.copies);
  // Recovery comes after the event, up to now: the window bounds the event, not what was done for it.
  const recovery = (await sources.recoveryLog?.actionsOf(fastioEventId, { from: window.from, to: now })) ?? [];
  const traced: TraceRoute[] = [];
  for (const { route, copies } of matchedRoutes) {
    const traceTargets: TraceTarget[] = [];
    for (const target of deployedTargets(route, sources).targets) {
      const completion = (await completionsOf(sources, target, [fastioEventId])).get(fastioEventId);
      const key = targetHandle(route.name, target.name);
      const deadLetters = letters.get(key)?.get(fastioEventId) ?? [];
      const expiryDays = expiryDaysOf(sources, target.completion);
      const outcome = classify({
        target,
        time: first.time,
        ...(completion === undefined ? {} : { completion }),
        deadLetters,
        deliveries: [
          ...(deliveries.get(key)?.get(fastioEventId) ?? []),
          ...recoveryDeliveries(recovery).filter((record) => record.route === route.name && record.target === target.name),
        ],
        inFlight: inFlight.get(key) ?? [],
        now,
        ...(expiryDays === undefined ? {} : { expiryDays }),
        ...(sources.timeScale === undefined ? {} : { timeScale: sources.timeScale }),
      });
      traceTargets.push({
        target: target.name,
        describe: describeTarget(target.target),
        completion: target.completion,
        status: outcome.status,
        ...(completion === undefined ? {} : { completed: completion }),
        deadLetters,
        // EventBridge's own records; a recovery's delivery is in `recovery`.
        deliveries: outcome.deliveries.filter((record) => record.eventId !== ''),
        ...(outcome.why === undefined ? {} : { why: outcome.why }),
        recovery: recovery.filter((action) => action.route === route.name && (action.target === undefined || action.target === target.name)).sort((a, b) => a.at.localeCompare(b.at)),
      });
    }
    const replays = [...new Set(copies.flatMap((copy) => (copy.replayName === undefined ? [] : [copy.replayName])))];
    traced.push({ route: route.name, replays, targets: traceTargets });
  }
  return {
    ...base,
    received: {
      id: first.id,
      time: first.time,
      detailType: first.detailType,
      ...(first.sizeBytes === undefined ? {} : { sizeBytes: first.sizeBytes }),
      quarantined: first.quarantined,
      body: first.body,
    },
    copies: event.copies.map((copy) => ({ id: copy.id, time: copy.time, ...(copy.replayName === undefined ? {} : { replayName: copy.replayName }) })),
    routes: traced,
    notMatched: routes
      .filter((route) => !matchedRoutes.some((matched) => matched.route === route))
      .map((route) => {
        const failure = compiledRoutePattern(route).explain(first.event);
        return { route: route.name, path: failure?.path ?? '', reason: failure?.reason ?? 'no copy matched' };
      }),
  };
}
