/**
 * `ops trace --local` and `ops reconcile --local`: the recorder sources over the pipeline `npm start`
 * runs, the local counterparts of lib/ops/recorder-aws-sources.ts.
 * - RecorderSource: the recorder's JSON lines under <state dir>/recorder/ (lib/local/recorder.ts),
 *   read from disk while the pipeline writes them.
 * - CompletionSource: the idempotency table of the local DynamoDB stand-in (consumers' Powertools
 *   records, the review workflow's guard records), through the control endpoint.
 * - DeadLetterSource: every local DLQ through the control endpoint's peek, which leaves messages in place.
 * - RecoverySink: redrive of chosen dead letters, and delivery to one route target alone, through
 *   the control endpoint; neither goes through the bus.
 *
 * The local tables live in memory: completion records exist only since the running pipeline
 * started, so an idempotency target's event recorded before that counts as unverifiable, not missing.
 */
import { DEAD_LETTER_RETENTION_DAYS } from '../config';
import { DEFAULT_IDEMPOTENCY_EXPIRY_DAYS, idempotencyKeyPrefix, idempotencyRecordId, recordExpired, reviewGuardExpiryDays, reviewGuardId } from '../domain/completion-records';
import type { BusEvent } from '../domain/route-samples';
import { targetHandle, targetName as defaultTargetName } from '../domain/route-types';
import {
  localDeadLetterQueues,
  localDeliver,
  localPeek,
  localRedrive,
  localStatus,
  localTableItems,
  localStateDir,
  readPipelineFile,
  type LocalOptions,
} from '../local/control-client';
import { LocalRecorder, MAX_BUFFER_LEAD_MS, recorderDir } from '../local/recorder';
import { readLocalBusLog } from '../local/bus-log';
import { resolverFor, toDeliveryRecord } from '../recorder/bus-log';
import { deadLetterReason } from '../recorder/dead-letter-reason';
import { LocalRecoveryLog, localActor, queueTarget } from '../local/recovery-log';
import type { RecoveryAction, RecoveryCommand } from '../recorder/recovery-log';
import type { RedriveResult } from '../local/control-surface';
import { toRecordedEvent, type RecordedEvent } from '../recorder/recorded-event';
import type {
  Completion,
  CompletionSource,
  DeadLetter,
  DeadLetterScan,
  DeadLetterSource,
  DeliveryLogSource,
  DeliveryQuery,
  DeliveryRecord,
  RecorderSource,
  RecorderSources,
  RecoveryOutcome,
  RecoverySink,
  ScanProgress,
  TrackedTarget,
} from '../recorder/sources';
import type { TimeWindow } from './time-window';
import type { DeadLetterRole } from '../constructs/secure-queue';

const DAY_MS = 86_400_000;

/**
 * Locally an event reaches the recorder as it reaches the bus, and a replay copy when the replay
 * runs; replay copies keep their original `time`, so the partitions of up to the archive's
 * retention after the window can hold copies of its events. A day covers every local drill.
 */
const LOCAL_ARRIVAL_LAG_MS = DAY_MS;

export class LocalRecorderSource implements RecorderSource {
  readonly #recorder: LocalRecorder;

  constructor(stateDir: string) {
    this.#recorder = new LocalRecorder(recorderDir(stateDir));
  }

  async events(window: TimeWindow, progress?: ScanProgress): Promise<RecordedEvent[]> {
    const from = window.from.getTime();
    const to = window.to.getTime();
    const lines = this.#recorder.read({ from, to }, LOCAL_ARRIVAL_LAG_MS);
    const recorded: RecordedEvent[] = [];
    for (const line of lines) {
      const event = toRecordedEvent(line.event, line.partition);
      if (event === undefined) continue;
      const time = Date.parse(event.time);
      if (time >= from && time <= to) recorded.push(event);
    }
    progress?.('recorder', lines.length, lines.length);
    return recorded;
  }

  async eventsOf(fastioEventId: string, window: TimeWindow): Promise<RecordedEvent[]> {
    return (await this.events(window)).filter((event) => event.fastioEventId === fastioEventId);
  }

  /** Locally every line is the whole event as the bus delivered it. */
  async fullEvent(recorded: RecordedEvent): Promise<BusEvent> {
    return recorded.event;
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** Completion records of the local idempotency table, read afresh for each target (reconcile runs again after --recover). */
export class LocalCompletionSource implements CompletionSource {
  constructor(
    private readonly local: LocalOptions,
    /** Function names serving each route, for records a consumer keyed with Powertools' default prefix. */
    private readonly functionsByRoute: ReadonlyMap<string, readonly string[]>,
    private readonly expiryDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async completions(target: TrackedTarget, fastioEventIds: readonly string[]): Promise<ReadonlyMap<string, Completion>> {
    const items = new Map((await localTableItems('idempotency', this.local)).map((item) => [String(item.id), item]));
    const found = new Map<string, Completion>();
    for (const id of fastioEventIds) {
      for (const key of this.keys(target, id)) {
        const item = items.get(key);
        const completion = item === undefined ? undefined : this.completion(target, key, item);
        if (completion !== undefined) {
          found.set(id, completion);
          break;
        }
      }
    }
    return found;
  }

  private keys(target: TrackedTarget, fastioEventId: string): string[] {
    if (target.completion === 'review-guard') return [reviewGuardId(target.route.name, fastioEventId)];
    const key = idempotencyRecordId(target.route.name, target.name, fastioEventId);
    const hash = key.slice(idempotencyKeyPrefix(target.route.name, target.name).length);
    return [key, ...(this.functionsByRoute.get(target.route.name) ?? []).map((name) => `${name}${hash}`)];
  }

  private completion(target: TrackedTarget, key: string, item: Record<string, unknown>): Completion | undefined {
    if (item.status !== 'COMPLETED') return undefined;
    if (target.completion === 'review-guard') {
      // As on AWS (lib/ops/recorder-aws-sources.ts): an expired guard is read as gone.
      if (recordExpired(item.expiration, this.now())) return undefined;
      return { record: key, ...(str(item.completedAt) === undefined ? {} : { at: str(item.completedAt) as string }) };
    }
    // Saved COMPLETED with expiration = then + the expiry, so the expiration dates the completion.
    const expiration = Number(item.expiration);
    return { record: key, ...(Number.isFinite(expiration) ? { at: new Date((expiration - this.expiryDays * 86_400) * 1000).toISOString() } : {}) };
  }
}

/** The queue handle's target: `<route>/<target>/<role>`, or `<route>/<role>` for a route's single target. */
function targetOfQueue(name: string, route: string, targets: readonly TrackedTarget[]): TrackedTarget | undefined {
  const parts = name.split('/');
  const ofRoute = targets.filter((target) => target.route.name === route);
  if (parts.length === 3) return ofRoute.find((target) => target.name === parts[1]);
  return ofRoute.length === 1 ? ofRoute[0] : ofRoute.find((target) => target.name === defaultTargetName(target.target));
}

/** The actions of one local redrive, from what the pipeline says it moved and failed, each with the dead letter it took. */
export function redriveActions(command: RecoveryCommand, result: Pick<RedriveResult, 'queue' | 'redriven' | 'failures'>, by: string, at: Date): RecoveryAction[] {
  const where = { ...queueTarget(result.queue), queue: result.queue };
  const role = result.queue.split('/').at(-1) as DeadLetterRole;
  const letter = (sentAt: string | undefined, failure: Record<string, string | undefined> | undefined) =>
    failure === undefined ? {} : { deadLetter: { ...(sentAt === undefined ? {} : { sentAt }), reason: deadLetterReason(failure, role) } };
  const common = { at: at.toISOString(), by, command, action: 'redrive' as const, ...where };
  return [
    ...(result.redriven ?? []).map((moved) => ({
      ...common,
      messageId: moved.messageId,
      ...(moved.fastioEventId === undefined ? {} : { fastioEventId: moved.fastioEventId }),
      outcome: 'delivered' as const,
      ...letter(moved.sentAt, moved.failure),
    })),
    ...result.failures.map((failure) => ({
      ...common,
      messageId: failure.messageId,
      ...(failure.fastioEventId === undefined ? {} : { fastioEventId: failure.fastioEventId }),
      outcome: 'failed' as const,
      reason: failure.reason,
      ...letter(failure.sentAt, failure.failure),
    })),
  ];
}

export class LocalDeadLetterSource implements DeadLetterSource {
  constructor(private readonly local: LocalOptions) {}

  /** The local queues hide nothing from a peek, so nothing is ever in flight here. */
  async deadLetters(targets: readonly TrackedTarget[], progress?: ScanProgress): Promise<DeadLetterScan> {
    const queues = (await localDeadLetterQueues(this.local))
      .map((queue) => ({ queue, target: targetOfQueue(queue.name, queue.route, targets) }))
      .filter((entry): entry is typeof entry & { target: TrackedTarget } => entry.target !== undefined);
    const letters: DeadLetter[] = [];
    for (const [index, { queue, target }] of queues.entries()) {
      const messages = queue.depth === 0 ? [] : await localPeek(queue.name, { max: queue.depth }, this.local);
      for (const message of messages) {
        const eventId = (message.event?.detail as { eventId?: unknown } | undefined)?.eventId;
        letters.push({
          queue: queue.name,
          route: target.route.name,
          target: target.name,
          role: queue.role,
          messageId: message.messageId,
          ...(typeof eventId === 'string' ? { fastioEventId: eventId } : {}),
          reason: message.problem === undefined ? deadLetterReason(message.failure, queue.role) : `unreadable: ${message.problem}`,
          sentAt: message.sentAt,
          receiveCount: message.receiveCount,
        });
      }
      progress?.('dead letters', index + 1, queues.length);
    }
    return { letters, inFlight: [] };
  }
}

/** Recovery through the control endpoint; every message moved or event re-delivered goes to the recovery log. */
export class LocalRecoverySink implements RecoverySink {
  readonly #log: LocalRecoveryLog;

  constructor(
    private readonly local: LocalOptions,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#log = new LocalRecoveryLog(localStateDir(local));
  }

  async redrive(deadLetters: readonly DeadLetter[]): Promise<RecoveryOutcome> {
    const byQueue = new Map<string, string[]>();
    for (const letter of deadLetters) byQueue.set(letter.queue, [...(byQueue.get(letter.queue) ?? []), letter.messageId]);
    let delivered = 0;
    const failures: string[] = [];
    for (const [queue, messageIds] of byQueue) {
      const result = await localRedrive(queue, { messageIds: [...new Set(messageIds)] }, this.local);
      await this.#log.append(redriveActions('reconcile --recover', result, localActor(), this.now()));
      delivered += result.moved;
      failures.push(...result.failures.map((failure) => `${queue} message ${failure.messageId}: ${failure.reason}`));
    }
    return { delivered, failures };
  }

  async deliver(target: TrackedTarget, events: readonly BusEvent[]): Promise<RecoveryOutcome> {
    const result = await localDeliver(target.route.name, target.name, events, this.local);
    const at = this.now().toISOString();
    const by = localActor();
    await this.#log.append(
      (result.outcomes ?? []).map((outcome) => ({
        at,
        by,
        command: 'reconcile --recover' as const,
        action: 'deliver' as const,
        route: target.route.name,
        target: target.name,
        ...(outcome.fastioEventId === undefined ? {} : { fastioEventId: outcome.fastioEventId }),
        outcome: outcome.delivered ? ('delivered' as const) : ('failed' as const),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      })),
    );
    return { delivered: result.delivered, failures: result.failures.map((failure) => `${target.route.name}/${target.name} ${failure}`) };
  }
}

/** What the sources need of the running pipeline's status. */
interface PipelineStatus {
  readonly functionsByRoute: Map<string, string[]>;
  /** Per route, the local kinds of its rule's targets (queue, function, workflow, http, elsewhere). */
  readonly targetKinds: Map<string, string[]>;
  readonly timeScale: number;
  /** The archive's retention as synthesized; null when it keeps events indefinitely. */
  readonly archiveRetentionDays: number | null;
  /** How long (real ms) the recorder buffers an event before it is readable. */
  readonly recorderBufferMs: number;
}

async function pipelineStatus(local: LocalOptions): Promise<PipelineStatus> {
  const status = await localStatus(local);
  const functionsByRoute = new Map<string, string[]>();
  const functions = Array.isArray(status.functions) ? (status.functions as { name?: unknown; route?: unknown }[]) : [];
  for (const fn of functions) {
    if (typeof fn.route !== 'string' || typeof fn.name !== 'string') continue;
    functionsByRoute.set(fn.route, [...(functionsByRoute.get(fn.route) ?? []), fn.name]);
  }
  const targetKinds = new Map<string, string[]>();
  const routes = Array.isArray(status.routes) ? (status.routes as { route?: unknown; targets?: unknown }[]) : [];
  for (const route of routes) {
    if (typeof route.route !== 'string' || !Array.isArray(route.targets)) continue;
    targetKinds.set(route.route, (route.targets as { kind?: unknown }[]).map((target) => String(target.kind)));
  }
  const timeScale = Number(status.timeScale);
  const archiveRetentionDays = typeof status.archiveRetentionDays === 'number' ? status.archiveRetentionDays : null;
  const scale = Number.isFinite(timeScale) && timeScale > 0 ? timeScale : 1;
  // A pipeline that does not say how long it buffers is assumed to buffer as long as Firehose can.
  const recorderBufferMs = typeof status.recorderBufferMs === 'number' && status.recorderBufferMs >= 0 ? status.recorderBufferMs : MAX_BUFFER_LEAD_MS / scale;
  return { functionsByRoute, targetKinds, timeScale: scale, archiveRetentionDays, recorderBufferMs };
}

/** The kind the local pipeline gives a route target (lib/local/model.ts). */
function localKind(target: TrackedTarget['target']): string {
  if ('consumer' in target || 'workflow' in target) return target.kind;
  return target.kind === 'http' ? 'http' : 'elsewhere';
}

/**
 * Whether the running pipeline has this target: a target whose values come from config is
 * synthesized only when they were set, so the rule of its route has one target of its kind fewer.
 */
function deployedLocally(kinds: Map<string, string[]>, target: TrackedTarget): boolean {
  const deployed = kinds.get(target.route.name);
  if (deployed === undefined) return false;
  const kind = localKind(target.target);
  const position = target.route.targets.filter((other, index) => index <= target.route.targets.indexOf(target.target) && localKind(other) === kind).length;
  return deployed.filter((other) => other === kind).length >= position;
}

/** EventBridge's delivery records the local bus wrote (lib/local/bus-log.ts), in the deployed schema. */
export class LocalDeliveryLogSource implements DeliveryLogSource {
  constructor(private readonly stateDir: string) {}

  async deliveries(targets: readonly TrackedTarget[], query: DeliveryQuery): Promise<DeliveryRecord[]> {
    const { records, targets: arns } = readLocalBusLog(this.stateDir);
    const wanted = new Set(targets.map((target) => targetHandle(target.route.name, target.name)));
    const resolve = resolverFor(arns);
    const ids = query.eventIds === undefined ? undefined : new Set(query.eventIds);
    const from = query.window.from.getTime();
    return records.flatMap((record) => {
      if (ids !== undefined && !ids.has(record.event_id)) return [];
      const delivery = toDeliveryRecord(record, resolve);
      if (delivery === undefined || !wanted.has(targetHandle(delivery.route, delivery.target)) || Date.parse(delivery.at) < from) return [];
      return [delivery];
    });
  }
}

/** The sources over the running local pipeline; fails (exit 1) when none is running. */
export async function localRecorderSources(local: LocalOptions = {}, now: () => Date = () => new Date()): Promise<RecorderSources> {
  const status = await pipelineStatus(local);
  const startedAt = Date.parse(readPipelineFile(local)?.startedAt ?? '');
  const guardExpiryDays = reviewGuardExpiryDays(status.archiveRetentionDays, DEAD_LETTER_RETENTION_DAYS);
  return {
    recorder: new LocalRecorderSource(localStateDir(local)),
    completions: new LocalCompletionSource(local, status.functionsByRoute, DEFAULT_IDEMPOTENCY_EXPIRY_DAYS, now),
    deadLetters: new LocalDeadLetterSource(local),
    recovery: new LocalRecoverySink(local, now),
    recoveryLog: new LocalRecoveryLog(localStateDir(local)),
    deliveries: new LocalDeliveryLogSource(localStateDir(local)),
    // Completion records and dead letters exist since the pipeline started (to the second, as event times are).
    ...(Number.isFinite(startedAt) ? { evidenceSince: new Date(Math.floor(startedAt / 1000) * 1000) } : {}),
    completionExpiryDays: DEFAULT_IDEMPOTENCY_EXPIRY_DAYS,
    ...(guardExpiryDays === undefined ? {} : { reviewGuardExpiryDays: guardExpiryDays }),
    timeScale: status.timeScale,
    recorderBufferMs: status.recorderBufferMs,
    ...(status.targetKinds.size === 0 ? {} : { deployed: (target: TrackedTarget) => deployedLocally(status.targetKinds, target) }),
  };
}
