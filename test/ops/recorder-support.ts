/**
 * A fake deployment for `ops trace` and `ops reconcile`: the recorder answered by Athena mocks from
 * a list of events, dead-letter queues and the idempotency table held in memory behind SQS and
 * DynamoDB mocks, and the own targets "completing" what is delivered to them (they write the
 * completion record), so recovery is proven by its effects.
 */
import { gzipSync } from 'node:zlib';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetItemCommand, DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { DescribeArchiveCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { idempotencyRecordId, reviewGuardId } from '../../lib/domain/completion-records';
import { StatefulOutput, targetOutputKey } from '../../lib/stack-outputs';
import type { BusLogRecord } from '../../lib/recorder/bus-log';
import { ACCOUNT, ARCHIVE_NAME, NOW, REGION, functionArn, queueUrl, routingOutputs, stack, stateMachineArn, statefulOutputs } from './support';

export const WORKGROUP = 'dev-fastio-recorder';
export const DATABASE = 'dev_fastio_recorder';
export const RECORD_BUCKET = `dev-fastio-records-${ACCOUNT}-${REGION}`;
export const RECORD_OBJECT = `s3://${RECORD_BUCKET}/events/dt=2026-11-22/hour=10/dev-fastio-recorder-1.json.gz`;
export const IDEMPOTENCY_TABLE = 'dev-fastio-idempotency';
export const RECORDER_DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-fastio-recorder-dlq`;
export const RECORDER_STREAM = 'dev-fastio-recorder';
/** The recorder stream's buffering interval the stateful outputs report. */
export const RECORDER_BUFFER_SECONDS = 60;
/** Who the fake STS says runs the CLI. */
export const OPERATOR_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/fastio-operator/alice`;

export const recorderStatefulOutputs = [
  ...statefulOutputs,
  { OutputKey: StatefulOutput.recorderWorkGroupName, OutputValue: WORKGROUP },
  { OutputKey: StatefulOutput.recorderDatabaseName, OutputValue: DATABASE },
  { OutputKey: StatefulOutput.recorderTableName, OutputValue: 'events' },
  { OutputKey: StatefulOutput.recorderBucketName, OutputValue: RECORD_BUCKET },
  { OutputKey: StatefulOutput.idempotencyTableName, OutputValue: IDEMPOTENCY_TABLE },
  { OutputKey: StatefulOutput.recorderDlqUrl, OutputValue: RECORDER_DLQ_URL },
  { OutputKey: StatefulOutput.recorderStreamName, OutputValue: RECORDER_STREAM },
  { OutputKey: StatefulOutput.recorderBufferSeconds, OutputValue: String(RECORDER_BUFFER_SECONDS) },
];

/** A target's rule ARN (one rule per target) and destination as the routing outputs name them, for bus-log records. */
export const ruleArnOf = (route: string, target: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/dev-fastio/dev-fastio-${route}-${target}`;
export const destinationArnOf = (route: string, target: string) => `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/dev-fastio-${route}-${target}/1`;

/** The routing outputs plus, for these targets, the rule and destination ARNs bus-log records name. */
export function withDeliveryOutputs(outputs: { OutputKey?: string; OutputValue?: string }[], targets: readonly { route: string; target: string }[]): { OutputKey?: string; OutputValue?: string }[] {
  const extra = targets.flatMap(({ route, target }) => [
    { OutputKey: targetOutputKey(route, target, 'RuleArn'), OutputValue: ruleArnOf(route, target) },
    { OutputKey: targetOutputKey(route, target, 'DestinationArn'), OutputValue: destinationArnOf(route, target) },
    { OutputKey: targetOutputKey(route, target, 'TargetDlqUrl'), OutputValue: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-fastio-${route}-${target}-target-dlq` },
  ]);
  const keys = new Set(extra.map((output) => output.OutputKey));
  return [...outputs.filter((output) => !keys.has(output.OutputKey ?? '')), ...extra];
}

/** A bus-log record of one event on one target, as EventBridge writes it. */
export function busLogRecord(eventId: string, route: string, target: string, messageType: BusLogRecord['message_type'], at: string, error?: BusLogRecord['error']): BusLogRecord {
  return {
    resource_arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-fastio`,
    event_id: eventId,
    message_timestamp_ms: String(Date.parse(at)),
    message_type: messageType,
    log_level: messageType === 'INVOCATION_SUCCESS' ? 'INFO' : 'ERROR',
    details: { rule_arn: ruleArnOf(route, target), target_arn: destinationArnOf(route, target), total_attempts: 1 },
    ...(error === undefined ? {} : { error }),
  };
}

export type BusEventJson = Record<string, unknown> & { id: string; time: string; 'detail-type': string; detail: Record<string, unknown> };

/** An event as the bus delivers (and the recorder records) it. */
export function busEvent(fastioEventId: string, detail: Record<string, unknown>, extra: Partial<BusEventJson> = {}): BusEventJson {
  return {
    version: '0',
    id: `eb-${fastioEventId}`,
    'detail-type': 'file.uploaded',
    source: 'fastio',
    account: ACCOUNT,
    time: '2026-11-22T10:30:00Z',
    region: REGION,
    resources: [],
    ...extra,
    detail: { eventId: fastioEventId, eventType: 'file.uploaded', workspaceId: 'ws-1', fileId: `f-${fastioEventId}`, payload: { event_id: fastioEventId }, ...detail },
  };
}

const COLUMNS = [
  'id', 'time', 'detail_type', 'account', 'region', 'replay_name',
  'd_eventId', 'd_eventType', 'd_occurredAt', 'd_workspaceId', 'd_fileId', 'd_fileName', 'd_extension', 'd_agentId', 'd_reason', 'd_bodyEncoding',
  'd_sizeBytes', 'd_sizeMiB', 'd_fileNameTruncated', 'b_bucket', 'b_key', 'b_sizeBytes', 'b_sha256', 'record_object',
];

/** The row Athena returns for a recorded event (nulls are absent VarCharValues). */
function row(event: BusEventJson): { Data: { VarCharValue?: string }[] } {
  const detail = event.detail;
  const bodyRef = (detail.bodyRef ?? {}) as Record<string, unknown>;
  const value = (column: string): unknown => {
    if (column.startsWith('d_')) return detail[column.slice(2)];
    if (column.startsWith('b_')) return bodyRef[column.slice(2)];
    if (column === 'detail_type') return event['detail-type'];
    if (column === 'replay_name') return event['replay-name'];
    if (column === 'record_object') return RECORD_OBJECT;
    return event[column];
  };
  return { Data: COLUMNS.map((column) => { const v = value(column); return v === undefined || v === null ? {} : { VarCharValue: String(v) }; }) };
}

export interface DeadLetterMessage {
  readonly body: string;
  readonly attributes?: Record<string, string>;
}

export interface FakeDeployment {
  /** Everything the recorder holds. */
  recorded: BusEventJson[];
  /** The recorder bucket's recovery log: object key to body. */
  recoveryObjects: Map<string, string>;
  /** Everything the bus-log table holds. */
  busLogs: BusLogRecord[];
  /** By queue URL: messages someone else has in flight (ApproximateNumberOfMessagesNotVisible). */
  inFlight: Map<string, number>;
  /** What PutRecord put on the recorder stream. */
  putRecords: string[];
  /** By queue URL. */
  queues: Map<string, Message[]>;
  /** Idempotency table items by id. */
  items: Map<string, Record<string, AttributeValue>>;
  /** What recovery delivered: `<where> <fastio event id>`. */
  deliveries: string[];
  /** Per query: the SQL and its parameters. */
  queries: { sql: string; parameters: string[] }[];
  /** The routing stack's outputs (tests add the ARNs bus-log records name). */
  routingOutputs: { OutputKey?: string; OutputValue?: string }[];
  /** Athena's state for every GetQueryExecution (default SUCCEEDED). */
  queryState: { state: 'SUCCEEDED' | 'FAILED' | 'RUNNING'; reason?: string };
  /** Targets that fail what is delivered to them again (by where). */
  stillFailing: Set<string>;
  /** What DescribeArchive reports as the archive's retention (0: indefinitely). */
  archiveRetentionDays: number;
  mocks: { athena: ReturnType<typeof mockClient>; sqs: ReturnType<typeof mockClient>; dynamodb: ReturnType<typeof mockClient>; s3: ReturnType<typeof mockClient> };
  restore(): void;
}

export const EXPIRY_SECONDS = 7 * 86_400;
/** The archive's retention the fake deployment reports (DescribeArchive). */
export const ARCHIVE_RETENTION_DAYS = 30;

/** A completed Powertools record of a target, saved at `at`. */
export function completeOnTarget(items: FakeDeployment['items'], route: string, target: string, fastioEventId: string, at = NOW): void {
  const id = idempotencyRecordId(route, target, fastioEventId);
  items.set(id, { id: { S: id }, status: { S: 'COMPLETED' }, expiration: { N: String(Math.floor(at.getTime() / 1000) + EXPIRY_SECONDS) } });
}

/** A completed review guard, claimed at `at`; it expires the archive's retention plus the DLQs' 14 days later, as the workflow writes it. */
export function completeReview(items: FakeDeployment['items'], route: string, fastioEventId: string, at = '2026-11-22T10:31:00.000Z'): void {
  const id = reviewGuardId(route, fastioEventId);
  const expiration = Math.floor(Date.parse(at) / 1000) + (ARCHIVE_RETENTION_DAYS + 14) * 86_400;
  items.set(id, { id: { S: id }, status: { S: 'COMPLETED' }, completedAt: { S: at }, expiration: { N: String(expiration) } });
}

export function deadLetterMessage(id: string, body: unknown, attributes: Record<string, string> = {}): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: JSON.stringify(body),
    Attributes: { SentTimestamp: String(Date.parse('2026-11-22T10:45:00Z')), ApproximateReceiveCount: '1' },
    MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
  };
}

/** Which own target a re-delivery reached, by its address in the routing outputs. */
const OWN_TARGETS: Record<string, { route: string; target: string; review?: boolean }> = {
  [queueUrl('documents', 'queue', 'buffer')]: { route: 'documents', target: 'queue' },
  [functionArn('agent-activity', 'function')]: { route: 'agent-activity', target: 'function' },
  [stateMachineArn('large-media', 'workflow')]: { route: 'large-media', target: 'workflow', review: true },
  [stateMachineArn('untrusted-agent-deletions', 'workflow')]: { route: 'untrusted-agent-deletions', target: 'workflow', review: true },
};

export function fakeDeployment(): FakeDeployment {
  const cfn = mockClient(CloudFormationClient);
  const athena = mockClient(AthenaClient);
  const sqs = mockClient(SQSClient);
  const dynamodb = mockClient(DynamoDBClient);
  const lambda = mockClient(LambdaClient);
  const sfn = mockClient(SFNClient);
  const s3 = mockClient(S3Client);
  const firehose = mockClient(FirehoseClient);
  const events = mockClient(EventBridgeClient);
  const sts = mockClient(STSClient);
  const deployment: FakeDeployment = {
    recoveryObjects: new Map(),
    recorded: [],
    busLogs: [],
    inFlight: new Map(),
    putRecords: [],
    queues: new Map(),
    items: new Map(),
    deliveries: [],
    queries: [],
    routingOutputs: [...routingOutputs],
    queryState: { state: 'SUCCEEDED' },
    stillFailing: new Set(),
    archiveRetentionDays: ARCHIVE_RETENTION_DAYS,
    mocks: { athena, sqs, dynamodb, s3 },
    restore: () => [cfn, athena, sqs, dynamodb, lambda, sfn, s3, firehose, events, sts].forEach((mock) => mock.restore()),
  };
  events.on(DescribeArchiveCommand, { ArchiveName: ARCHIVE_NAME }).callsFake(() => ({ ArchiveName: ARCHIVE_NAME, RetentionDays: deployment.archiveRetentionDays }));
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-stateful' }).resolves(stack('dev-fastio-stateful', recorderStatefulOutputs));
  cfn.on(DescribeStacksCommand, { StackName: 'dev-fastio-routing' }).callsFake(() => stack('dev-fastio-routing', deployment.routingOutputs));

  let results: BusEventJson[] = [];
  let logResults: BusLogRecord[] | undefined;
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string; ExecutionParameters: string[] }) => {
    deployment.queries.push({ sql: input.QueryString, parameters: input.ExecutionParameters });
    const literal = (index: number) => (input.ExecutionParameters[index] ?? '').replace(/^'|'$/g, '').replace(/''/g, "'");
    if (input.QueryString.includes('"bus_logs"')) {
      // delivered hour bounds, then the record time bounds (epoch ms), then the message types, rules and event ids.
      const [fromMs, toMs] = [Number(literal(2)), Number(literal(3))];
      const rest = input.ExecutionParameters.slice(4).map((_, index) => literal(index + 4));
      logResults = deployment.busLogs.filter((record) => {
        const at = Number(record.message_timestamp_ms);
        return at >= fromMs && at <= toMs && rest.includes(record.message_type) && rest.includes(record.details?.rule_arn ?? '');
      });
      return { QueryExecutionId: `q-${deployment.queries.length}` };
    }
    logResults = undefined;
    const [from, to] = [literal(6), literal(7)];
    const id = input.ExecutionParameters.length > 8 ? literal(8) : undefined;
    results = deployment.recorded.filter((event) => event.time >= from && event.time <= to && (id === undefined || event.detail.eventId === id));
    return { QueryExecutionId: `q-${deployment.queries.length}` };
  });
  athena.on(GetQueryExecutionCommand).callsFake(() => ({
    QueryExecution: { Status: { State: deployment.queryState.state, StateChangeReason: deployment.queryState.reason } },
  }));
  // Two rows per page, so paging is exercised.
  athena.on(GetQueryResultsCommand).callsFake((input: { NextToken?: string }) => {
    if (logResults !== undefined) {
      const names = ['event_id', 'message_timestamp_ms', 'message_type', 'log_level', 'resource_arn', 'rule_arn', 'target_arn', 'total_attempts', 'attempt_count', 'final_invocation_status', 'invocation_status', 'http_status_code', 'error_message', 'aws_service'];
      const value = (record: BusLogRecord, name: string): unknown => {
        if (name in record) return (record as unknown as Record<string, unknown>)[name];
        if (record.details !== undefined && name in record.details) return record.details[name];
        return record.error === undefined ? undefined : (record.error as unknown as Record<string, unknown>)[name];
      };
      return {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: names.map((name) => ({ Name: name, Type: 'varchar' })) },
          Rows: [{ Data: names.map((name) => ({ VarCharValue: name })) }, ...logResults.map((record) => ({ Data: names.map((name) => { const v = value(record, name); return v === undefined ? {} : { VarCharValue: String(v) }; }) }))],
        },
      };
    }
    const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
    const page = results.slice(start, start + 2);
    const next = start + 2 < results.length ? String(start + 2) : undefined;
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: COLUMNS.map((name) => ({ Name: name.toLowerCase(), Type: 'varchar' })) },
        Rows: [...(start === 0 ? [{ Data: COLUMNS.map((name) => ({ VarCharValue: name.toLowerCase() })) }] : []), ...page.map(row)],
      },
      NextToken: next,
    };
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: OPERATOR_ARN, Account: ACCOUNT, UserId: 'AROAEXAMPLE:alice' });
  // The recorder bucket's recovery log: what PutObject wrote under recovery/, listed by prefix.
  s3.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: string }) => {
    if (input.Bucket !== RECORD_BUCKET) throw new Error(`PutObject to ${input.Bucket}`);
    deployment.recoveryObjects.set(input.Key, String(input.Body));
    return {};
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix: string }) => ({
    Contents: [...deployment.recoveryObjects.keys()].filter((key) => input.Bucket === RECORD_BUCKET && key.startsWith(input.Prefix)).sort().map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const logged = deployment.recoveryObjects.get(input.Key);
    if (logged !== undefined) return { Body: { transformToString: async () => logged } } as never;
    const bytes = gzipSync(deployment.recorded.map((event) => JSON.stringify(event)).join('\n') + '\n');
    return { Body: { transformToByteArray: async () => new Uint8Array(bytes) } } as never;
  });

  // SQS: a received message stays hidden until its visibility is set back to 0 or it is deleted.
  const hidden = new Set<string>();
  sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => ({
    Attributes: {
      ApproximateNumberOfMessages: String((deployment.queues.get(input.QueueUrl) ?? []).filter((m) => !hidden.has(m.ReceiptHandle ?? '')).length),
      ApproximateNumberOfMessagesNotVisible: String(deployment.inFlight.get(input.QueueUrl) ?? 0),
    },
  }));
  sqs.on(ReceiveMessageCommand).callsFake((input: { QueueUrl: string; MaxNumberOfMessages?: number }) => {
    const visible = (deployment.queues.get(input.QueueUrl) ?? []).filter((m) => !hidden.has(m.ReceiptHandle ?? '')).slice(0, input.MaxNumberOfMessages ?? 1);
    for (const message of visible) hidden.add(message.ReceiptHandle ?? '');
    return { Messages: visible };
  });
  sqs.on(ChangeMessageVisibilityCommand).callsFake((input: { ReceiptHandle: string; VisibilityTimeout: number }) => {
    if (input.VisibilityTimeout === 0) hidden.delete(input.ReceiptHandle);
    return {};
  });
  sqs.on(DeleteMessageCommand).callsFake((input: { QueueUrl: string; ReceiptHandle: string }) => {
    deployment.queues.set(input.QueueUrl, (deployment.queues.get(input.QueueUrl) ?? []).filter((m) => m.ReceiptHandle !== input.ReceiptHandle));
    hidden.delete(input.ReceiptHandle);
    return {};
  });

  firehose.on(PutRecordCommand).callsFake((input: { DeliveryStreamName: string; Record: { Data: Uint8Array } }) => {
    const data = Buffer.from(input.Record.Data).toString('utf8');
    deployment.putRecords.push(`${input.DeliveryStreamName} ${data}`);
    deployment.recorded.push(JSON.parse(data) as BusEventJson);
    return { RecordId: 'r-1' };
  });

  // The own targets: a delivery completes the event there (or fails again, when told to).
  const delivered = (where: string, payload: string) => {
    const event = JSON.parse(payload) as BusEventJson;
    const eventId = String(event.detail.eventId);
    deployment.deliveries.push(`${where} ${eventId}`);
    const target = OWN_TARGETS[where];
    if (target === undefined || deployment.stillFailing.has(where)) return;
    if (target.review) completeReview(deployment.items, target.route, eventId);
    else completeOnTarget(deployment.items, target.route, target.target, eventId);
  };
  sqs.on(SendMessageCommand).callsFake((input: { QueueUrl: string; MessageBody: string }) => {
    delivered(input.QueueUrl, input.MessageBody);
    return { MessageId: 'sent' };
  });
  lambda.on(InvokeCommand).callsFake((input: { FunctionName: string; Payload: string }) => {
    delivered(input.FunctionName, String(input.Payload));
    return { StatusCode: 202 };
  });
  sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; input: string }) => {
    delivered(input.stateMachineArn, input.input);
    return { executionArn: 'arn:exec', startDate: NOW };
  });

  dynamodb.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Record<string, AttributeValue>[] }> }) => {
    const [table, request] = Object.entries(input.RequestItems)[0] as [string, { Keys: Record<string, AttributeValue>[] }];
    const found = request.Keys.flatMap((key) => {
      const item = deployment.items.get(key.id?.S ?? '');
      return item === undefined ? [] : [item];
    });
    return { Responses: { [table]: found } };
  });
  return deployment;
}
