/**
 * The flight recorder's sources on AWS (lib/recorder/sources.ts), resolved from the stack outputs:
 * - RecorderSource: Athena over the recorder's Glue table, in the recorder workgroup. Every query
 *   restricts the dt/hour partitions to the window, from RECORDER_BUFFER_MS before its start
 *   (partition projection prunes the rest), filters by the event's own time, and passes every
 *   value as an execution parameter, never concatenated into the SQL.
 * - DeliveryLogSource: Athena over the bus-log table (EventBridge's own delivery records), likewise.
 * - RecorderInputSource: the recorder's own DLQ, read like the others; `--recover` puts its events
 *   back on the recorder stream (PutRecord), never on the bus.
 * - DeadLetterSource: SQS. Each target's dead-letter queues are received with a visibility timeout
 *   (so paging returns new messages), read, and made visible again: nothing is deleted.
 * - CompletionSource: DynamoDB BatchGetItem on the idempotency table.
 * - RecoverySink: re-delivery to the one target of a route, never back through the bus.
 */
import { gunzipSync } from 'node:zlib';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  QueryExecutionState,
  StartQueryExecutionCommand,
  type GetQueryResultsCommandOutput,
} from '@aws-sdk/client-athena';
import { DescribeArchiveCommand } from '@aws-sdk/client-eventbridge';
import { BatchGetItemCommand, DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { DEFAULT_IDEMPOTENCY_EXPIRY_DAYS, idempotencyRecordId, recordExpired, reviewGuardExpiryDays, reviewGuardId } from '../domain/completion-records';
import { DEAD_LETTER_RETENTION_DAYS, stackNames } from '../config';
import type { BusEvent } from '../domain/route-samples';
import { StatefulOutput, targetDeadLetterQueueName, targetOutputKey } from '../stack-outputs';
import { BUS_LOG_TABLE_NAME, DELIVERY_MESSAGE_TYPES, resolverFor, toBusLogRecord, toDeliveryRecord, type DeliveryTargetResolver } from '../recorder/bus-log';
import { longestHorizonMs } from '../recorder/horizon';
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
  InFlightQueue,
  RecorderDeadLetters,
  RecorderInputSource,
  RecorderSource,
  RecorderSources,
  RecoveryOutcome,
  RecoverySink,
  ScanProgress,
  TrackedTarget,
} from '../recorder/sources';
import { AwsRecoveryRecorder, S3RecoveryLog, type RecoveryEntry } from './aws-recovery-log';
import { redriveOf } from '../recorder/recovery-log';
import { describeError } from './cli';
import { OperationFailed } from './command';
import type { AwsClients, OpsRuntime } from './aws-runtime';
import { describeDeadLetter, extractEvent } from './dlq-commands';
import { configKeysOf, deadLetterOutputKeys, deadLetterQueues, loadStackOutputs, type DeadLetterQueueRef, type StackOutputs } from './deployment';
import { redeliveryFor, type DeadLetterContent, type Redelivery } from './target-redelivery';
import type { TimeWindow } from './time-window';

/** Between two GetQueryExecution calls. */
export const ATHENA_POLL_MS = 1_000;
/** A query still running after this is given up (it fails the command with one line). */
export const ATHENA_DEADLINE_MS = 5 * 60_000;
/**
 * An event lands in the partition of the hour Firehose received it, which can be later than its
 * EventBridge `time` by the rule target's maximum event age (TARGET_RETRY_POLICY in
 * lib/constructs/route-chain.ts: 2 hours) plus Firehose's buffering: queries scan that much further.
 */
export const RECORDER_ARRIVAL_LAG_MS = 2 * 3_600_000 + 15 * 60_000;
/**
 * Firehose's largest buffering interval (900 s). An object is named after the arrival of its
 * oldest record, so an event just after an hour (or midnight) can sit under the previous hour's
 * prefix: scans start this much before the window's first event.
 */
export const RECORDER_BUFFER_MS = 15 * 60_000;
/**
 * The recorder stream's buffering interval from the stack outputs (its BufferingHints); a stack
 * deployed before that output existed gets Firehose's largest (RECORDER_BUFFER_MS), never none.
 */
export function recorderBufferMsOf(stateful: StackOutputs): number {
  const seconds = stateful.has(StatefulOutput.recorderBufferSeconds) ? Number(stateful.get(StatefulOutput.recorderBufferSeconds)) : Number.NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : RECORDER_BUFFER_MS;
}

/** Dead letters being read stay hidden this long, so further receives return the others. */
export const READ_VISIBILITY_SECONDS = 120;
/** A dead letter being redriven stays hidden this long: far longer than one re-delivery takes. */
const REDRIVE_VISIBILITY_SECONDS = 300;
const BATCH_GET_LIMIT = 100;

/** A target's dead-letter queues as `ops dlq` names and resolves them (lib/ops/deployment.ts). */
function queueRefs(target: TrackedTarget): DeadLetterQueueRef[] {
  return deadLetterQueues([{ ...target.route, targets: [target.target] }]);
}

/** The ref `dlq redrive` would use for a delivery straight to the target (its target DLQ's hop). */
function targetRef(target: TrackedTarget): DeadLetterQueueRef {
  return { name: targetDeadLetterQueueName(target.route.name, target.name, 'target-dlq'), route: target.route, target: target.target, targetName: target.name, role: 'target-dlq' };
}

/** Whether the deployment has the target: one whose values come from config only when its target DLQ is in the outputs. */
export function targetDeployed(routing: StackOutputs, target: TrackedTarget): boolean {
  return configKeysOf(target.target).length === 0 || routing.has(deadLetterOutputKeys(targetRef(target)).url);
}

// ---- Athena ---------------------------------------------------------------------------------------

/** A SQL string literal for an execution parameter (Athena takes each value as a literal). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const IDENTIFIER = /^[A-Za-z0-9_]+$/;

function identifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value)) throw new OperationFailed(`the recorder's ${what} "${value}" from the stack outputs is not a plain Glue name`);
  return `"${value.toLowerCase()}"`;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The partition predicate for the hours from `from` to `to`, with its parameters: dt between the
 * two days, and the hour bounds on the first and last day.
 */
export function partitionFilter(from: Date, to: Date): { sql: string; parameters: string[] } {
  // The caller passes the window's start; the scan begins RECORDER_BUFFER_MS before it.
  from = new Date(from.getTime() - RECORDER_BUFFER_MS);
  return {
    sql: 'dt BETWEEN ? AND ? AND (dt <> ? OR hour >= ?) AND (dt <> ? OR hour <= ?)',
    parameters: [sqlString(day(from)), sqlString(day(to)), sqlString(day(from)), String(from.getUTCHours()), sqlString(day(to)), String(to.getUTCHours())],
  };
}

/** The table's columns, as this source reads them back into an event. */
const DETAIL_STRINGS = ['eventId', 'eventType', 'occurredAt', 'workspaceId', 'fileId', 'fileName', 'extension', 'agentId', 'reason', 'bodyEncoding'] as const;
const DETAIL_NUMBERS = ['sizeBytes', 'sizeMiB'] as const;
const BODY_REF_FIELDS = ['bucket', 'key', 'sizeBytes', 'sha256'] as const;

const SELECT_COLUMNS = [
  'id',
  '"time"',
  'detail_type',
  'account',
  'region',
  'replay_name',
  ...DETAIL_STRINGS.map((field) => `detail.${field} AS d_${field}`),
  ...DETAIL_NUMBERS.map((field) => `detail.${field} AS d_${field}`),
  'detail.fileNameTruncated AS d_fileNameTruncated',
  ...BODY_REF_FIELDS.map((field) => `detail.bodyRef.${field} AS b_${field}`),
  '"$path" AS record_object',
].join(', ');

type Row = Readonly<Record<string, string | undefined>>;

/** An event rebuilt from the table's columns: the envelope and the normalized detail, no verbatim payload. */
export function eventFromRow(row: Row): RecordedEvent | undefined {
  const detail: Record<string, unknown> = {};
  for (const field of DETAIL_STRINGS) {
    const value = row[`d_${field.toLowerCase()}`];
    if (value !== undefined) detail[field] = value;
  }
  for (const field of DETAIL_NUMBERS) {
    const value = row[`d_${field.toLowerCase()}`];
    if (value !== undefined && value !== '' && Number.isFinite(Number(value))) detail[field] = Number(value);
  }
  if (row.d_filenametruncated === 'true') detail.fileNameTruncated = true;
  if (row.b_bucket !== undefined && row.b_key !== undefined) {
    detail.bodyRef = { bucket: row.b_bucket, key: row.b_key, sizeBytes: Number(row.b_sizebytes ?? 0), sha256: row.b_sha256 ?? '' };
  }
  const event: Record<string, unknown> = {
    version: '0',
    id: row.id ?? '',
    'detail-type': row.detail_type ?? '',
    source: 'fastio',
    account: row.account ?? '',
    time: row.time ?? '',
    region: row.region ?? '',
    resources: [],
    detail,
  };
  if (row.replay_name !== undefined && row.replay_name !== '') event['replay-name'] = row.replay_name;
  return toRecordedEvent(event, row.record_object);
}

interface AthenaLocation {
  readonly workGroup: string;
  readonly database: string;
  readonly table: string;
}

export class AthenaRecorderSource implements RecorderSource {
  private readonly objects = new Map<string, BusEvent[]>();

  constructor(
    private readonly athena: AthenaClient,
    private readonly s3: S3Client,
    private readonly location: AthenaLocation,
    private readonly runtime: Pick<OpsRuntime, 'now' | 'sleep'>,
    private readonly deadlineMs: number = ATHENA_DEADLINE_MS,
  ) {}

  async events(window: TimeWindow, progress?: ScanProgress): Promise<RecordedEvent[]> {
    const until = new Date(Math.min(this.runtime.now().getTime(), window.to.getTime() + RECORDER_ARRIVAL_LAG_MS));
    return this.query(window, until, undefined, progress);
  }

  async eventsOf(fastioEventId: string, window: TimeWindow): Promise<RecordedEvent[]> {
    // Up to now: a replay of the window after it ended lands in the partitions of the replay's hours.
    return this.query(window, this.runtime.now(), fastioEventId);
  }

  async fullEvent(recorded: RecordedEvent): Promise<BusEvent> {
    const path = recorded.location;
    const match = path === undefined ? null : /^s3:\/\/([^/]+)\/(.+)$/.exec(path);
    if (match === null) throw new OperationFailed(`event ${recorded.fastioEventId}: the recorder row names no S3 object to read it from`);
    let events = this.objects.get(path as string);
    if (events === undefined) {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      const text = (match[2] as string).endsWith('.gz') || (bytes[0] === 0x1f && bytes[1] === 0x8b) ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
      events = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as BusEvent];
          } catch {
            return [];
          }
        });
      this.objects.set(path as string, events);
    }
    const found = events.find((event) => event.id === recorded.id);
    if (found === undefined) throw new OperationFailed(`event ${recorded.fastioEventId}: not in its record object ${path ?? ''}`);
    return found;
  }

  private async query(window: TimeWindow, partitionsUntil: Date, fastioEventId: string | undefined, progress?: ScanProgress): Promise<RecordedEvent[]> {
    const partitions = partitionFilter(window.from, partitionsUntil);
    const table = `${identifier(this.location.database, 'database')}.${identifier(this.location.table, 'table')}`;
    const sql = [
      `SELECT ${SELECT_COLUMNS} FROM ${table}`,
      `WHERE ${partitions.sql}`,
      // ISO 8601 UTC strings of one form compare as times.
      'AND "time" >= ? AND "time" <= ?',
      ...(fastioEventId === undefined ? [] : ['AND detail.eventId = ?']),
    ].join(' ');
    const parameters = [
      ...partitions.parameters,
      sqlString(isoSeconds(window.from)),
      sqlString(isoSeconds(window.to)),
      ...(fastioEventId === undefined ? [] : [sqlString(fastioEventId)]),
    ];
    const rows: RecordedEvent[] = [];
    for (const values of await runAthenaQuery(this.athena, this.location, sql, parameters, this.runtime, this.deadlineMs, 'recorder', progress)) {
      const recorded = eventFromRow(values);
      if (recorded !== undefined) rows.push(recorded);
    }
    return rows;
  }
}

/**
 * Runs one parameterised query in the workgroup, waits for it (failing with one line when it fails
 * or outlives the deadline) and returns its rows by lower-case column name.
 */
async function runAthenaQuery(
  athena: AthenaClient,
  location: Pick<AthenaLocation, 'workGroup' | 'database'>,
  sql: string,
  parameters: readonly string[],
  runtime: Pick<OpsRuntime, 'now' | 'sleep'>,
  deadlineMs: number,
  what: string,
  progress?: ScanProgress,
): Promise<Row[]> {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: location.workGroup,
      QueryExecutionContext: { Database: location.database },
      ExecutionParameters: [...parameters],
    }),
  );
  if (id === undefined) throw new OperationFailed('Athena started no query (no QueryExecutionId)');
  const started = runtime.now().getTime();
  for (;;) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = QueryExecution?.Status?.State;
    if (state === QueryExecutionState.SUCCEEDED) break;
    if (state === QueryExecutionState.FAILED || state === QueryExecutionState.CANCELLED) {
      throw new OperationFailed(`${what} query ${id} ${state}: ${QueryExecution?.Status?.StateChangeReason ?? QueryExecution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given'}`);
    }
    const elapsed = runtime.now().getTime() - started;
    if (elapsed >= deadlineMs) {
      throw new OperationFailed(`${what} query ${id} still ${state ?? 'QUEUED'} after ${Math.round(elapsed / 1000)} s: gave up (Athena may still finish it; narrow the window or try again)`);
    }
    progress?.(`${what} query`, 0, undefined);
    await runtime.sleep(ATHENA_POLL_MS);
  }
  const rows: Row[] = [];
  let nextToken: string | undefined;
  let columns: string[] | undefined;
  do {
    const page: GetQueryResultsCommandOutput = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, NextToken: nextToken }));
    columns ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((column) => (column.Name ?? '').toLowerCase());
    // The first row of the first page repeats the column names.
    for (const [index, row] of (page.ResultSet?.Rows ?? []).entries()) {
      if (nextToken === undefined && index === 0) continue;
      const values: Record<string, string | undefined> = {};
      (row.Data ?? []).forEach((datum, column) => {
        values[columns?.[column] ?? String(column)] = datum.VarCharValue;
      });
      rows.push(values);
    }
    nextToken = page.NextToken;
    progress?.(what, rows.length, undefined);
  } while (nextToken !== undefined);
  return rows;
}

/** `2026-11-22T10:00:00Z`: EventBridge writes `time` to the second, so bounds must have that form to compare. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- the bus log ----------------------------------------------------------------------------------

/** `2026/11/22/10`: the bus-log table's `delivered` partition of an hour (BUS_LOG_SUFFIX_PATH). */
function deliveryHour(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
}

/**
 * EventBridge's delivery records from the bus-log table. A record is never older than its event
 * and is delivered within the target's horizon after it, so the query reads the delivery hours
 * from the window's start (less RECORDER_BUFFER_MS, as every scan) to the earlier of now and the
 * window's end plus the longest horizon, and filters by the record's own time and the followed rules.
 */
export class AthenaDeliveryLogSource implements DeliveryLogSource {
  constructor(
    private readonly athena: AthenaClient,
    private readonly location: Pick<AthenaLocation, 'workGroup' | 'database'>,
    private readonly resolve: DeliveryTargetResolver,
    private readonly ruleArns: (targets: readonly TrackedTarget[]) => string[],
    private readonly runtime: Pick<OpsRuntime, 'now' | 'sleep'>,
    private readonly deadlineMs: number = ATHENA_DEADLINE_MS,
  ) {}

  async deliveries(targets: readonly TrackedTarget[], query: DeliveryQuery, progress?: ScanProgress): Promise<DeliveryRecord[]> {
    const rules = [...new Set(this.ruleArns(targets))];
    if (rules.length === 0 || (query.eventIds !== undefined && query.eventIds.length === 0)) return [];
    const from = new Date(query.window.from.getTime() - RECORDER_BUFFER_MS);
    const until = new Date(Math.min(this.runtime.now().getTime(), query.window.to.getTime() + longestHorizonMs(targets)));
    const table = `${identifier(this.location.database, 'database')}.${identifier(BUS_LOG_TABLE_NAME, 'table')}`;
    const marks = (count: number) => Array.from({ length: count }, () => '?').join(', ');
    const sql = [
      'SELECT event_id, message_timestamp_ms, message_type, log_level, resource_arn,',
      'details.rule_arn AS rule_arn, details.target_arn AS target_arn, details.total_attempts AS total_attempts, details.attempt_count AS attempt_count,',
      'details.final_invocation_status AS final_invocation_status, details.invocation_status AS invocation_status,',
      'error.http_status_code AS http_status_code, error.error_message AS error_message, error.aws_service AS aws_service',
      `FROM ${table}`,
      'WHERE delivered BETWEEN ? AND ?',
      'AND TRY_CAST(message_timestamp_ms AS bigint) BETWEEN ? AND ?',
      `AND message_type IN (${marks(DELIVERY_MESSAGE_TYPES.length)})`,
      `AND details.rule_arn IN (${marks(rules.length)})`,
      ...(query.eventIds === undefined ? [] : [`AND event_id IN (${marks(query.eventIds.length)})`]),
    ].join(' ');
    const parameters = [
      sqlString(deliveryHour(from)),
      sqlString(deliveryHour(until)),
      String(query.window.from.getTime() - RECORDER_BUFFER_MS),
      String(until.getTime()),
      ...DELIVERY_MESSAGE_TYPES.map(sqlString),
      ...rules.map(sqlString),
      ...(query.eventIds ?? []).map(sqlString),
    ];
    const records: DeliveryRecord[] = [];
    for (const row of await runAthenaQuery(this.athena, this.location, sql, parameters, this.runtime, this.deadlineMs, 'bus-log', progress)) {
      const number = (value: string | undefined) => (value === undefined || value === '' || !Number.isFinite(Number(value)) ? undefined : Number(value));
      const record = toBusLogRecord({
        resource_arn: row.resource_arn,
        event_id: row.event_id,
        message_timestamp_ms: row.message_timestamp_ms,
        message_type: row.message_type,
        log_level: row.log_level,
        details: {
          rule_arn: row.rule_arn,
          target_arn: row.target_arn,
          ...(number(row.total_attempts) === undefined ? {} : { total_attempts: number(row.total_attempts) }),
          ...(number(row.attempt_count) === undefined ? {} : { attempt_count: number(row.attempt_count) }),
          ...(row.final_invocation_status === undefined ? {} : { final_invocation_status: row.final_invocation_status }),
          ...(row.invocation_status === undefined ? {} : { invocation_status: row.invocation_status }),
        },
        ...(row.error_message === undefined || row.aws_service === undefined
          ? {}
          : { error: { error_message: row.error_message, aws_service: row.aws_service, ...(number(row.http_status_code) === undefined ? {} : { http_status_code: number(row.http_status_code) }) } }),
      });
      const delivery = record === undefined ? undefined : toDeliveryRecord(record, this.resolve);
      if (delivery !== undefined) records.push(delivery);
    }
    return records;
  }
}

/** Each followed target's rule and destination ARN, from the routing stack's outputs. */
export function deliveryTargets(routing: StackOutputs, targets: readonly TrackedTarget[]): { route: string; target: string; ruleArn: string; targetArn: string }[] {
  return targets.flatMap((target) => {
    const ruleKey = targetOutputKey(target.route.name, target.name, 'RuleArn');
    const destinationKey = targetOutputKey(target.route.name, target.name, 'DestinationArn');
    if (!routing.has(ruleKey) || !routing.has(destinationKey)) return [];
    return [{ route: target.route.name, target: target.name, ruleArn: routing.get(ruleKey), targetArn: routing.get(destinationKey) }];
  });
}

// ---- SQS ------------------------------------------------------------------------------------------

interface TargetQueue {
  readonly target: TrackedTarget;
  readonly ref: DeadLetterQueueRef;
  readonly url: string;
}

interface ReadLetter {
  readonly letter: DeadLetter;
  readonly content?: DeadLetterContent;
}

function readDeadLetter(queue: TargetQueue, message: Message): ReadLetter {
  const extracted = extractEvent(queue.ref, message.Body);
  const letter = describeDeadLetter(queue.ref, message, extracted);
  return extracted.ok ? { letter, content: { event: extracted.event, payload: extracted.payload, original: extracted.original } } : { letter };
}

export class SqsDeadLetterSource implements DeadLetterSource {
  constructor(
    private readonly clients: Pick<AwsClients, 'sqs'>,
    private readonly routing: StackOutputs,
  ) {}

  queues(targets: readonly TrackedTarget[]): TargetQueue[] {
    return targets.flatMap((target) => queueRefs(target).map((ref) => ({ target, ref, url: this.routing.get(deadLetterOutputKeys(ref).url) })));
  }

  async deadLetters(targets: readonly TrackedTarget[], progress?: ScanProgress): Promise<DeadLetterScan> {
    const queues = this.queues(targets);
    const letters: DeadLetter[] = [];
    const inFlight: InFlightQueue[] = [];
    for (const [index, queue] of queues.entries()) {
      const read = await this.read(queue);
      for (const message of read.messages) letters.push(readDeadLetter(queue, message).letter);
      if (read.inFlight > 0) inFlight.push({ queue: queue.ref.name, route: queue.target.route.name, target: queue.target.name, inFlight: read.inFlight });
      progress?.('dead letters', index + 1, queues.length);
    }
    return { letters, inFlight };
  }

  /**
   * Every message of the queue, left in place, and how many someone else had hidden when the read
   * began (ApproximateNumberOfMessagesNotVisible: a peek, another reconcile, a redrive in progress).
   * It receives until a receive returns no message it has not seen: the messages it received stay
   * hidden meanwhile, so each receive returns others, and the approximate count does not decide when
   * to stop. Every handle is released at the end, whatever happened.
   */
  async read(queue: { readonly url: string; readonly ref: { readonly name: string } }): Promise<{ messages: Message[]; inFlight: number }> {
    const { sqs } = this.clients;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
    const inFlight = Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const seen = new Map<string, Message>();
    const handles: string[] = [];
    let releaseFailures = 0;
    try {
      for (;;) {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: READ_VISIBILITY_SECONDS,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          }),
        );
        let fresh = 0;
        for (const message of Messages ?? []) {
          if (message.ReceiptHandle !== undefined) handles.push(message.ReceiptHandle);
          const id = message.MessageId ?? message.ReceiptHandle ?? '';
          if (!seen.has(id)) {
            seen.set(id, message);
            fresh += 1;
          }
        }
        if (fresh === 0) break;
      }
    } finally {
      for (const handle of handles) {
        try {
          await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: handle, VisibilityTimeout: 0 }));
        } catch {
          releaseFailures += 1;
        }
      }
    }
    if (releaseFailures > 0) {
      throw new OperationFailed(`${releaseFailures} message(s) of ${queue.ref.name} could not be made visible again: they reappear by themselves within ${READ_VISIBILITY_SECONDS} s`);
    }
    return { messages: [...seen.values()], inFlight: Number.isFinite(inFlight) ? inFlight : 0 };
  }
}

// ---- the recorder DLQ -----------------------------------------------------------------------------

/** The handle `ops dlq` gives the recorder's DLQ. */
export const RECORDER_DLQ_NAME = 'recorder/recorder-dlq';

/**
 * The recorder's DLQ: EventBridge puts there, as the whole event, what it could not hand to
 * Firehose. Read like every DLQ (left in place); `rerecord` puts each event on the recorder stream
 * with PutRecord and deletes its message only then. PutRecord, not PutEvents: an event put back on
 * the bus would reach every route again, while the stream records it exactly once, with its own
 * EventBridge id and time (a record written twice after a failed delete is the same copy to reconcile).
 */
export class SqsRecorderInput implements RecorderInputSource {
  constructor(
    private readonly clients: Pick<AwsClients, 'sqs'>,
    private readonly deadLetters: SqsDeadLetterSource,
    private readonly queueUrl: string,
    private readonly firehose: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async recorderDeadLetters(progress?: ScanProgress): Promise<RecorderDeadLetters> {
    const read = await this.deadLetters.read({ url: this.queueUrl, ref: { name: RECORDER_DLQ_NAME } });
    progress?.('recorder dead letters', 1, 1);
    const events = read.messages.flatMap((message) => {
      const event = parseEvent(message.Body);
      return event === undefined ? [] : [{ ...event, location: `recorder-dlq:${message.MessageId ?? ''}`, fromRecorderDlq: true as const }];
    });
    return { events, messages: read.messages.length, inFlight: read.inFlight };
  }

  /** Every readable message of the queue back on the recorder stream, each deleted once recorded. */
  async rerecord(): Promise<RecoveryOutcome> {
    const { sqs } = this.clients;
    let delivered = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const release: string[] = [];
    try {
      for (;;) {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS, WaitTimeSeconds: 1 }));
        let fresh = 0;
        for (const message of Messages ?? []) {
          const id = message.MessageId ?? '';
          if (seen.has(id)) continue;
          seen.add(id);
          fresh += 1;
          const event = parseEvent(message.Body);
          try {
            if (event === undefined) throw new Error('the message holds no readable event');
            await this.firehose.send(new PutRecordCommand({ DeliveryStreamName: this.streamName, Record: { Data: Buffer.from(JSON.stringify(event.event)) } }));
            await sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }));
            delivered += 1;
          } catch (error) {
            if (message.ReceiptHandle !== undefined) release.push(message.ReceiptHandle);
            failures.push(`${event?.fastioEventId ?? id} from ${RECORDER_DLQ_NAME}: ${describeError(error)}`);
          }
        }
        if (fresh === 0) break;
      }
    } finally {
      for (const handle of release) {
        try {
          await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
        } catch {
          // It reappears by itself when its visibility timeout ends.
        }
      }
    }
    return { delivered, failures };
  }
}

function parseEvent(body: string | undefined): RecordedEvent | undefined {
  if (body === undefined) return undefined;
  try {
    return toRecordedEvent(JSON.parse(body) as unknown);
  } catch {
    return undefined;
  }
}

// ---- DynamoDB -------------------------------------------------------------------------------------

function recordKey(target: TrackedTarget, fastioEventId: string): string {
  return target.completion === 'review-guard' ? reviewGuardId(target.route.name, fastioEventId) : idempotencyRecordId(target.route.name, target.name, fastioEventId);
}

export class DynamoCompletionSource implements CompletionSource {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly runtime: Pick<OpsRuntime, 'now' | 'sleep'>,
    private readonly expiryDays: number,
  ) {}

  async completions(target: TrackedTarget, fastioEventIds: readonly string[]): Promise<ReadonlyMap<string, Completion>> {
    const byKey = new Map(fastioEventIds.map((id) => [recordKey(target, id), id]));
    const found = new Map<string, Completion>();
    const keys = [...byKey.keys()];
    for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
      let pending: Record<string, AttributeValue>[] = keys.slice(start, start + BATCH_GET_LIMIT).map((id) => ({ id: { S: id } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 8) throw new OperationFailed(`DynamoDB kept ${pending.length} completion lookups unprocessed on ${this.tableName}: try again`);
        if (attempt > 0) await this.runtime.sleep(100 * 2 ** attempt);
        const result = await this.dynamodb.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const key = item.id?.S;
          const fastioEventId = key === undefined ? undefined : byKey.get(key);
          const completion = key === undefined ? undefined : this.completion(target, key, item);
          if (fastioEventId !== undefined && completion !== undefined) found.set(fastioEventId, completion);
        }
        pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, AttributeValue>[];
      }
    }
    return found;
  }

  private completion(target: TrackedTarget, key: string, item: Record<string, AttributeValue>): Completion | undefined {
    if (item.status?.S !== 'COMPLETED') return undefined;
    if (target.completion === 'review-guard') {
      // An expired guard is read as gone (its TTL deletes it later): reconcile then calls the event unverifiable past reviewGuardExpiryDays.
      if (recordExpired(item.expiration?.N, this.runtime.now())) return undefined;
      return { record: key, ...(item.completedAt?.S === undefined ? {} : { at: item.completedAt.S }), ...(item.takenOverAt?.S === undefined ? { attempt: 1 } : {}) };
    }
    // Powertools treats an expired record as absent (DynamoDB's TTL deletes it some time later).
    const expiration = Number(item.expiration?.N);
    if (Number.isFinite(expiration) && expiration * 1000 <= this.runtime.now().getTime()) return undefined;
    // The record expires a fixed time after it was saved COMPLETED, so its expiration dates the completion.
    const at = Number.isFinite(expiration) ? new Date((expiration - this.expiryDays * 86_400) * 1000).toISOString() : undefined;
    return { record: key, ...(at === undefined ? {} : { at }) };
  }
}

// ---- recovery -------------------------------------------------------------------------------------

/**
 * Recovery through `dlq redrive`'s own redelivery (lib/ops/target-redelivery.ts): a missing event goes
 * to its target as EventBridge would have delivered it (the target's input applied), a dead letter
 * back to the hop it failed at; never back through the bus.
 */
export class AwsRecoverySink implements RecoverySink {
  private readonly redeliveries = new Map<string, Promise<Redelivery>>();

  constructor(
    private readonly clients: AwsClients,
    private readonly routing: StackOutputs,
    private readonly deadLetterSource: SqsDeadLetterSource,
    private readonly targets: readonly TrackedTarget[],
    private readonly fetchFn: typeof fetch = fetch,
    private readonly recorderInput?: SqsRecorderInput,
    /** Where each message moved and event re-delivered is recorded, for trace. */
    private readonly recoveryRecorder?: AwsRecoveryRecorder,
  ) {}

  private async record(entries: readonly RecoveryEntry[]): Promise<{ warnings?: string[] }> {
    const warning = await this.recoveryRecorder?.record(entries);
    return warning === undefined ? {} : { warnings: [warning] };
  }

  async rerecord(): Promise<RecoveryOutcome> {
    return this.recorderInput === undefined ? { delivered: 0, failures: ['no recorder DLQ in this deployment'] } : this.recorderInput.rerecord();
  }

  private redelivery(ref: DeadLetterQueueRef): Promise<Redelivery> {
    let redelivery = this.redeliveries.get(ref.name);
    if (redelivery === undefined) {
      redelivery = redeliveryFor(ref, this.routing, this.clients, this.fetchFn);
      this.redeliveries.set(ref.name, redelivery);
    }
    return redelivery;
  }

  async deliver(target: TrackedTarget, events: readonly BusEvent[]): Promise<RecoveryOutcome> {
    const redelivery = await this.redelivery(targetRef(target));
    let delivered = 0;
    const failures: string[] = [];
    const entries: RecoveryEntry[] = [];
    for (const event of events) {
      const fastioEventId = typeof event.detail.eventId === 'string' ? event.detail.eventId : undefined;
      const where = { action: 'deliver' as const, route: target.route.name, target: target.name, ...(fastioEventId === undefined ? {} : { fastioEventId }) };
      try {
        await redelivery.deliver({ event: event as Record<string, unknown>, payload: JSON.stringify(event), original: true });
        delivered += 1;
        entries.push({ ...where, outcome: 'delivered' });
      } catch (error) {
        failures.push(`${String(event.detail.eventId)} to ${redelivery.destination}: ${describeError(error)}`);
        entries.push({ ...where, outcome: 'failed', reason: describeError(error) });
      }
    }
    return { delivered, failures, ...(await this.record(entries)) };
  }

  /** Per queue: receive, re-deliver each wanted message, then delete it; never the other way round. */
  async redrive(deadLetters: readonly DeadLetter[]): Promise<RecoveryOutcome> {
    const { sqs } = this.clients;
    let delivered = 0;
    const failures: string[] = [];
    const entries: RecoveryEntry[] = [];
    const byQueue = new Map<string, Set<string>>();
    for (const letter of deadLetters) byQueue.set(letter.queue, (byQueue.get(letter.queue) ?? new Set()).add(letter.messageId));
    const queues = this.deadLetterSource.queues(this.targets).filter((queue) => byQueue.has(queue.ref.name));
    for (const queue of queues) {
      const wanted = byQueue.get(queue.ref.name) as Set<string>;
      const release: string[] = [];
      const seen = new Set<string>();
      try {
        const redelivery = await this.redelivery(queue.ref);
        // Until every wanted letter is found or a receive returns nothing unseen: stale letters of
        // completed events (kept 14 days) can fill many batches ahead of a wanted one.
        while (wanted.size > 0) {
          const { Messages } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
          );
          let fresh = 0;
          for (const message of Messages ?? []) {
            const id = message.MessageId ?? '';
            if (!seen.has(id)) fresh += 1;
            seen.add(id);
            if (!wanted.has(id)) {
              if (message.ReceiptHandle !== undefined) release.push(message.ReceiptHandle);
              continue;
            }
            wanted.delete(id);
            const { letter, content } = readDeadLetter(queue, message);
            const taken = redriveOf(letter);
            try {
              if (content === undefined) throw new Error(letter.reason);
              await redelivery.deliver(content);
              await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
              delivered += 1;
              entries.push({ ...taken, outcome: 'delivered' });
            } catch (error) {
              if (message.ReceiptHandle !== undefined) release.push(message.ReceiptHandle);
              failures.push(`${letter.fastioEventId ?? id} from ${queue.ref.name}: ${describeError(error)}`);
              entries.push({ ...taken, outcome: 'failed', reason: describeError(error) });
            }
          }
          if (fresh === 0) break;
        }
      } catch (error) {
        failures.push(`${queue.ref.name}: ${describeError(error)}`);
      } finally {
        for (const handle of release) {
          try {
            await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: handle, VisibilityTimeout: 0 }));
          } catch {
            // It reappears by itself when its visibility timeout ends.
          }
        }
      }
      for (const id of wanted) failures.push(`message ${id} is no longer in ${queue.ref.name} (redriven or expired meanwhile)`);
    }
    return { delivered, failures, ...(await this.record(entries)) };
  }
}

// ---- the factory ----------------------------------------------------------------------------------

/** Clients the recorder sources need beyond AwsClients; aws-sdk-client-mock intercepts them in tests. */
export interface RecorderClients {
  readonly athena: AthenaClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly firehose: FirehoseClient;
}

export function defaultRecorderClients(region: string | undefined): RecorderClients {
  const config = region === undefined ? {} : { region };
  return { athena: new AthenaClient(config), dynamodb: new DynamoDBClient(config), s3: new S3Client(config), firehose: new FirehoseClient(config) };
}

export interface AwsSourcesRequest {
  readonly stage: string;
  readonly region: string | undefined;
  readonly targets: readonly TrackedTarget[];
}

/** Every source of a deployment, resolved from its stateful and routing stack outputs. */
export async function awsRecorderSources(
  runtime: OpsRuntime,
  request: AwsSourcesRequest,
  recorderClients: (region: string | undefined) => RecorderClients = defaultRecorderClients,
): Promise<RecorderSources> {
  const clients = runtime.clients(request.region);
  const extra = recorderClients(request.region);
  const names = stackNames(request.stage);
  const stateful = await loadStackOutputs(clients.cloudFormation, names.stateful);
  const routing = await loadStackOutputs(clients.cloudFormation, names.routing);
  const location = {
    workGroup: stateful.get(StatefulOutput.recorderWorkGroupName),
    database: stateful.get(StatefulOutput.recorderDatabaseName),
    table: stateful.get(StatefulOutput.recorderTableName),
  };
  const deadLetters = new SqsDeadLetterSource(clients, routing);
  const followed = request.targets.filter((target) => targetDeployed(routing, target));
  const arns = deliveryTargets(routing, followed);
  const ruleArns = (targets: readonly TrackedTarget[]) =>
    arns.filter((entry) => targets.some((target) => target.route.name === entry.route && target.name === entry.target)).map((entry) => entry.ruleArn);
  const recoveryLog = new S3RecoveryLog(extra.s3, stateful.get(StatefulOutput.recorderBucketName));
  const recorderInput = new SqsRecorderInput(clients, deadLetters, stateful.get(StatefulOutput.recorderDlqUrl), extra.firehose, stateful.get(StatefulOutput.recorderStreamName));
  // Review guards live as long as the archive keeps events plus the DLQs' retention; the archive says how long.
  const archive = await clients.eventBridge.send(new DescribeArchiveCommand({ ArchiveName: stateful.get(StatefulOutput.archiveName) }));
  const guardExpiryDays = reviewGuardExpiryDays(archive.RetentionDays, DEAD_LETTER_RETENTION_DAYS);
  return {
    recorder: new AthenaRecorderSource(extra.athena, extra.s3, location, runtime),
    deliveries: new AthenaDeliveryLogSource(extra.athena, location, resolverFor(arns), ruleArns, runtime),
    recorderInput,
    completions: new DynamoCompletionSource(extra.dynamodb, stateful.get(StatefulOutput.idempotencyTableName), runtime, DEFAULT_IDEMPOTENCY_EXPIRY_DAYS),
    deadLetters,
    // Only the deployed targets have queues to redrive: a configurable target the deployment lacks has no outputs.
    recovery: new AwsRecoverySink(clients, routing, deadLetters, followed, runtime.fetch ?? fetch, recorderInput, new AwsRecoveryRecorder(recoveryLog, clients.sts, 'reconcile --recover', runtime.now)),
    recoveryLog,
    recorderBufferMs: recorderBufferMsOf(stateful),
    completionExpiryDays: DEFAULT_IDEMPOTENCY_EXPIRY_DAYS,
    ...(guardExpiryDays === undefined ? {} : { reviewGuardExpiryDays: guardExpiryDays }),
    deployed: (target) => targetDeployed(routing, target),
  };
}
