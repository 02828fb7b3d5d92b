import { Arn, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { stackNames } from '../config';
import { BUS_LOG_PREFIX, RECORD_PREFIX, queryResultsBucketName, recorderBucketName, type FlightRecorder } from './flight-recorder';
import { RECOVERY_LOG_PREFIX } from '../recorder/recovery-log';
import { HttpTarget, httpSecretArn } from '../targets/http-target';
import { TopicTarget } from '../targets/topic-target';
import type { RouteChain } from './route-chain';

/** Where the recorder workgroup writes query results (its resultConfiguration). */
const QUERY_RESULTS_PREFIX = 'results/';

export interface OperatorPolicyProps {
  /** Prefixes the policy name: `<stage>-fastio-operator`. */
  readonly stage: string;
  /** The stacks whose outputs `ops` reads (DescribeStacks). */
  readonly stackNames: readonly string[];
  readonly archive: events.Archive;
  /** The bus the archive records and replays go back onto: StartReplay is authorized on it too. */
  readonly eventBus: events.IEventBus;
  readonly signingSecret: secretsmanager.ISecret;
  readonly chains: readonly RouteChain[];
  /** `ops trace` and `ops reconcile` query it with Athena and read records back for --recover. */
  readonly recorder: FlightRecorder;
  /** The idempotency table: the completion records trace and reconcile read. */
  readonly completionTable: dynamodb.ITableV2;
}

/**
 * The IAM managed policy an operator attaches to run every `npm run ops` command against this
 * deployment, and nothing more: each statement is one thing a command does, scoped to this stage's
 * resources. test/infra/operator-policy.test.ts runs the CLI and checks every call it makes is allowed.
 */
export class OperatorPolicy extends Construct {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const deployed = props.chains.flatMap((chain) => chain.targets);
    const deadLetterQueues = deployed.flatMap((target) => Object.values(target.deadLetterQueues));
    const bufferDeadLetterQueues = deployed.flatMap((target) => (target.deadLetterQueues['buffer-dlq'] ? [target.deadLetterQueues['buffer-dlq']] : []));
    const bufferQueues = deployed.flatMap((target) => (target.bufferQueue ? [target.bufferQueue] : []));
    // Dead letters of function targets are re-sent by async invoke; queue targets' go to their buffer.
    const functions = deployed.flatMap((target) => (target.kind === 'function' && target.consumerFunction ? [target.consumerFunction] : []));
    const stateMachines = deployed.flatMap((target) => (target.stateMachine ? [target.stateMachine] : []));

    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: props.stackNames.map((stackName) => Arn.format({ service: 'cloudformation', resource: 'stack', resourceName: `${stackName}/*` }, stack)),
      }),
      new iam.PolicyStatement({
        sid: 'ReplayFromTheArchive',
        actions: ['events:DescribeArchive', 'events:StartReplay'],
        resources: [props.archive.archiveArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReplayOntoTheBus',
        // StartReplay requires its destination bus (Destination.Arn) as well as the archive and the replay.
        actions: ['events:StartReplay'],
        resources: [props.eventBus.eventBusArn],
      }),
      new iam.PolicyStatement({
        sid: 'WatchAndCancelReplays',
        // Replays are named at start time, so only a wildcard can name them.
        actions: ['events:StartReplay', 'events:DescribeReplay', 'events:CancelReplay'],
        resources: [Arn.format({ service: 'events', resource: 'replay', resourceName: '*' }, stack)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadAndRedriveDeadLetters',
        actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
        resources: deadLetterQueues.map((queue) => queue.queueArn),
      }),
      new iam.PolicyStatement({
        sid: 'MoveBufferDeadLettersBack',
        actions: ['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks'],
        resources: bufferDeadLetterQueues.map((queue) => queue.queueArn),
      }),
      new iam.PolicyStatement({
        sid: 'RedeliverToBuffers',
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: bufferQueues.map((queue) => queue.queueArn),
      }),
      new iam.PolicyStatement({
        sid: 'RotateTheSigningSecret',
        actions: ['secretsmanager:PutSecretValue', 'secretsmanager:ListSecretVersionIds'],
        resources: [props.signingSecret.secretArn],
      }),
    ];
    statements.push(...this.recorderStatements(props));
    // ListReplays, TestEventPattern and ListQueues have no resource type in the Service Authorization Reference,
    // so IAM matches them only on all resources; the condition holds them to this deployment's Region.
    // `dlq list` finds retained queues no output names any more (after a logical id change) by the
    // routing stack's name prefix, reads their tags, and peeks and redrives them like the others.
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadOrphanedQueues',
        actions: ['sqs:ListQueueTags', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
        resources: [Arn.format({ service: 'sqs', resource: `${stackNames(props.stage).routing}-*` }, stack)],
      }),
    );
    const listAndTest = new iam.PolicyStatement({
      sid: 'ListReplaysAndQueuesAndTestPatterns',
      actions: ['events:ListReplays', 'events:TestEventPattern', 'sqs:ListQueues'],
      conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } },
    });
    listAndTest.addAllResources();
    statements.push(listAndTest);
    // `dlq redrive` of a target DLQ delivers to that target itself, never back through the bus.
    const specs = deployed.map((target) => target.target);
    const queueArns = specs.flatMap((spec) => (spec.kind === 'queue' && 'queueArn' in spec ? [spec] : []));
    const functionArns = [...functions.map((fn) => fn.functionArn), ...specs.flatMap((spec) => (spec.kind === 'function' && 'functionArn' in spec ? [spec.functionArn] : []))];
    const stateMachineArns = [
      ...stateMachines.map((machine) => machine.stateMachineArn),
      ...specs.flatMap((spec) => (spec.kind === 'workflow' && 'stateMachineArn' in spec ? [spec.stateMachineArn] : [])),
    ];
    const topics = deployed.flatMap((target) => (target.kind === 'topic' && target.topic ? [target.topic] : []));
    const apiDestinations = deployed.flatMap((target) => (target.apiDestination ? [target.apiDestination] : []));
    const connections = deployed.flatMap((target) => (target instanceof HttpTarget ? [target.connection] : []));
    const httpSecretArns = specs.flatMap((spec) => (spec.kind === 'http' ? [httpSecretArn(spec)] : []));
    const busArns = specs.flatMap((spec) => (spec.kind === 'bus' ? [spec.eventBusArn] : []));
    // A customer-managed key's queue or topic takes a message only from a sender that may use the key,
    // through that service.
    const queueKeys = queueArns.flatMap((spec) => (typeof spec.encryption === 'object' ? [spec.encryption.kmsKeyArn] : []));
    const topicKeys = deployed.flatMap((target) => (target instanceof TopicTarget && target.topicKey ? [target.topicKey.keyArn] : []));
    const optional = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) => {
      const unique = [...new Set(resources)];
      if (unique.length > 0) statements.push(new iam.PolicyStatement({ sid, actions, resources: unique, ...(conditions ? { conditions } : {}) }));
    };
    optional('RedeliverToQueues', ['sqs:SendMessage'], queueArns.map((spec) => spec.queueArn));
    optional('UseQueueKeys', ['kms:GenerateDataKey', 'kms:Decrypt'], queueKeys, { StringLike: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` } });
    optional('RedeliverToFunctions', ['lambda:InvokeFunction'], functionArns);
    optional('RedeliverToWorkflows', ['states:StartExecution'], stateMachineArns);
    optional('RedeliverToTopics', ['sns:Publish'], topics.map((topic) => topic.topicArn));
    optional('UseTopicKeys', ['kms:GenerateDataKey', 'kms:Decrypt'], topicKeys, { StringLike: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } });
    optional('RedeliverToOtherBuses', ['events:PutEvents'], busArns);
    // DescribeApiDestination requires the destination and its connection. IAM names both without the
    // id their ARN attributes end in (what their ArnForPolicy gives).
    optional('FindApiDestinationEndpoints', ['events:DescribeApiDestination'], [
      ...apiDestinations.map((destination) => Arn.format({ service: 'events', resource: 'api-destination', resourceName: destination.apiDestinationName }, stack)),
      ...connections.map((connection) => Arn.format({ service: 'events', resource: 'connection', resourceName: connection.connectionName }, stack)),
    ]);
    optional('AuthenticateToHttpTargets', ['secretsmanager:GetSecretValue'], httpSecretArns);

    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: `${props.stage}-fastio-operator`,
      description: `Everything npm run ops needs against the ${props.stage} fastio-eventbridge deployment, scoped to its resources.`,
      statements,
    });

    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'events:ListReplays, events:TestEventPattern and sqs:ListQueues support no resource-level permissions (no resource type in the Service Authorization Reference); the statement is limited to this deployment\'s Region, and every other statement names this deployment\'s resources.',
    });
    Validations.of(this.policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${stackNames(props.stage).routing}-*]`,
      reason: 'CloudFormation names the routing stack\'s queues <stack>-<logical id>-<suffix>; a queue left behind by a logical id change is named in no output, so only the stack\'s name prefix covers it (read, tags and redrive only).',
    });
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:replay/*]',
      reason: 'Replays are named by the operator when started (replay start --name or a generated name), so no narrower ARN exists in advance.',
    });
    // cdk-nag names a resource as CloudFormation writes it: the bucket names' pseudo parameters as <AWS::...>.
    for (const [bucket, prefix, reason] of [
      [
        `${props.stage}-fastio-records-<AWS::AccountId>-<AWS::Region>`,
        RECORD_PREFIX,
        "Athena reads the record objects Firehose names itself (date, hour, random suffix) with the caller's credentials, and --recover reads one back; read only, under events/ of the one record bucket.",
      ],
      [
        `${props.stage}-fastio-records-<AWS::AccountId>-<AWS::Region>`,
        BUS_LOG_PREFIX,
        "Athena reads the bus-log objects CloudWatch Logs names itself (delivery hour, random name) with the caller's credentials; read only, under bus-logs/ of the one record bucket.",
      ],
      [
        `${props.stage}-fastio-records-<AWS::AccountId>-<AWS::Region>`,
        RECOVERY_LOG_PREFIX,
        'The recovery log: the CLI names each object by the time of the action it records and a random id, so no narrower ARN exists in advance; write and read only, under recovery/ of the one record bucket.',
      ],
      [
        `${props.stage}-fastio-queries-<AWS::AccountId>-<AWS::Region>`,
        QUERY_RESULTS_PREFIX,
        "Athena writes each query's results under a name it assigns, with the caller's credentials, and the CLI reads them back; held to results/ of the recorder's results bucket.",
      ],
    ] as const) {
      Validations.of(this.policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucket}/${prefix}*]`, reason });
    }
    for (const stackName of props.stackNames) {
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${stackName}/*]`,
        reason: 'A stack ARN ends in an id CloudFormation assigns at creation; the wildcard covers only that id of this named stack.',
      });
    }
  }

  /**
   * What `ops trace` and `ops reconcile` call, and what Athena does with the caller's credentials
   * for their queries: the Glue table, the record objects, and the results location.
   */
  private recorderStatements(props: OperatorPolicyProps): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const { recorder } = props;
    const s3Arn = (resource: string) => `arn:${stack.partition}:s3:::${resource}`;
    const records = recorderBucketName(props.stage);
    const results = queryResultsBucketName(props.stage);
    return [
      new iam.PolicyStatement({
        sid: 'QueryTheFlightRecorder',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
        resources: [Arn.format({ service: 'athena', resource: 'workgroup', resourceName: recorder.workGroupName }, stack)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheRecorderTable',
        // No glue:GetPartitions: the table uses partition projection, so Athena never lists partitions.
        actions: ['glue:GetDatabase', 'glue:GetTable'],
        resources: [
          Arn.format({ service: 'glue', resource: 'catalog' }, stack),
          Arn.format({ service: 'glue', resource: 'database', resourceName: recorder.databaseName }, stack),
          Arn.format({ service: 'glue', resource: 'table', resourceName: `${recorder.databaseName}/${recorder.tableName}` }, stack),
          Arn.format({ service: 'glue', resource: 'table', resourceName: `${recorder.databaseName}/${recorder.busLogTableName}` }, stack),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'ReadTheRecords',
        actions: ['s3:GetObject'],
        resources: [s3Arn(`${records}/${RECORD_PREFIX}*`), s3Arn(`${records}/${BUS_LOG_PREFIX}*`)],
      }),
      // reconcile reads the recorder DLQ (its events are in no table) and --recover records them on the stream.
      new iam.PolicyStatement({
        sid: 'RecoverTheRecorderInput',
        actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
        resources: [recorder.deadLetterQueue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'RecordTheRecorderInput',
        actions: ['firehose:PutRecord'],
        resources: [recorder.deliveryStream.attrArn],
      }),
      // The recovery log (lib/ops/aws-recovery-log.ts): `dlq redrive` and `reconcile --recover` write
      // one object per action they took, trace and reconcile read them back. Nothing else is written.
      new iam.PolicyStatement({
        sid: 'KeepTheRecoveryLog',
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [s3Arn(`${records}/${RECOVERY_LOG_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ListTheRecords',
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        resources: [s3Arn(records)],
      }),
      new iam.PolicyStatement({
        sid: 'WriteAndReadQueryResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [s3Arn(`${results}/${QUERY_RESULTS_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'UseTheQueryResultsBucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [s3Arn(results)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadCompletionRecords',
        actions: ['dynamodb:BatchGetItem'],
        resources: [props.completionTable.tableArn],
      }),
    ];
  }
}
