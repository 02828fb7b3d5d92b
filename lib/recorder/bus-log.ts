/**
 * EventBridge's event bus log records, as AWS writes them (EventBridge User Guide, "Amazon
 * EventBridge event bus log schema"), and what reconcile and trace read from them: per event and
 * target, whether EventBridge delivered it (`INVOCATION_SUCCESS`), is retrying it, or gave up
 * (`INVOCATION_FAILURE`, `INVOCATION_DLQ`). The deployment delivers the records as JSON lines to
 * the recorder bucket (lib/constructs/flight-recorder.ts); the local pipeline writes the same schema.
 *
 * Which level carries what: ERROR has the failures (attempt failures, throttles, INVOCATION_FAILURE,
 * INVOCATION_DLQ); INFO adds the major steps, INVOCATION_SUCCESS among them; TRACE adds every
 * step (starts, each attempt's success). The deployment logs at INFO: a success record per event and
 * target is the evidence `confirmed` rests on. With IncludeDetail NONE (the deployment's choice)
 * `target_input` and `event_detail` are absent, so no sender data reaches the log.
 *
 * A record names EventBridge's event id (`event_id`), not the Fast.io event id; reconcile maps
 * one to the other through the recorded copies, which carry both.
 */
import type { DeliveryRecord, DeliveryStatus } from './sources';

export const BUS_LOG_MESSAGE_TYPES = [
  'EVENT_INGEST_FAILURE',
  'EVENT_INGEST_SUCCESS',
  'EVENT_RECEIPT',
  'INVOCATION_ATTEMPT_PERMANENT_FAILURE',
  'INVOCATION_ATTEMPT_RETRYABLE_FAILURE',
  'INVOCATION_ATTEMPT_START',
  'INVOCATION_ATTEMPT_SUCCESS',
  'INVOCATION_ATTEMPT_THROTTLE',
  'INVOCATION_DLQ',
  'INVOCATION_FAILURE',
  'INVOCATION_START',
  'INVOCATION_SUCCESS',
  'INVOCATION_THROTTLE_START',
  'NO_STANDARD_RULES_MATCHED',
  'RULE_MATCH',
  'RULE_MATCH_START',
] as const;
export type BusLogMessageType = (typeof BUS_LOG_MESSAGE_TYPES)[number];

export const BUS_LOG_LEVELS = ['ERROR', 'INFO', 'TRACE'] as const;
export type BusLogLevel = (typeof BUS_LOG_LEVELS)[number];

/** `details` of the INVOCATION_* types (the fields of all of them; each type has a subset). */
export interface BusLogInvocationDetails {
  readonly rule_arn: string;
  readonly role_arn?: string;
  readonly target_arn: string;
  /** INVOCATION_ATTEMPT_*, INVOCATION_START: which attempt. */
  readonly attempt_count?: number;
  /** INVOCATION_SUCCESS / FAILURE / DLQ: attempts made in all. */
  readonly total_attempts?: number;
  readonly final_invocation_status?: string;
  readonly attempt_type?: 'FIRST' | 'THROTTLE' | 'RETRY';
  readonly invocation_status?: string;
  readonly ingestion_to_start_latency_ms?: number;
  readonly ingestion_to_complete_latency_ms?: number;
  readonly ingestion_to_success_latency_ms?: number;
  readonly target_duration_ms?: number;
  /** Only with IncludeDetail FULL. */
  readonly target_input?: string;
  readonly target_properties?: string;
  readonly target_response_body?: string;
}

export interface BusLogError {
  readonly error_message: string;
  readonly aws_service: string;
  readonly request_id?: string;
  readonly http_status_code?: number;
}

/** One bus-log record, field for field as EventBridge writes it. */
export interface BusLogRecord {
  /** The event bus's ARN. */
  readonly resource_arn: string;
  readonly request_id?: string;
  /** EventBridge's event id (`id` of the event), not the Fast.io id. */
  readonly event_id: string;
  readonly invocation_id?: string;
  /** When the record was emitted, epoch milliseconds (the documentation shows a string; both are read). */
  readonly message_timestamp_ms: string | number;
  readonly message_type: BusLogMessageType;
  readonly log_level: BusLogLevel;
  /** The INVOCATION_* types' details; the other types' details are not read here. */
  readonly details?: Partial<BusLogInvocationDetails> & Readonly<Record<string, unknown>>;
  readonly error?: BusLogError;
  readonly dropped_fields?: readonly string[];
}

/** The message types that say something about one event on one target, and what. */
const DELIVERY_STATUS_OF: Partial<Record<BusLogMessageType, DeliveryStatus>> = {
  INVOCATION_SUCCESS: 'succeeded',
  INVOCATION_ATTEMPT_RETRYABLE_FAILURE: 'retrying',
  INVOCATION_ATTEMPT_THROTTLE: 'throttled',
  INVOCATION_ATTEMPT_PERMANENT_FAILURE: 'attempt-failed',
  INVOCATION_FAILURE: 'failed',
  INVOCATION_DLQ: 'dead-lettered',
};

/** The message types reconcile reads, for a query's filter. */
export const DELIVERY_MESSAGE_TYPES = Object.keys(DELIVERY_STATUS_OF) as BusLogMessageType[];

/** The status a record of this type stands for; undefined for the steps that are no outcome (starts, matches). */
export function deliveryStatusOf(messageType: BusLogMessageType): DeliveryStatus | undefined {
  return DELIVERY_STATUS_OF[messageType];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessageType(value: unknown): value is BusLogMessageType {
  return typeof value === 'string' && (BUS_LOG_MESSAGE_TYPES as readonly string[]).includes(value);
}

function isLevel(value: unknown): value is BusLogLevel {
  return typeof value === 'string' && (BUS_LOG_LEVELS as readonly string[]).includes(value);
}

/** Epoch milliseconds from `message_timestamp_ms` (a number, a string of digits, or an ISO time); undefined when none of these. */
export function recordTimeMs(record: Pick<BusLogRecord, 'message_timestamp_ms'>): number | undefined {
  const value = record.message_timestamp_ms;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/**
 * A bus-log record from a parsed JSON value; undefined when it is not one (a field missing or of
 * the wrong type). Unknown fields are kept: AWS may add some.
 */
export function toBusLogRecord(value: unknown): BusLogRecord | undefined {
  if (!isRecord(value)) return undefined;
  const { resource_arn, event_id, message_timestamp_ms, message_type, log_level, details, error } = value;
  if (typeof resource_arn !== 'string' || typeof event_id !== 'string' || event_id === '') return undefined;
  if (typeof message_timestamp_ms !== 'string' && typeof message_timestamp_ms !== 'number') return undefined;
  if (!isMessageType(message_type) || !isLevel(log_level)) return undefined;
  if (details !== undefined && !isRecord(details)) return undefined;
  if (error !== undefined && (!isRecord(error) || typeof error.error_message !== 'string' || typeof error.aws_service !== 'string')) return undefined;
  const record = value as unknown as BusLogRecord;
  return recordTimeMs(record) === undefined ? undefined : record;
}

/** Parses one line of a bus-log object; undefined for a blank line or anything that is no record. */
export function parseBusLogLine(line: string): BusLogRecord | undefined {
  if (line.trim() === '') return undefined;
  try {
    return toBusLogRecord(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/** Every record of a bus-log object (JSON lines), and how many lines were not records. */
export function parseBusLogObject(text: string): { records: BusLogRecord[]; unreadable: number } {
  const records: BusLogRecord[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = parseBusLogLine(line);
    if (record === undefined) unreadable += 1;
    else records.push(record);
  }
  return { records, unreadable };
}

/** One line for operators: the logged error, else the final status EventBridge gave. */
export function recordReason(record: BusLogRecord): string | undefined {
  const error = record.error;
  if (error !== undefined) {
    const status = error.http_status_code === undefined ? '' : `${error.http_status_code} `;
    return `${status}${error.aws_service}: ${error.error_message}`.replace(/\s+/g, ' ').trim().slice(0, 500);
  }
  const status = record.details?.final_invocation_status ?? record.details?.invocation_status;
  return typeof status === 'string' && status !== '' ? status : undefined;
}

/** Which route and target a record's rule and target ARNs are; undefined for a rule or target not followed. */
export type DeliveryTargetResolver = (ruleArn: string, targetArn: string) => { readonly route: string; readonly target: string } | undefined;

/**
 * The delivery record a bus-log record stands for, or undefined when it is none: another step
 * than an outcome, no rule or target ARN, or a rule and target the resolver does not follow (the
 * recorder's own rule, a route not asked about).
 */
export function toDeliveryRecord(record: BusLogRecord, resolve: DeliveryTargetResolver, fastioEventId?: string): DeliveryRecord | undefined {
  const status = deliveryStatusOf(record.message_type);
  const ruleArn = record.details?.rule_arn;
  const targetArn = record.details?.target_arn;
  if (status === undefined || typeof ruleArn !== 'string' || typeof targetArn !== 'string') return undefined;
  const resolved = resolve(ruleArn, targetArn);
  const at = recordTimeMs(record);
  if (resolved === undefined || at === undefined) return undefined;
  const reason = recordReason(record);
  const attempt = record.details?.total_attempts ?? record.details?.attempt_count;
  return {
    route: resolved.route,
    target: resolved.target,
    eventId: record.event_id,
    ...(fastioEventId === undefined ? {} : { fastioEventId }),
    status,
    at: new Date(at).toISOString(),
    ...(reason === undefined ? {} : { reason }),
    ...(typeof attempt === 'number' && Number.isInteger(attempt) ? { attempt } : {}),
  };
}

/**
 * Resolves by exact ARNs: each route's rule ARN and, per route, each target's destination ARN (an
 * http target's API destination, a queue's, a function's, ...), as the deployment names them.
 */
export function resolverFor(entries: readonly { readonly route: string; readonly target: string; readonly ruleArn: string; readonly targetArn: string }[]): DeliveryTargetResolver {
  const index = new Map(entries.map((entry) => [`${entry.ruleArn}\n${entry.targetArn}`, { route: entry.route, target: entry.target }]));
  return (ruleArn, targetArn) => index.get(`${ruleArn}\n${targetArn}`);
}
