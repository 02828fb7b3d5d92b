import { ArnFormat, Aws, Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as events from 'aws-cdk-lib/aws-events';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FASTIO_SOURCE } from '../domain/fastio-envelope';
import { BUS_LOG_TABLE_NAME } from '../recorder/bus-log';
import { TARGET_RETRY_POLICY } from './route-chain';
import { createSecureBucket } from './secure-bucket';
import { QUEUE_RETENTION, createDeadLetterQueue } from './secure-queue';

/**
 * The flight recorder (DESIGN.md decision 14): every event on the bus, as one JSON line, in S3,
 * searchable with Athena. Archives can only be replayed; this is what `ops trace` and
 * `ops reconcile` read.
 */

/** Where delivered records land. Firehose's `!{timestamp}` is the arrival time at Firehose, in UTC. */
export const RECORD_PREFIX = 'events/';
export const RECORD_OBJECT_PREFIX = `${RECORD_PREFIX}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`;
/** Records Firehose could not process; the error type keeps them apart from the table's prefix. */
export const RECORD_ERROR_PREFIX = 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/';

/** The first day the dt partition projection covers; no record can be older than the project. */
export const RECORDER_START_DATE = '2026-01-01';

/**
 * How much later than its EventBridge `time` an event can reach its partition: EventBridge retries
 * the Firehose target for up to TARGET_RETRY_POLICY.maxEventAge, and the partition is the hour
 * Firehose received it. A query over the event-time window [from, to] must scan the partitions
 * from `from` to `to` plus this lag (plus the buffering interval) to see every event of the window.
 */
export const RECORDER_ARRIVAL_LAG = TARGET_RETRY_POLICY.maxEventAge;

/**
 * Where CloudWatch Logs delivers the bus's log records (lib/recorder/bus-log.ts), one path per
 * UTC hour of delivery: `bus-logs/2026/11/22/10/…`. Its own prefix: the events table never reads it.
 */
export const BUS_LOG_PREFIX = 'bus-logs/';
export const BUS_LOG_SUFFIX_PATH = `${BUS_LOG_PREFIX}{yyyy}/{MM}/{dd}/{HH}`;
/**
 * The bus logs at INFO: ERROR's failure records plus the major steps, INVOCATION_SUCCESS among
 * them, the evidence `confirmed` rests on. TRACE would add every attempt's start for no new fact.
 * A level is delivered by one delivery source per log type it includes (INFO = INFO_LOGS + ERROR_LOGS).
 */
export const BUS_LOG_LEVEL = events.Level.INFO;
export const BUS_LOG_TYPES = ['ERROR_LOGS', 'INFO_LOGS'] as const;

export const recorderBucketName = (stage: string): string => `${stage}-fastio-records-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
export const queryResultsBucketName = (stage: string): string => `${stage}-fastio-queries-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
/** Glue and Athena names allow no '-' unquoted; stages may hold them. */
export const recorderDatabaseName = (stage: string): string => `${stage.replace(/-/g, '_')}_fastio_recorder`;
export const RECORDER_TABLE_NAME = 'events';

export interface FlightRecorderProps {
  readonly stage: string;
  /** The bus whose every `fastio` event is recorded, replays and quarantined events included. */
  readonly eventBus: events.IEventBus;
  /**
   * Days a record is kept. Records must outlive every archived event and dead letter they describe,
   * or `ops reconcile` would call a recoverable event missing.
   */
  readonly archiveRetentionDays: number;
  /**
   * How long Firehose buffers before writing an object: the delay before `ops trace` sees an event.
   * @default Duration.seconds(60)
   */
  readonly bufferingInterval?: Duration;
  /**
   * @default Size.mebibytes(5)
   */
  readonly bufferingSize?: Size;
  /**
   * Athena cancels any query of the workgroup that would scan more than this.
   * @default Size.gibibytes(10)
   */
  readonly bytesScannedCutoffPerQuery?: Size;
  /**
   * How long Athena query results are kept.
   * @default Duration.days(30)
   */
  readonly queryResultRetention?: Duration;
}

/**
 * A catch-all rule → Firehose → S3 (gzip JSON lines, `dt`/`hour` partitions), a Glue table over the
 * records with partition projection (no crawler), and an Athena workgroup with its own encrypted
 * results bucket. The rule target has its own DLQ and the same retry policy as every route target.
 */
export class FlightRecorder extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly queryResultsBucket: s3.Bucket;
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  /** The stream's buffering interval: an event is readable up to this long after it arrived (`ops reconcile` waits it out). */
  public readonly bufferingInterval: Duration;
  /** The role Firehose assumes to write records. */
  public readonly deliveryRole: iam.Role;
  public readonly deliveryLogGroup: logs.LogGroup;
  public readonly rule: events.Rule;
  /** The role EventBridge assumes to put records on the stream. */
  public readonly ruleTargetRole: iam.Role;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly database: glue.CfnDatabase;
  public readonly table: glue.CfnTable;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly databaseName: string;
  public readonly tableName: string;
  public readonly workGroupName: string;
  /** The Glue table over the bus's log records, beside the events table. */
  public readonly busLogTable: glue.CfnTable;
  public readonly busLogTableName: string;
  public readonly busLogSources: logs.CfnDeliverySource[];
  public readonly busLogDestination: logs.CfnDeliveryDestination;

  constructor(scope: Construct, id: string, props: FlightRecorderProps) {
    super(scope, id);
    const { stage } = props;

    this.bucket = createSecureBucket(this, 'RecordBucket', {
      bucketName: recorderBucketName(stage),
      expiry: { id: 'expire-after-archive-and-dead-letter-retention', expiration: Duration.days(props.archiveRetentionDays + QUEUE_RETENTION.toDays()) },
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the recorder delivery role writes (under events/ and errors/) and operators read through Athena; server access logs would need a third bucket to say the same. Enable CloudTrail S3 data events when an access audit is required.',
    });
    this.queryResultsBucket = createSecureBucket(this, 'QueryResultsBucket', {
      bucketName: queryResultsBucketName(stage),
      expiry: { id: 'expire-query-results', expiration: props.queryResultRetention ?? Duration.days(30) },
    });
    Validations.of(this.queryResultsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only Athena results of the recorder workgroup, written by Athena for the operator who ran the query and expired after 30 days; CloudTrail records every query (athena:StartQueryExecution).',
    });

    this.deliveryLogGroup = new logs.LogGroup(this, 'DeliveryLogGroup', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const deliveryLogStream = new logs.LogStream(this, 'DeliveryLogStream', { logGroup: this.deliveryLogGroup, removalPolicy: RemovalPolicy.DESTROY });
    this.deliveryRole = this.createDeliveryRole(deliveryLogStream);

    const bufferingInterval = props.bufferingInterval ?? Duration.seconds(60);
    this.bufferingInterval = bufferingInterval;
    const bufferingSize = props.bufferingSize ?? Size.mebibytes(5);
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: `${stage}-fastio-recorder`,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: this.bucket.bucketArn,
        roleArn: this.deliveryRole.roleArn,
        prefix: RECORD_OBJECT_PREFIX,
        errorOutputPrefix: RECORD_ERROR_PREFIX,
        compressionFormat: 'GZIP',
        fileExtension: '.json.gz',
        bufferingHints: { intervalInSeconds: bufferingInterval.toSeconds(), sizeInMBs: bufferingSize.toMebibytes() },
        // EventBridge puts each event as one record with no separator; Firehose concatenates
        // records, so the delimiter is what makes an object JSON lines for the SerDe.
        processingConfiguration: { enabled: true, processors: [{ type: 'AppendDelimiterToRecord' }] },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: this.deliveryLogGroup.logGroupName, logStreamName: deliveryLogStream.logStreamName },
      },
    });
    // The stream must not be created before its role may write, or its first deliveries fail.
    this.deliveryStream.node.addDependency(this.deliveryRole);

    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      description: 'Flight recorder: every event of the bus (quarantined and replayed ones included) to Firehose and S3.',
      // No replay-name filter: a replayed event is recorded again, marked by its replay-name.
      eventPattern: { source: [FASTIO_SOURCE] },
    });
    this.deadLetterQueue = createDeadLetterQueue(this, 'TargetDlq', 'recorder-dlq');
    this.ruleTargetRole = this.createRuleTargetRole(props.eventBus);
    this.addRuleTarget();

    this.databaseName = recorderDatabaseName(stage);
    this.tableName = RECORDER_TABLE_NAME;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: `Flight recorder of ${stage}-fastio: every bus event, searchable with Athena.` },
    });
    this.table = this.createTable();
    this.table.addResourceDependency(this.database);

    this.enableBusLogging(props.eventBus);
    const busLogs = this.deliverBusLogs(stage, props.eventBus);
    this.busLogSources = busLogs.sources;
    this.busLogDestination = busLogs.destination;
    this.busLogTableName = BUS_LOG_TABLE_NAME;
    this.busLogTable = this.createBusLogTable();
    this.busLogTable.addResourceDependency(this.database);

    this.workGroupName = `${stage}-fastio-recorder`;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: `Queries of the ${stage}-fastio flight recorder (ops trace, ops reconcile).`,
      state: 'ENABLED',
      // Query history and saved queries are not data worth keeping a stack deletion for.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot send results elsewhere or unencrypted, nor lift the scan limit.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: (props.bytesScannedCutoffPerQuery ?? Size.gibibytes(10)).toBytes(),
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: `s3://${this.queryResultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });
  }


  /**
   * The bus's LogConfig: INFO (BUS_LOG_LEVEL) and IncludeDetail NONE, so a record names the event,
   * rule and target and says what happened, but carries neither the event nor the target input:
   * sender-controlled values (file names, metadata) never reach the log. The bus must be one of this
   * stack (an imported bus's logging is its owner's to set).
   */
  private enableBusLogging(eventBus: events.IEventBus): void {
    const cfnBus = eventBus.node.defaultChild;
    if (!(cfnBus instanceof events.CfnEventBus)) {
      throw new Error('FlightRecorder needs an event bus of this app: it turns on the bus logs reconcile reads');
    }
    cfnBus.logConfig = { level: BUS_LOG_LEVEL, includeDetail: events.IncludeDetail.NONE };
  }

  /**
   * CloudWatch Logs vended-log delivery of the bus's records into the record bucket under
   * BUS_LOG_PREFIX: one delivery source per log type of the level, one S3 destination, one delivery
   * each. The bucket lets delivery.logs.amazonaws.com write under that prefix only, for these
   * sources of this account only (confused-deputy protection).
   */
  private deliverBusLogs(stage: string, eventBus: events.IEventBus): { sources: logs.CfnDeliverySource[]; destination: logs.CfnDeliveryDestination } {
    const destination = new logs.CfnDeliveryDestination(this, 'BusLogDestination', {
      name: `${stage}-fastio-bus-logs`,
      destinationResourceArn: this.bucket.bucketArn,
      outputFormat: 'json',
    });
    const sources = BUS_LOG_TYPES.map((logType) => {
      const source = new logs.CfnDeliverySource(this, `BusLogSource${logType === 'ERROR_LOGS' ? 'Error' : 'Info'}`, {
        name: `${stage}-fastio-bus-${logType === 'ERROR_LOGS' ? 'error' : 'info'}`,
        resourceArn: eventBus.eventBusArn,
        logType,
      });
      const delivery = new logs.CfnDelivery(this, `BusLogDelivery${logType === 'ERROR_LOGS' ? 'Error' : 'Info'}`, {
        deliverySourceName: source.ref,
        deliveryDestinationArn: destination.attrArn,
        s3SuffixPath: BUS_LOG_SUFFIX_PATH,
        s3EnableHiveCompatiblePath: false,
      });
      delivery.addResourceDependency(source);
      delivery.addResourceDependency(destination);
      return source;
    });
    const stack = Stack.of(this);
    const policy = this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBusLogDelivery',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${BUS_LOG_PREFIX}*`)],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 's3:x-amz-acl': 'bucket-owner-full-control' },
          ArnLike: { 'aws:SourceArn': sources.map((source) => source.attrArn) },
        },
      }),
    );
    // The deliveries check the bucket policy when they are created.
    const bucketPolicy = this.bucket.policy?.node.defaultChild;
    if (policy.statementAdded && bucketPolicy instanceof s3.CfnBucketPolicy) {
      for (const child of this.node.children) if (child instanceof logs.CfnDelivery) child.addResourceDependency(bucketPolicy);
    }
    return { sources, destination };
  }

  /**
   * Exactly the S3 actions Firehose documents for an S3 destination, object actions only under the
   * two prefixes it writes. Not the L2 S3Bucket destination: it grants read-write on the whole
   * bucket, deletes included, and a recorder's writer must not be able to erase the record.
   */
  private createDeliveryRole(logStream: logs.LogStream): iam.Role {
    const role = new iam.Role(this, 'DeliveryRole', {
      description: 'Firehose writes flight recorder records to S3 with it.',
      // Firehose passes the account id as external id (confused-deputy protection).
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } } }),
    });
    const objectArns = [this.bucket.arnForObjects(`${RECORD_PREFIX}*`), this.bucket.arnForObjects('errors/*')];
    iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], resourceArns: objectArns });
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resourceArns: [this.bucket.bucketArn],
    });
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['logs:PutLogEvents'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: `${this.deliveryLogGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of [RECORD_PREFIX, 'errors/']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`,
        reason:
          'Firehose names each record object itself (date, hour, stream name, random suffix); the object actions are held to the events/ and errors/ prefixes of the one record bucket, without delete.',
      });
    }
    return role;
  }

  /**
   * EventBridge assumes this to put records, trusted only for rules of this account's bus. The
   * rule's own ARN cannot be named: the rule refers to the role (see RouteChain's start role).
   */
  private createRuleTargetRole(eventBus: events.IEventBus): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'RuleTargetRole', {
      description: 'EventBridge puts every bus event on the flight recorder stream with it.',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${eventBus.eventBusName}/*` }) },
      }),
    });
    // What DeliveryStream.grantPutRecords grants; an imported L2 stream would add an unused CIDR mapping.
    iam.Grant.addToPrincipal({ grantee: role, actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resourceArns: [this.deliveryStream.attrArn] });
    return role;
  }

  /**
   * CDK's Firehose rule target takes no DLQ or retry policy, so the target is bound here with both,
   * and the DLQ admits this rule alone.
   */
  private addRuleTarget(): void {
    const { deadLetterQueue: queue, rule, ruleTargetRole: role } = this;
    rule.addTarget({
      bind: () => ({
        arn: this.deliveryStream.attrArn,
        role,
        deadLetterConfig: { arn: queue.queueArn },
        retryPolicy: {
          maximumRetryAttempts: TARGET_RETRY_POLICY.retryAttempts,
          maximumEventAgeInSeconds: TARGET_RETRY_POLICY.maxEventAge.toSeconds(),
        },
      }),
    });
    queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowRecorderRuleDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
  }

  /**
   * One row per recorded event. The EventBridge envelope's columns, `detail` as a struct of the
   * normalized fields the ingest writes (lib/domain/fastio-envelope.ts: FastioEventDetail and
   * QuarantineDetail, whose field names do not clash) and not the verbatim `payload`: Fast.io's
   * payload schema is unknown, and a struct over it would break queries on the first field whose
   * type changes. The normalized fields are typed by the ingest, so their struct is stable.
   */
  private createTable(): glue.CfnTable {
    const location = `s3://${this.bucket.bucketName}/${RECORD_PREFIX}`;
    const bodyRef = 'struct<bucket:string,key:string,sizeBytes:bigint,sha256:string>';
    const detail = [
      'eventId:string',
      'eventType:string',
      'occurredAt:string',
      'workspaceId:string',
      'fileId:string',
      'fileName:string',
      'extension:string',
      'sizeBytes:bigint',
      'sizeMiB:bigint',
      'agentId:string',
      'fileNameTruncated:boolean',
      `bodyRef:${bodyRef}`,
      'reason:string',
      'bodyEncoding:string',
    ];
    return new glue.CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: this.tableName,
        description: 'Every event of the bus as EventBridge delivered it, one JSON line each, partitioned by the UTC date and hour Firehose received it.',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${RECORDER_START_DATE},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
        },
        partitionKeys: [
          { name: 'dt', type: 'string', comment: 'UTC date Firehose received the event, yyyy-MM-dd' },
          { name: 'hour', type: 'int', comment: 'UTC hour Firehose received the event, 0-23' },
        ],
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            // Hive column names cannot hold '-': the SerDe maps them from the event's keys.
            parameters: { 'mapping.detail_type': 'detail-type', 'mapping.replay_name': 'replay-name' },
          },
          columns: [
            { name: 'version', type: 'string' },
            { name: 'id', type: 'string', comment: 'EventBridge event id (a replay gives the event a new one)' },
            { name: 'detail_type', type: 'string', comment: 'detail-type: the Fast.io event type, or fastio.quarantined' },
            { name: 'source', type: 'string' },
            { name: 'account', type: 'string' },
            { name: 'time', type: 'string', comment: 'EventBridge event time, ISO 8601 UTC' },
            { name: 'region', type: 'string' },
            { name: 'resources', type: 'array<string>' },
            { name: 'replay_name', type: 'string', comment: 'replay-name: set only on replayed events' },
            { name: 'detail', type: `struct<${detail.join(',')}>`, comment: 'normalized fields; detail.eventId is the Fast.io event id' },
          ],
        },
      },
    });
  }

  /**
   * One row per bus-log record, as EventBridge writes it (lib/recorder/bus-log.ts): the fields
   * reconcile and trace read. Partitioned by the UTC hour CloudWatch Logs delivered the object,
   * projected (no crawler) over BUS_LOG_SUFFIX_PATH.
   */
  private createBusLogTable(): glue.CfnTable {
    const location = `s3://${this.bucket.bucketName}/${BUS_LOG_PREFIX}`;
    const details = [
      'rule_arn:string',
      'role_arn:string',
      'target_arn:string',
      'attempt_count:int',
      'total_attempts:int',
      'final_invocation_status:string',
      'attempt_type:string',
      'invocation_status:string',
    ];
    return new glue.CfnTable(this, 'BusLogTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: BUS_LOG_TABLE_NAME,
        description: "EventBridge's log records of the bus (INFO level, no detail): per event and target, delivered, retried or dead-lettered.",
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          'projection.delivered.type': 'date',
          'projection.delivered.format': 'yyyy/MM/dd/HH',
          'projection.delivered.range': `${RECORDER_START_DATE.replace(/-/g, '/')}/00,NOW`,
          'projection.delivered.interval': '1',
          'projection.delivered.interval.unit': 'HOURS',
          'storage.location.template': `${location}\${delivered}/`,
        },
        partitionKeys: [{ name: 'delivered', type: 'string', comment: 'UTC hour CloudWatch Logs delivered the object, yyyy/MM/dd/HH' }],
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            // A record AWS truncated or extended never fails a query: it reads as nulls.
            parameters: { 'ignore.malformed.json': 'true' },
          },
          columns: [
            { name: 'resource_arn', type: 'string', comment: 'the event bus' },
            { name: 'request_id', type: 'string' },
            { name: 'event_id', type: 'string', comment: "EventBridge's event id (the recorder's id column), not the Fast.io id" },
            { name: 'invocation_id', type: 'string' },
            { name: 'message_timestamp_ms', type: 'string', comment: 'when the record was written, epoch milliseconds' },
            { name: 'message_type', type: 'string', comment: 'INVOCATION_SUCCESS, INVOCATION_DLQ, ...' },
            { name: 'log_level', type: 'string' },
            { name: 'details', type: `struct<${details.join(',')}>` },
            { name: 'error', type: 'struct<http_status_code:int,error_message:string,aws_service:string,request_id:string>' },
          ],
        },
      },
    });
  }
}
