/**
 * What `ops trace` and `ops reconcile` read, as interfaces, so one reconciliation runs over the
 * deployment (Athena, SQS, DynamoDB: lib/ops/recorder-aws-sources.ts) and over the local pipeline
 * (`--local`) alike: the recorded events, the completion records, the dead letters, EventBridge's
 * own delivery records (the bus log, lib/recorder/bus-log.ts) and the recorder's own dead letters.
 * Pure types, plus the list of targets whose completion can be checked.
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
 * workflow's guard record, or (for targets outside the project: ARN, URL, topic, bus, and own
 * workflows without a guard) EventBridge's own delivery record of the event to the target.
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

/** A dead-letter queue that had messages in flight (received by someone, hidden) while it was read. */
export interface InFlightQueue {
  /** The CLI handle of the queue: `<route>/<target>/<role>`. */
  readonly queue: string;
  readonly route: string;
  readonly target: string;
  /** ApproximateNumberOfMessagesNotVisible (locally: the messages a peek hides) beyond this read's own. */
  readonly inFlight: number;
}

export interface DeadLetterScan {
  /** Every message the queues hold. */
  readonly letters: readonly DeadLetter[];
  /** Queues with messages hidden from this read: any of them may be a wanted event, so it is not done. */
  readonly inFlight: readonly InFlightQueue[];
}

export interface DeadLetterSource {
  /**
   * Every message the dead-letter queues of these targets hold now, read until a receive returns
   * nothing unseen; reading leaves them in place (every handle hidden is released).
   */
  deadLetters(targets: readonly TrackedTarget[], progress?: ScanProgress): Promise<DeadLetterScan>;
}

/**
 * What EventBridge says happened to one event on one target (a bus-log record, lib/recorder/bus-log.ts).
 * `succeeded` is the target's acceptance (SQS took the message, the function was invoked, the
 * endpoint answered 2xx); `retrying` / `throttled` / `attempt-failed` are attempts; `failed` and
 * `dead-lettered` are EventBridge giving up on it.
 */
export const DELIVERY_STATUSES = ['succeeded', 'retrying', 'throttled', 'attempt-failed', 'failed', 'dead-lettered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryRecord {
  readonly route: string;
  readonly target: string;
  /** EventBridge's event id: bus-log records name this, not the Fast.io id (reconcile maps it through the recorded copies). */
  readonly eventId: string;
  /** Set when the source knows it (the local pipeline does); else reconcile finds it by `eventId`. */
  readonly fastioEventId?: string;
  readonly status: DeliveryStatus;
  /** When EventBridge wrote the record, ISO 8601. */
  readonly at: string;
  /** One line: the error EventBridge logged, or the final status. */
  readonly reason?: string;
  /** Which attempt (1 = the first), when the record says. */
  readonly attempt?: number;
}

export interface DeliveryQuery {
  /**
   * The recorded events' window (by their own `time`). A delivery record is never older than its
   * event and can be as late as the target's retry horizon after it (lib/recorder/horizon.ts), so a
   * source reads records from `from` to the earlier of now and `to` plus the longest horizon.
   */
  readonly window: TimeWindow;
  /** Only these EventBridge event ids (trace); every event of the window when absent. */
  readonly eventIds?: readonly string[];
}

export interface DeliveryLogSource {
  /** The delivery records of these targets for events of the query, in no particular order. */
  deliveries(targets: readonly TrackedTarget[], query: DeliveryQuery, progress?: ScanProgress): Promise<DeliveryRecord[]>;
}

/**
 * The recorder's own dead-letter queue: events EventBridge could not hand to the recorder (Firehose
 * throttled them) are in no recorded table, so reconcile reads them here, as whole events.
 */
export interface RecorderDeadLetters {
  /** The readable events of the queue (EventBridge dead-letters the event itself). */
  readonly events: readonly RecordedEvent[];
  /** Every message the queue holds, unreadable ones included. */
  readonly messages: number;
  /** Messages hidden from this read (someone else is receiving them). */
  readonly inFlight: number;
}

export interface RecorderInputSource {
  /** Reads the recorder DLQ, leaving every message in place. */
  recorderDeadLetters(progress?: ScanProgress): Promise<RecorderDeadLetters>;
}

/** What `--recover` does: each call delivers to the one target named, never back through the bus. */
export interface RecoverySink {
  /** Re-delivers these dead letters to their target and removes each from its queue once delivered. */
  redrive(deadLetters: readonly DeadLetter[]): Promise<RecoveryOutcome>;
  /** Delivers recorded events to one target alone. */
  deliver(target: TrackedTarget, events: readonly BusEvent[]): Promise<RecoveryOutcome>;
  /**
   * Puts the recorder DLQ's events back through the recorder path (never the bus, so no route sees
   * them again), each removed from the DLQ once recorded. Absent where the recorder has no DLQ.
   */
  rerecord?(): Promise<RecoveryOutcome>;
}

export interface RecoveryOutcome {
  readonly delivered: number;
  /** One line each: which event and why. */
  readonly failures: readonly string[];
  /** One line each: what went wrong beside the recovery itself (the recovery log could not be written). */
  readonly warnings?: readonly string[];
}

export interface RecorderSources {
  readonly recorder: RecorderSource;
  readonly completions: CompletionSource;
  readonly deadLetters: DeadLetterSource;
  /**
   * EventBridge's delivery records. Absent where none are kept: a `delivery` target's event then
   * ends `unconfirmed` past its horizon, never confirmed.
   */
  readonly deliveries?: DeliveryLogSource;
  /** The recorder's DLQ. Absent where the recorder has none (it cannot lose input). */
  readonly recorderInput?: RecorderInputSource;
  /** Absent where recovery is not possible (trace only needs reads). */
  readonly recovery?: RecoverySink;
  /** What recovery commands did (lib/recorder/recovery-log.ts), for trace; absent where there is none to read. */
  readonly recoveryLog?: RecoveryLog;
  /**
   * Where the evidence starts: the local pipeline keeps completion records and dead letters in
   * memory, so events first recorded before it started cannot be checked (they are listed apart).
   * @default evidence is as old as the records' expiry
   */
  readonly evidenceSince?: Date;
  /**
   * How long the recorder holds an event before readers see it (Firehose's buffering interval; the
   * local recorder's, time-scaled), in real milliseconds: a window ending later than now minus
   * this may lack its last events, so reconcile does not call it clean.
   * @default 0: the recorder writes each event as it arrives
   */
  readonly recorderBufferMs?: number;
  /** Days a completion record lives; reconcile cannot tell a completed from a missing event older than that. */
  readonly completionExpiryDays: number;
  /**
   * Days a review guard record lives (its TTL: the archive's retention plus 14 days).
   * @default guards never expire
   */
  readonly reviewGuardExpiryDays?: number;
  /**
   * How much faster than AWS the pipeline runs its waits (the local `--time-scale`): every retry
   * horizon is divided by it.
   * @default 1
   */
  readonly timeScale?: number;
  /**
   * Whether the deployment has this target: one whose values come from config is deployed only when
   * they were set. Targets it lacks are left out and named in the report.
   * @default every target is deployed
   */
  readonly deployed?: (target: TrackedTarget) => boolean;
}
