/**
 * What `ops trace` and `ops reconcile` read, as three interfaces, so one reconciliation runs over the
 * deployment (Athena, SQS, DynamoDB: lib/recorder/aws-sources.ts) and over the local pipeline
 * (`--local`) alike. Pure types, plus the list of targets whose completion can be checked.
 */
import type { DeadLetterRole } from '../constructs/secure-queue';
import type { BusEvent } from '../domain/route-samples';
import { isOwnTarget, targetName, type Route, type RouteTarget } from '../domain/route-types';
import type { TimeWindow } from '../ops/time-window';
import type { RecordedEvent } from './recorded-event';
import type { RecoveryLog } from './recovery-log';

/** Reports how far a long read got: `done` of `total` (undefined when not known yet). */
export type ScanProgress = (phase: string, done: number, total: number | undefined) => void;

export interface RecorderSource {
  /** Every recorded copy (resends and replays included) whose EventBridge `time` is in [from, to]. */
  events(window: TimeWindow, progress?: ScanProgress): Promise<RecordedEvent[]>;
  /** Every recorded copy of one Fast.io event, replays included, whose `time` is in [from, to]. */
  eventsOf(fastioEventId: string, window: TimeWindow): Promise<RecordedEvent[]>;
  /** The event exactly as the bus delivered it, for re-delivery. */
  fullEvent(recorded: RecordedEvent): Promise<BusEvent>;
}

/**
 * How a target's completion is known: a consumer's Powertools Idempotency record, the review
 * workflow's guard record, or (for targets outside the project: ARN, URL, topic, bus) only by no
 * dead letter holding the event.
 */
export type CompletionKind = 'idempotency' | 'review-guard' | 'delivery';

/** One target of one route, as trace and reconcile follow it. */
export interface TrackedTarget {
  readonly route: Route;
  readonly target: RouteTarget;
  /** targetName(target) */
  readonly name: string;
  readonly completion: CompletionKind;
}

export function completionKind(target: RouteTarget): CompletionKind {
  if (!isOwnTarget(target)) return 'delivery';
  if ('consumer' in target) return 'idempotency';
  return target.workflow === 'review' ? 'review-guard' : 'delivery';
}

export function trackedTargets(route: Route): TrackedTarget[] {
  return route.targets.map((target) => ({ route, target, name: targetName(target), completion: completionKind(target) }));
}

export interface Completion {
  /** When the record says the work completed (ISO 8601), when it says. */
  readonly at?: string;
  /** Which delivery of the event completed it (1 = the first), when the record says. */
  readonly attempt?: number;
  /** The record, for operators: e.g. `idempotency documents/queue#…` or `review#large-media#evt-1`. */
  readonly record: string;
}

export interface CompletionSource {
  /**
   * The completed ones among these Fast.io events on one target (idempotency or review-guard kind);
   * an event without a completed record is absent from the map.
   */
  completions(target: TrackedTarget, fastioEventIds: readonly string[]): Promise<ReadonlyMap<string, Completion>>;
}

export interface DeadLetter {
  /** The CLI handle of the queue: `<route>/<target>/<role>`. */
  readonly queue: string;
  readonly route: string;
  readonly target: string;
  readonly role: DeadLetterRole | 'subscription-dlq';
  readonly messageId: string;
  /** undefined when the message holds no readable event. */
  readonly fastioEventId?: string;
  /** Why it is there, in one line: EventBridge's ERROR_CODE/ERROR_MESSAGE, or the consumer's failure. */
  readonly reason: string;
  /** When it was dead-lettered (the message's SentTimestamp), ISO 8601. */
  readonly sentAt?: string;
  readonly receiveCount?: number;
}

export interface DeadLetterSource {
  /** Every message the dead-letter queues of these targets hold now; reading leaves them in place. */
  deadLetters(targets: readonly TrackedTarget[], progress?: ScanProgress): Promise<DeadLetter[]>;
}

/** What `--recover` does: each call delivers to the one target named, never back through the bus. */
export interface RecoverySink {
  /** Re-delivers these dead letters to their target and removes each from its queue once delivered. */
  redrive(deadLetters: readonly DeadLetter[]): Promise<RecoveryOutcome>;
  /** Delivers recorded events to one target alone. */
  deliver(target: TrackedTarget, events: readonly BusEvent[]): Promise<RecoveryOutcome>;
}

export interface RecoveryOutcome {
  readonly delivered: number;
  /** One line each: which event and why. */
  readonly failures: readonly string[];
}

export interface RecorderSources {
  readonly recorder: RecorderSource;
  readonly completions: CompletionSource;
  readonly deadLetters: DeadLetterSource;
  /** Absent where recovery is not possible (trace only needs reads). */
  readonly recovery?: RecoverySink;
  /** What recovery commands did (lib/recorder/recovery-log.ts), for trace; absent where there is none to read. */
  readonly recoveryLog?: RecoveryLog;
  /** Days a completion record lives; reconcile cannot tell a completed from a missing event older than that. */
  readonly completionExpiryDays: number;
  /**
   * Whether the deployment has this target: one whose values come from config is deployed only when
   * they were set. Targets it lacks are left out and named in the report.
   * @default every target is deployed
   */
  readonly deployed?: (target: TrackedTarget) => boolean;
}
