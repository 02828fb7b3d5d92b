import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECORDER_START_DATE } from '../../lib/constructs/flight-recorder';
import { synthesize, type SynthesizedApp } from './synthesize';
import { onlyResource, type Resources } from './template-helpers';

const RECORD_BUCKET = 'FlightRecorderRecordBucket';
const RESULTS_BUCKET = 'FlightRecorderQueryResultsBucket';

describe('FlightRecorder (stateful stack)', () => {
  let synthesized: SynthesizedApp;
  const template = () => synthesized.templates.stateful;
  const only = (type: string, idFragment: string) => onlyResource(template(), type, idFragment);
  const ref = (idFragment: string, type: string) => ({ Ref: only(type, idFragment)[0] });
  const arnOf = (idFragment: string, type: string) => ({ 'Fn::GetAtt': [only(type, idFragment)[0], 'Arn'] });

  beforeAll(() => {
    synthesized = synthesize();
  });

  describe('the catch-all rule', () => {
    it('matches every event the ingest publishes, with no detail-type or replay-name filter', () => {
      // GIVEN the synthesized stateful stack
      const [, rule] = only('AWS::Events::Rule', 'FlightRecorderRule');
      // THEN quarantined and replayed events match too
      expect(rule.Properties.EventPattern).toEqual({ source: ['fastio'] });
      expect(rule.Properties.EventBusName).toEqual(ref('EventBus', 'AWS::Events::EventBus'));
    });

    it('targets the recorder stream with its own role, target DLQ and the routes\' retry policy', () => {
      const [, rule] = only('AWS::Events::Rule', 'FlightRecorderRule');
      expect(rule.Properties.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: arnOf('FlightRecorderDeliveryStream', 'AWS::KinesisFirehose::DeliveryStream'),
          RoleArn: arnOf('FlightRecorderRuleTargetRole', 'AWS::IAM::Role'),
          DeadLetterConfig: { Arn: arnOf('FlightRecorderTargetDlq', 'AWS::SQS::Queue') },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
        },
      ]);
    });

    it('sends the whole event unchanged: the newline is appended by Firehose, not by an input transformer', () => {
      const [, rule] = only('AWS::Events::Rule', 'FlightRecorderRule');
      const [target] = rule.Properties.Targets;
      expect(target).not.toHaveProperty('Input');
      expect(target).not.toHaveProperty('InputPath');
      expect(target).not.toHaveProperty('InputTransformer');
    });

    it('lets only this rule send to its DLQ, which is encrypted, TLS-only and keeps messages 14 days', () => {
      const [queueId, queue] = only('AWS::SQS::Queue', 'FlightRecorderTargetDlq');
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
      template().hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            {
              Sid: 'AllowRecorderRuleDeadLetters',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': arnOf('FlightRecorderRule', 'AWS::Events::Rule') } },
            },
          ]),
        },
      });
    });
  });

  describe('the delivery stream', () => {
    const destination = () => only('AWS::KinesisFirehose::DeliveryStream', 'FlightRecorderDeliveryStream')[1].Properties.ExtendedS3DestinationConfiguration;

    it('is a direct-put stream named after the stage, encrypted at rest', () => {
      const [, stream] = only('AWS::KinesisFirehose::DeliveryStream', 'FlightRecorderDeliveryStream');
      expect(stream.Properties).toMatchObject({
        DeliveryStreamName: 'dev-fastio-recorder',
        DeliveryStreamType: 'DirectPut',
        DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      });
    });

    it('writes gzip objects to the record bucket, partitioned by date and hour, errors apart', () => {
      expect(destination()).toMatchObject({
        BucketARN: arnOf(RECORD_BUCKET, 'AWS::S3::Bucket'),
        RoleARN: arnOf('FlightRecorderDeliveryRole', 'AWS::IAM::Role'),
        Prefix: 'events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/',
        CompressionFormat: 'GZIP',
        FileExtension: '.json.gz',
      });
    });

    it('buffers for at most 60 s or 5 MiB, so trace sees an event about a minute after it', () => {
      expect(destination().BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 5 });
    });

    it('ends every record with a newline, so each object is JSON lines', () => {
      expect(destination().ProcessingConfiguration).toEqual({ Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord' }] });
    });

    it('logs delivery errors to a log group with a retention', () => {
      const [logGroupId, logGroup] = only('AWS::Logs::LogGroup', 'FlightRecorderDeliveryLogGroup');
      expect(logGroup.Properties.RetentionInDays).toBe(30);
      expect(destination().CloudWatchLoggingOptions).toEqual({
        Enabled: true,
        LogGroupName: { Ref: logGroupId },
        LogStreamName: ref('FlightRecorderDeliveryLogStream', 'AWS::Logs::LogStream'),
      });
    });
  });

  describe('the record bucket', () => {
    const bucket = () => only('AWS::S3::Bucket', RECORD_BUCKET);

    it('is named after the stage, account and region', () => {
      expect(bucket()[1].Properties.BucketName).toEqual({ 'Fn::Join': ['', ['dev-fastio-records-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]] });
    });

    it('encrypts at rest (SSE-S3) and blocks every form of public access', () => {
      expect(bucket()[1].Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
    });

    it('denies any request that is not over TLS', () => {
      expectTlsOnly(bucket()[0]);
    });

    it('keeps records for the archive retention plus the 14 days a dead letter can wait', () => {
      expect(bucket()[1].Properties.LifecycleConfiguration.Rules).toEqual([
        { Id: 'expire-after-archive-and-dead-letter-retention', Status: 'Enabled', ExpirationInDays: 44, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      ]);
    });

    it('follows -c archiveRetentionDays', () => {
      // GIVEN a longer archive retention
      const { templates } = synthesize({ archiveRetentionDays: '90' });
      // THEN the records outlive it by the dead-letter retention
      const [, resource] = onlyResource(templates.stateful, 'AWS::S3::Bucket', RECORD_BUCKET);
      expect(resource.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(104);
    });

    it('is retained when the stack is deleted', () => {
      expect(bucket()[1].DeletionPolicy).toBe('Retain');
    });
  });

  describe('the Glue table', () => {
    const tableInput = () => only('AWS::Glue::Table', 'FlightRecorderTable')[1].Properties.TableInput;
    const recordsLocation = (suffix: string) => ({ 'Fn::Join': ['', ['s3://', ref(RECORD_BUCKET, 'AWS::S3::Bucket'), suffix]] });

    it('lives in the stage database', () => {
      template().hasResourceProperties('AWS::Glue::Database', { CatalogId: { Ref: 'AWS::AccountId' }, DatabaseInput: Match.objectLike({ Name: 'dev_fastio_recorder' }) });
      const [, table] = only('AWS::Glue::Table', 'FlightRecorderTable');
      expect(table.Properties.DatabaseName).toBe('dev_fastio_recorder');
      expect(tableInput()).toMatchObject({ Name: 'events', TableType: 'EXTERNAL_TABLE' });
    });

    it('projects dt and hour partitions onto the Firehose prefix instead of using a crawler', () => {
      expect(tableInput().Parameters).toEqual({
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
        'storage.location.template': recordsLocation('/events/dt=${dt}/hour=${hour}/'),
      });
      template().resourceCountIs('AWS::Glue::Crawler', 0);
    });

    it('has dt and hour as partition keys', () => {
      expect(tableInput().PartitionKeys.map(({ Name, Type }: { Name: string; Type: string }) => [Name, Type])).toEqual([
        ['dt', 'string'],
        ['hour', 'int'],
      ]);
    });

    it('reads gzip JSON lines with the OpenX SerDe, mapping the hyphenated keys', () => {
      expect(tableInput().StorageDescriptor).toMatchObject({
        Location: recordsLocation('/events/'),
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        SerdeInfo: {
          SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
          Parameters: { 'mapping.detail_type': 'detail-type', 'mapping.replay_name': 'replay-name' },
        },
      });
    });

    it('has a column for every EventBridge envelope field and the normalized detail as a struct', () => {
      const columns = tableInput().StorageDescriptor.Columns.map(({ Name, Type }: { Name: string; Type: string }) => [Name, Type]);
      expect(columns).toEqual([
        ['version', 'string'],
        ['id', 'string'],
        ['detail_type', 'string'],
        ['source', 'string'],
        ['account', 'string'],
        ['time', 'string'],
        ['region', 'string'],
        ['resources', 'array<string>'],
        ['replay_name', 'string'],
        [
          'detail',
          'struct<eventId:string,eventType:string,occurredAt:string,workspaceId:string,fileId:string,fileName:string,extension:string,sizeBytes:bigint,sizeMiB:bigint,agentId:string,fileNameTruncated:boolean,bodyRef:struct<bucket:string,key:string,sizeBytes:bigint,sha256:string>,reason:string,bodyEncoding:string>',
        ],
      ]);
    });
  });

  describe('the Athena workgroup', () => {
    const workGroup = () => only('AWS::Athena::WorkGroup', 'FlightRecorderWorkGroup')[1].Properties;

    it('enforces its configuration, with encrypted results in its own bucket and a per-query scan cutoff', () => {
      expect(workGroup()).toMatchObject({ Name: 'dev-fastio-recorder', State: 'ENABLED' });
      expect(workGroup().WorkGroupConfiguration).toEqual({
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'AUTO' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', ref(RESULTS_BUCKET, 'AWS::S3::Bucket'), '/results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      });
    });

    it('keeps results in an encrypted, private, TLS-only bucket for 30 days', () => {
      const [bucketId, bucket] = only('AWS::S3::Bucket', RESULTS_BUCKET);
      expect(bucket.Properties).toMatchObject({
        BucketName: { 'Fn::Join': ['', ['dev-fastio-queries-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]] },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
      expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
        { Id: 'expire-query-results', Status: 'Enabled', ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      ]);
      expectTlsOnly(bucketId);
    });
  });

  describe('least privilege', () => {
    const statementsOf = (roleFragment: string) => {
      const [roleId] = only('AWS::IAM::Role', roleFragment);
      const policies = Object.values(template().findResources('AWS::IAM::Policy') as Resources).filter((policy) =>
        (policy.Properties.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })),
      );
      return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    };
    const bucketArn = () => arnOf(RECORD_BUCKET, 'AWS::S3::Bucket');
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn(), `/${prefix}*`]] });

    it('lets Firehose write records under events/ and errors/ and nothing else, no delete', () => {
      expect(statementsOf('FlightRecorderDeliveryRole')).toEqual([
        { Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], Resource: [objects('errors/'), objects('events/')] },
        { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn() },
        {
          Effect: 'Allow',
          Action: 'logs:PutLogEvents',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':logs:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':log-group:',
                ref('FlightRecorderDeliveryLogGroup', 'AWS::Logs::LogGroup'),
                ':log-stream:',
                ref('FlightRecorderDeliveryLogStream', 'AWS::Logs::LogStream'),
              ],
            ],
          },
        },
      ]);
    });

    it('trusts only Firehose for this account to assume the delivery role', () => {
      const [, role] = only('AWS::IAM::Role', 'FlightRecorderDeliveryRole');
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'firehose.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } },
      ]);
    });

    it('lets EventBridge only put records on the recorder stream', () => {
      expect(statementsOf('FlightRecorderRuleTargetRole')).toEqual([
        { Effect: 'Allow', Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Resource: arnOf('FlightRecorderDeliveryStream', 'AWS::KinesisFirehose::DeliveryStream') },
      ]);
    });

    it('trusts only rules of this account\'s bus to assume the rule target role', () => {
      const [, role] = only('AWS::IAM::Role', 'FlightRecorderRuleTargetRole');
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: {
              'aws:SourceArn': {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':rule/', ref('EventBus', 'AWS::Events::EventBus'), '/*']],
              },
            },
          },
        },
      ]);
    });

    it('grants no recorder role a "*" resource', () => {
      for (const role of ['FlightRecorderDeliveryRole', 'FlightRecorderRuleTargetRole']) {
        for (const statement of statementsOf(role)) {
          const resources = [statement.Resource].flat();
          expect(resources, role).not.toContain('*');
        }
      }
    });
  });

  describe('the bus log (the evidence `confirmed` rests on)', () => {
    it('logs the bus at INFO, where INVOCATION_SUCCESS is, without the event or target input in the records', () => {
      template().hasResourceProperties('AWS::Events::EventBus', { Name: 'dev-fastio', LogConfig: { Level: 'INFO', IncludeDetail: 'NONE' } });
    });

    it('delivers both log types INFO includes (ERROR_LOGS and INFO_LOGS) from the bus', () => {
      const sources = template().findResources('AWS::Logs::DeliverySource');
      expect(Object.values(sources).map((source) => [source.Properties.LogType, source.Properties.ResourceArn])).toEqual([
        ['ERROR_LOGS', arnOf('EventBus', 'AWS::Events::EventBus')],
        ['INFO_LOGS', arnOf('EventBus', 'AWS::Events::EventBus')],
      ]);
    });

    it('delivers each source to the record bucket under bus-logs/, one path per delivery hour, after the bucket policy admits it', () => {
      const [destinationId] = only('AWS::Logs::DeliveryDestination', 'FlightRecorderBusLogDestination');
      template().hasResourceProperties('AWS::Logs::DeliveryDestination', { DestinationResourceArn: arnOf(RECORD_BUCKET, 'AWS::S3::Bucket'), OutputFormat: 'json' });
      const deliveries = Object.values(template().findResources('AWS::Logs::Delivery'));
      expect(deliveries).toHaveLength(2);
      for (const delivery of deliveries) {
        expect(delivery.Properties).toMatchObject({ DeliveryDestinationArn: { 'Fn::GetAtt': [destinationId, 'Arn'] }, S3SuffixPath: 'bus-logs/{yyyy}/{MM}/{dd}/{HH}' });
        expect(delivery.DependsOn).toEqual(expect.arrayContaining([only('AWS::S3::BucketPolicy', 'FlightRecorderRecordBucketPolicy')[0]]));
      }
    });

    it('lets delivery.logs.amazonaws.com put objects under bus-logs/ only, for these two sources of this account', () => {
      const sourceArns = Object.keys(template().findResources('AWS::Logs::DeliverySource')).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
      template().hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: ref(RECORD_BUCKET, 'AWS::S3::Bucket'),
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowBusLogDelivery',
              Effect: 'Allow',
              Principal: { Service: 'delivery.logs.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: { 'Fn::Join': ['', [arnOf(RECORD_BUCKET, 'AWS::S3::Bucket'), '/bus-logs/*']] },
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 's3:x-amz-acl': 'bucket-owner-full-control' },
                ArnLike: { 'aws:SourceArn': sourceArns },
              },
            },
          ]),
        },
      });
    });

    it('has a Glue table beside the events table, projected over the delivery hours under bus-logs/', () => {
      const [, table] = only('AWS::Glue::Table', 'FlightRecorderBusLogTable');
      const input = table.Properties.TableInput;
      expect(table.Properties.DatabaseName).toBe('dev_fastio_recorder');
      expect(input.Name).toBe('bus_logs');
      expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'delivered', Type: 'string' })]);
      expect(input.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.delivered.type': 'date',
        'projection.delivered.format': 'yyyy/MM/dd/HH',
        'projection.delivered.interval.unit': 'HOURS',
        'storage.location.template': { 'Fn::Join': ['', ['s3://', ref(RECORD_BUCKET, 'AWS::S3::Bucket'), '/bus-logs/${delivered}/']] },
      });
      expect(input.StorageDescriptor.Columns.map((column: { Name: string }) => column.Name)).toEqual(
        expect.arrayContaining(['event_id', 'message_type', 'message_timestamp_ms', 'details', 'error']),
      );
    });
  });

  it('outputs every name and ARN the ops commands read', () => {
    const outputs = template().findOutputs('*');
    expect(outputs.RecorderBucketName?.Value).toEqual(ref(RECORD_BUCKET, 'AWS::S3::Bucket'));
    expect(outputs.RecorderStreamName?.Value).toEqual(ref('FlightRecorderDeliveryStream', 'AWS::KinesisFirehose::DeliveryStream'));
    expect(outputs.RecorderRuleArn?.Value).toEqual(arnOf('FlightRecorderRule', 'AWS::Events::Rule'));
    expect(outputs.RecorderDlqUrl?.Value).toEqual(ref('FlightRecorderTargetDlq', 'AWS::SQS::Queue'));
    expect(outputs.RecorderDlqArn?.Value).toEqual(arnOf('FlightRecorderTargetDlq', 'AWS::SQS::Queue'));
    expect(outputs.RecorderDatabaseName?.Value).toBe('dev_fastio_recorder');
    expect(outputs.RecorderTableName?.Value).toBe('events');
    expect(outputs.RecorderWorkGroupName?.Value).toBe('dev-fastio-recorder');
    expect(outputs.QueryResultsBucketName?.Value).toEqual(ref(RESULTS_BUCKET, 'AWS::S3::Bucket'));
  });

  it("outputs the stream's buffering interval, the same seconds as its BufferingHints, for ops reconcile's buffer edge", () => {
    const [stream] = Object.values(template().findResources('AWS::KinesisFirehose::DeliveryStream')) as { Properties: { ExtendedS3DestinationConfiguration: { BufferingHints: { IntervalInSeconds: number } } } }[];
    const seconds = stream?.Properties.ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds;
    expect(seconds).toBe(60);
    expect(template().findOutputs('RecorderBufferSeconds').RecorderBufferSeconds?.Value).toBe(String(seconds));
  });

  function expectTlsOnly(bucketId: string): void {
    template().hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  }
});
