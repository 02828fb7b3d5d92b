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
 * - Per target: a completed record wins (a stale dead letter of a completed event is harmless);
 *   else a dead letter of the event in the target's queues makes it dead-lettered; else an own
 *   target is missing, and a target outside the project (ARN, URL, topic, bus) counts as delivered.
 * - Powertools deletes completion records after the expiry (IDEMPOTENCY_EXPIRY_DAYS, default 7): a
 *   queue or function target's event older than that with no record is `unverifiable`, listed but
 *   not failing the run and never re-delivered (the consumer would redo work it may have done).
 *   The review guard records do not expire.
 */
import { compiledRoutePattern } from '../domain/route-samples';
import { describeTarget, type Route } from '../domain/route-types';
import type { TimeWindow } from '../ops/time-window';
import type { RecordedEvent } from './recorded-event';
import type { RecoveryAction } from './recovery-log';
import { trackedTargets, type Completion, type CompletionKind, type DeadLetter, type RecorderSources, type ScanProgress, type TrackedTarget } from './sources';

export const TARGET_STATUSES = ['completed', 'delivered', 'dead-lettered', 'missing', 'unverifiable'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

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
}

function classify(kind: CompletionKind, completion: Completion | undefined, deadLetters: readonly DeadLetter[], expired: boolean): TargetOutcome {
  if (completion !== undefined) return { status: 'completed', completion, deadLetters };
  if (deadLetters.length > 0) return { status: 'dead-lettered', deadLetters };
  if (kind === 'delivery') return { status: 'delivered', deadLetters };
  if (kind === 'idempotency' && expired) return { status: 'unverifiable', deadLetters };
  return { status: 'missing', deadLetters };
}

function targetKey(route: string, target: string): string {
  return `${route}/${target}`;
}

/** Dead letters by target, then by Fast.io event id. */
function indexDeadLetters(deadLetters: readonly DeadLetter[]): Map<string, Map<string, DeadLetter[]>> {
  const index = new Map<string, Map<string, DeadLetter[]>>();
  for (const letter of deadLetters) {
    if (letter.fastioEventId === undefined) continue;
    const key = targetKey(letter.route, letter.target);
    const byEvent = index.get(key) ?? new Map<string, DeadLetter[]>();
    index.set(key, byEvent);
    byEvent.set(letter.fastioEventId, [...(byEvent.get(letter.fastioEventId) ?? []), letter]);
  }
  return index;
}

async function completionsOf(sources: RecorderSources, target: TrackedTarget, ids: readonly string[]): Promise<ReadonlyMap<string, Completion>> {
  if (target.completion === 'delivery' || ids.length === 0) return new Map();
  return sources.completions.completions(target, ids);
}

// ---- reconcile ------------------------------------------------------------------------------------

export interface TargetReport {
  readonly route: string;
  readonly target: string;
  /** e.g. `queue catalog-consumer` */
  readonly describe: string;
  readonly completion: CompletionKind;
  readonly counts: Readonly<Record<TargetStatus, number>>;
  readonly missing: readonly string[];
  readonly deadLettered: readonly { readonly fastioEventId: string; readonly queue: string; readonly reason: string }[];
  readonly unverifiable: readonly string[];
}

export interface RouteReport {
  readonly route: string;
  /** Distinct Fast.io events the route matched. */
  readonly events: number;
  readonly targets: readonly TargetReport[];
}

export interface ReconcileReport {
  readonly from: string;
  readonly to: string;
  /** Recorded copies in the window, resends and replays included. */
  readonly recorded: number;
  /** Distinct Fast.io events. */
  readonly events: number;
  /** Copies beyond the first of an event that were not replays: Fast.io resends. */
  readonly resends: number;
  readonly replayCopies: number;
  readonly routes: readonly RouteReport[];
  /** `<route>/<target>` of the table's targets this deployment does not have (config not set). */
  readonly notDeployed: readonly string[];
  readonly missing: number;
  readonly deadLettered: number;
  readonly unverifiable: number;
  /** Nothing missing, nothing dead-lettered. */
  readonly clean: boolean;
}

/** What --recover has to do: a recorded event per missing target, and the dead letters to redrive. */
export interface RecoveryWork {
  readonly missing: readonly { readonly target: TrackedTarget; readonly event: RecordedEvent }[];
  readonly deadLetters: readonly DeadLetter[];
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
  return { targets, absent: all.filter((target) => !targets.includes(target)).map((target) => `${route.name}/${target.name}`) };
}

function emptyCounts(): Record<TargetStatus, number> {
  return { completed: 0, delivered: 0, 'dead-lettered': 0, missing: 0, unverifiable: 0 };
}

/** Checks every recorded event of the window against every target of every route (of `routes`) it matched. */
export async function reconcile(window: TimeWindow, routes: readonly Route[], sources: RecorderSources, options: ReconcileOptions): Promise<Reconciliation> {
  const progress = options.progress ?? (() => undefined);
  const recorded = await sources.recorder.events(window, progress);
  const events = groupCopies(recorded);
  const deployed = routes.map((route) => deployedTargets(route, sources));
  const targets = deployed.flatMap((entry) => entry.targets);
  const deadLetters = await sources.deadLetters.deadLetters(targets, progress);
  const lettersByTarget = indexDeadLetters(deadLetters);
  const expiredBefore = options.now.getTime() - sources.completionExpiryDays * DAY_MS;

  const routeReports: RouteReport[] = [];
  const missingWork: { target: TrackedTarget; event: RecordedEvent }[] = [];
  const deadLetterWork: DeadLetter[] = [];
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
      const completions = await completionsOf(sources, target, ids);
      const letters = lettersByTarget.get(targetKey(route.name, target.name)) ?? new Map<string, DeadLetter[]>();
      const counts = emptyCounts();
      const missing: string[] = [];
      const deadLettered: { fastioEventId: string; queue: string; reason: string }[] = [];
      const unverifiable: string[] = [];
      for (const { event, copy } of matched) {
        const expired = Date.parse(copy.time) < expiredBefore;
        const outcome = classify(target.completion, completions.get(event.fastioEventId), letters.get(event.fastioEventId) ?? [], expired);
        counts[outcome.status] += 1;
        if (outcome.status === 'missing') {
          missing.push(event.fastioEventId);
          missingWork.push({ target, event: copy });
        } else if (outcome.status === 'dead-lettered') {
          for (const letter of outcome.deadLetters) deadLettered.push({ fastioEventId: event.fastioEventId, queue: letter.queue, reason: letter.reason });
          deadLetterWork.push(...outcome.deadLetters);
        } else if (outcome.status === 'unverifiable') {
          unverifiable.push(event.fastioEventId);
        }
      }
      targetReports.push({ route: route.name, target: target.name, describe: describeTarget(target.target), completion: target.completion, counts, missing, deadLettered, unverifiable });
      checked += 1;
      progress('completions', checked, totalChecks);
    }
    routeReports.push({ route: route.name, events: matched.length, targets: targetReports });
  }

  const sum = (status: TargetStatus) => routeReports.reduce((total, route) => total + route.targets.reduce((n, target) => n + target.counts[status], 0), 0);
  const replayCopies = recorded.filter((copy) => copy.replayName !== undefined).length;
  const missingCount = sum('missing');
  const deadLetteredCount = sum('dead-lettered');
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
      missing: missingCount,
      deadLettered: deadLetteredCount,
      unverifiable: sum('unverifiable'),
      clean: missingCount === 0 && deadLetteredCount === 0,
    },
    work: { missing: missingWork, deadLetters: deadLetterWork },
  };
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
  const letters = indexDeadLetters(await sources.deadLetters.deadLetters(targets));
  const expired = Date.parse(first.time) < now.getTime() - sources.completionExpiryDays * DAY_MS;
  // Recovery comes after the event, up to now: the window bounds the event, not what was done for it.
  const recovery = (await sources.recoveryLog?.actionsOf(fastioEventId, { from: window.from, to: now })) ?? [];
  const traced: TraceRoute[] = [];
  for (const { route, copies } of matchedRoutes) {
    const traceTargets: TraceTarget[] = [];
    for (const target of deployedTargets(route, sources).targets) {
      const completion = (await completionsOf(sources, target, [fastioEventId])).get(fastioEventId);
      const deadLetters = letters.get(targetKey(route.name, target.name))?.get(fastioEventId) ?? [];
      const outcome = classify(target.completion, completion, deadLetters, expired);
      traceTargets.push({
        target: target.name,
        describe: describeTarget(target.target),
        completion: target.completion,
        status: outcome.status,
        ...(completion === undefined ? {} : { completed: completion }),
        deadLetters,
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
