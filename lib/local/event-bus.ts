/**
 * The local EventBridge bus: PutEvents builds the event as EventBridge does, archives it (archive
 * pattern from the template), matches it against every rule of the synthesized templates with the
 * project's pattern matcher, and delivers it to each matching rule's targets with the rule's
 * retry policy; an event that cannot be delivered goes to the target's dead-letter queue with
 * EventBridge's message attributes. Replays re-send archived events with `replay-name` set, to the
 * rules of the chosen routes only.
 */
import { randomUUID } from 'node:crypto';
import { entrySizeBytes, MAX_ENTRY_BYTES } from '../domain/fastio-envelope';
import { UndeliverableInputError, applyTargetInput } from '../domain/input-transform';
import { compilePattern, type CompiledPattern } from '../domain/pattern-matcher';
import { targetHandle } from '../domain/route-types';
import type { Activity } from './activity';
import type { BusEvent, LocalArchive } from './archive';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './assembly';
import { describeWait, type Clock } from './clock';
import type { FaultRegistry } from './faults';
import { eventLabel, type Flow } from './flow';
import type { RuleDefinition, RuleTargetDefinition } from './model';
import type { LocalQueue, MessageAttributeValue } from './sqs';
import type { LocalRecorder } from './recorder';
import type { InvocationRecord, LocalBusLog } from './bus-log';
import { AwsServiceError } from './aws-service-error';

/** An error of the local EventBridge stand-in, answered as the service would. */
export class EventBridgeError extends AwsServiceError {}

/** Why a target could not be delivered, with EventBridge's DLQ error codes. */
export class DeliveryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** retryable: overrides the decision by code; retryAfterMs: the target asked to wait (Retry-After). */
    readonly hints: { readonly retryable?: boolean; readonly retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** Codes EventBridge retries; others (permissions, missing resource) go to the DLQ at once. */
const RETRYABLE_DELIVERY_CODES: ReadonlySet<string> = new Set(['THROTTLING', 'INTERNAL_FAILURE', 'SERVICE_UNAVAILABLE', 'SDK_CLIENT_ERROR']);

/**
 * Hands one event to one target (queue SendMessage, Lambda async Invoke, StartExecution, an API
 * destination's HTTP request, or a record for a target elsewhere). `body` is what EventBridge sends:
 * the event after the target's InputPath or InputTransformer.
 */
export type TargetDeliverer = (rule: RuleDefinition, target: RuleTargetDefinition, delivery: { readonly event: BusEvent; readonly body: string }, describe: string) => string | Promise<string>;

interface CompiledRule {
  readonly rule: RuleDefinition;
  readonly pattern: CompiledPattern;
}

export interface ReplayRequest {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
  /**
   * The targets whose rules receive the replayed events, as `<route>/<target>` (a replay's FilterArns
   * on AWS: one rule per target); undefined = every rule.
   */
  readonly targets?: readonly string[];
}

export interface ReplayResult {
  readonly name: string;
  readonly state: 'COMPLETED';
  readonly from: string;
  readonly to: string;
  /** The targets whose rules the replay went to, as `<route>/<target>`. */
  readonly targets: readonly string[];
  readonly eventsReplayed: number;
  /** Deliveries per target (events its rule matched and delivered). */
  readonly delivered: Readonly<Record<string, number>>;
  /** Events a chosen target's rule did not match (for example a target that skips replays). */
  readonly notMatched: Readonly<Record<string, number>>;
}

/** A rule's target handle, `<route>/<target>`: each rule of the routing stack delivers one target. */
export function ruleHandle(rule: Pick<RuleDefinition, 'route' | 'target'>): string {
  return targetHandle(rule.route, rule.target);
}

export interface EventBusDeps {
  readonly name: string;
  readonly arn: string;
  readonly archive: LocalArchive;
  readonly archivePattern: unknown;
  /** The flight recorder: every event the bus receives, replays included. */
  readonly recorder?: LocalRecorder;
  /** EventBridge's bus log (INFO): a record per target invocation outcome. */
  readonly busLog?: LocalBusLog;
  readonly rules: readonly RuleDefinition[];
  readonly deliver: TargetDeliverer;
  readonly queueByArn: (arn: string) => LocalQueue | undefined;
  readonly faults: FaultRegistry;
  readonly clock: Clock;
  readonly flow: Flow;
  readonly activity: Activity;
  readonly signal: AbortSignal;
}

/**
 * `http target slack`; `queue target` where the template names no target or names it after its kind
 * (the route table's default name), never `queue target queue`.
 */
export function targetLabel(target: RuleTargetDefinition): string {
  return `${target.kind} target${target.name === undefined || target.name === target.kind ? '' : ` ${target.name}`}`;
}

/** EventBridge's `time`: ISO 8601 to the second. */
function eventTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export class LocalEventBus {
  readonly #rules: CompiledRule[];
  readonly #archivePattern: CompiledPattern;
  /** Every event published (not replays), newest last. */
  readonly published: BusEvent[] = [];

  constructor(private readonly deps: EventBusDeps) {
    this.#rules = deps.rules.filter((rule) => rule.enabled).map((rule) => ({ rule, pattern: compilePattern(rule.pattern) }));
    this.#archivePattern = compilePattern(deps.archivePattern);
  }

  get rules(): readonly RuleDefinition[] {
    return this.#rules.map((compiled) => compiled.rule);
  }

  /** The AWSEvents.PutEvents operation. */
  putEvents(input: Record<string, unknown>): Record<string, unknown> {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new EventBridgeError('ValidationException', '1 validation error detected: Value at \'entries\' failed to satisfy constraint: Member must have length between 1 and 10');
    }
    const fault = this.deps.faults.take({ service: 'events', operation: 'PutEvents' });
    if (fault) {
      const code = fault.errorCode ?? 'InternalException';
      throw new EventBridgeError(code, fault.message ?? `injected by the local stand-in (fault #${fault.id})`, fault.statusCode ?? (code === 'InternalException' ? 500 : 400));
    }
    const results = entries.map((raw: unknown) => this.putEntry((raw ?? {}) as Record<string, unknown>));
    return { FailedEntryCount: results.filter((result) => !('EventId' in result)).length, Entries: results };
  }

  private putEntry(entry: Record<string, unknown>): Record<string, string> {
    const busName = typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default';
    if (busName !== this.deps.name && busName !== this.deps.arn) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    }
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
      }
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const resources = Array.isArray(entry.Resources) ? entry.Resources.map(String) : [];
    const time = typeof entry.Time === 'number' ? entry.Time * 1000 : this.deps.clock.now();
    const size = entrySizeBytes({ Source: entry.Source as string, DetailType: entry.DetailType as string, Detail: entry.Detail as string, Resources: resources, ...(typeof entry.Time === 'number' ? { Time: new Date(time) } : {}) });
    if (size > MAX_ENTRY_BYTES) return { ErrorCode: 'ValidationException', ErrorMessage: 'Total size of the entries in the request is over the limit.' };
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: LOCAL_ACCOUNT,
      time: eventTime(time),
      region: LOCAL_REGION,
      resources,
      detail,
    };
    this.publish(event);
    return { EventId: event.id };
  }

  /** Archives an accepted event and routes it to every matching rule. */
  publish(event: BusEvent): void {
    this.published.push(event);
    this.deps.recorder?.record(event, this.deps.clock.now());
    if (this.#archivePattern.matches(event)) this.deps.archive.append(event, this.deps.clock.now());
    const matched = this.#rules.filter((compiled) => compiled.pattern.matches(event));
    const describe = eventLabel(event);
    this.deps.flow.emit(
      matched.length > 0 ? 'info' : 'warn',
      'bus',
      `${describe}: ${matched.length > 0 ? `routes matched: ${routesOf(matched).join(', ')}` : 'no route matched'}`,
      { eventId: event.id, routes: routesOf(matched) },
    );
    for (const { rule } of matched) this.dispatch(rule, event, describe);
  }

  private dispatch(rule: RuleDefinition, event: BusEvent, describe: string): void {
    for (const target of rule.targets) void this.deps.activity.track(this.deliverWithRetries(rule, target, event, describe));
  }

  /**
   * The body EventBridge sends this target for this event (lib/domain/input-transform.ts);
   * throws UndeliverableInputError where EventBridge sends nothing.
   */
  targetBody(rule: RuleDefinition, target: RuleTargetDefinition, event: BusEvent | Record<string, unknown>): string {
    return applyTargetInput(event, target.input, { ruleArn: rule.arn, ruleName: rule.name, ingestionTime: eventTime(this.deps.clock.now()) });
  }

  /** EventBridge's retry policy for one target; exhausted or non-retryable → the target DLQ. */
  private async deliverWithRetries(rule: RuleDefinition, target: RuleTargetDefinition, event: BusEvent, describe: string): Promise<void> {
    const { clock, flow, faults } = this.deps;
    let body: string;
    try {
      body = this.targetBody(rule, target, event);
    } catch (error) {
      if (!(error instanceof UndeliverableInputError)) throw error;
      // AWS delivers nothing (LocalStack's AWS-recorded runs); whether it counts toward the DLQ is undocumented.
      flow.emit('fail', rule.route, `${describe}: not delivered to its ${targetLabel(target)}: ${error.message}`, { eventId: event.id, target: target.kind });
      return;
    }
    const firstAttempt = clock.now();
    let attempts = 0;
    const log = (type: InvocationRecord['type'], error?: DeliveryError) =>
      this.deps.busLog?.write({ type, eventId: event.id, ruleArn: rule.arn, targetArn: target.arn, attempts, at: clock.now(), ...(error === undefined ? {} : { error: { code: error.code, message: error.message } }) });
    for (;;) {
      attempts += 1;
      try {
        const fault = faults.take({ service: 'events', operation: 'Deliver', route: rule.route });
        if (fault) throw new DeliveryError(fault.errorCode ?? 'INTERNAL_FAILURE', fault.message ?? `injected by the local stand-in (fault #${fault.id})`);
        const outcome = await this.deps.deliver(rule, target, { event, body }, describe);
        log('INVOCATION_SUCCESS');
        flow.emit('info', rule.route, `${describe}: ${outcome}`, { eventId: event.id, target: target.kind });
        return;
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError('INTERNAL_FAILURE', error instanceof Error ? error.message : String(error));
        const retryable = failure.hints.retryable ?? RETRYABLE_DELIVERY_CODES.has(failure.code);
        // Exponential backoff (EventBridge does not publish its exact schedule): 1 s, 2 s, 4 s … at most 5 min,
        // or longer when the target asked for it (API destinations honour Retry-After).
        const delayMs = Math.max(Math.min(300_000, 1000 * 2 ** (attempts - 1)), failure.hints.retryAfterMs ?? 0);
        const ageMs = (clock.now() - firstAttempt) * clock.timeScale + delayMs;
        const retriesLeft = attempts <= target.maximumRetryAttempts;
        log(retryable ? 'INVOCATION_ATTEMPT_RETRYABLE_FAILURE' : 'INVOCATION_ATTEMPT_PERMANENT_FAILURE', failure);
        if (retryable && retriesLeft && ageMs <= target.maximumEventAgeSeconds * 1000) {
          flow.emit('warn', rule.route, `${describe}: delivery failed (${failure.code}: ${failure.message}); EventBridge retries in ${describeWait(clock, delayMs)}`);
          await clock.sleep(delayMs, this.deps.signal);
          if (this.deps.signal.aborted) return;
          continue;
        }
        const condition = !retryable ? undefined : retriesLeft ? 'MaximumEventAgeInSeconds' : 'MaximumRetryAttempts';
        log(target.deadLetterQueueArn === undefined ? 'INVOCATION_FAILURE' : 'INVOCATION_DLQ', failure);
        this.deadLetter(rule, target, event, failure, condition, attempts - 1, describe);
        return;
      }
    }
  }

  private deadLetter(rule: RuleDefinition, target: RuleTargetDefinition, event: BusEvent, failure: DeliveryError, condition: string | undefined, retries: number, describe: string): void {
    const queue = target.deadLetterQueueArn === undefined ? undefined : this.deps.queueByArn(target.deadLetterQueueArn);
    if (!queue) {
      this.deps.flow.emit('fail', rule.route, `${describe}: could not be delivered (${failure.code}) and the target has no DLQ: dropped`);
      return;
    }
    // The failure first: the queue's "landed in" line follows from the send below.
    this.deps.flow.emit('fail', rule.route, `${describe}: could not be delivered to its ${targetLabel(target)} (${failure.code}: ${failure.message})`);
    const attribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
    queue.send(JSON.stringify(event), {
      messageAttributes: {
        RULE_ARN: attribute(rule.arn),
        TARGET_ARN: attribute(target.arn),
        ERROR_CODE: attribute(failure.code),
        ERROR_MESSAGE: attribute(failure.message),
        ...(condition === undefined ? {} : { EXHAUSTED_RETRY_CONDITION: attribute(condition) }),
        RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(retries) },
      },
    });
  }

  /** Re-sends archived events of [from, to) with `replay-name` to the chosen targets' rules only. */
  replay(request: ReplayRequest): ReplayResult {
    const chosen = request.targets === undefined ? this.#rules : this.#rules.filter((compiled) => request.targets?.includes(ruleHandle(compiled.rule)));
    const unknown = (request.targets ?? []).filter((handle) => !this.#rules.some((compiled) => ruleHandle(compiled.rule) === handle));
    if (unknown.length > 0) throw new EventBridgeError('ValidationException', `unknown target(s) ${unknown.join(', ')}; targets: ${this.#rules.map((c) => ruleHandle(c.rule)).join(', ')}`);
    const records = this.deps.archive.between(request.from, request.to);
    const delivered: Record<string, number> = {};
    const notMatched: Record<string, number> = {};
    this.deps.flow.emit('info', 'replay', `${request.name}: ${records.length} archived event(s) in [${request.from.toISOString()}, ${request.to.toISOString()}) → ${chosen.map((c) => ruleHandle(c.rule)).join(', ')}`);
    for (const record of records) {
      const event: BusEvent = { ...record.event, 'replay-name': request.name };
      // The replay's destination includes the recorder's rule, so replayed events are recorded whatever the targets.
      this.deps.recorder?.record(event, this.deps.clock.now());
      const describe = eventLabel(event);
      for (const { rule, pattern } of chosen) {
        const handle = ruleHandle(rule);
        if (pattern.matches(event)) {
          delivered[handle] = (delivered[handle] ?? 0) + 1;
          this.deps.flow.emit('info', 'replay', `${describe}: → ${handle}`);
          this.dispatch(rule, event, describe);
        } else {
          notMatched[handle] = (notMatched[handle] ?? 0) + 1;
          const refuses = (rule.pattern as Record<string, unknown> | undefined)?.['replay-name'] !== undefined && pattern.explain(event)?.path.includes('replay-name');
          if (refuses) this.deps.flow.emit('info', 'replay', `${describe}: ${handle} skips replayed events (replay-name exists: false)`);
        }
      }
    }
    return {
      name: request.name,
      state: 'COMPLETED',
      from: request.from.toISOString(),
      to: request.to.toISOString(),
      targets: chosen.map((compiled) => ruleHandle(compiled.rule)),
      eventsReplayed: records.length,
      delivered,
      notMatched,
    };
  }
}

/** The routes of the matched rules, each once, in rule order (a route has a rule per target). */
function routesOf(matched: readonly CompiledRule[]): string[] {
  return [...new Set(matched.map((compiled) => compiled.rule.route))];
}
