import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { IMAGE_EXTENSIONS, VIDEO_EXTENSIONS } from '../route-table';

export interface ReviewWorkflowProps {
  /** Holds the file's review status, keyed by workspaceId + fileId. */
  readonly catalogTable: dynamodb.ITableV2;
  /** Reviewers are told here. */
  readonly notificationTopic: sns.ITopic;
  /** Receives the input and the error of every execution that could not finish. */
  readonly failureQueue: sqs.IQueue;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Errors worth retrying: throttling and service-side faults of the integrated services. */
export const TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.ThrottlingException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.InternalServerErrorException',
  'SNS.ThrottledException',
  'SNS.InternalErrorException',
  'States.Timeout',
];

/**
 * A Standard state machine that reviews one file event with direct service integrations only:
 * record it in the catalog as pending, classify it by extension, notify reviewers, mark it
 * reviewed. Transient errors retry with backoff; anything else is caught into the failure queue
 * together with the execution's input, so nothing is lost and `ops dlq redrive` can restart it.
 */
export class ReviewWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReviewWorkflowProps) {
    super(scope, id);

    const fileKey = {
      workspaceId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.detail.workspaceId')),
      fileId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.detail.fileId')),
    };

    const recordPending = new tasks.DynamoUpdateItem(this, 'RecordPendingReview', {
      table: props.catalogTable,
      key: fileKey,
      updateExpression: 'SET reviewStatus = :pending, reviewEventId = :eventId, reviewRequestedAt = :now',
      expressionAttributeValues: {
        ':pending': tasks.DynamoAttributeValue.fromString('PENDING'),
        ':eventId': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.detail.eventId')),
        ':now': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });

    const classify = (kind: string) =>
      new sfn.Pass(this, `Classify${kind.charAt(0).toUpperCase()}${kind.slice(1)}`, {
        result: sfn.Result.fromString(kind),
        resultPath: '$.classification',
      });
    const isOneOf = (extensions: readonly string[]) =>
      sfn.Condition.or(...extensions.map((extension) => sfn.Condition.stringEquals('$.detail.extension', extension)));
    const hasExtension = sfn.Condition.isPresent('$.detail.extension');

    const notify = new tasks.SnsPublish(this, 'NotifyReviewers', {
      topic: props.notificationTopic,
      subject: 'Fast.io file needs review',
      message: sfn.TaskInput.fromObject({
        reason: sfn.JsonPath.stringAt('$.detail-type'),
        classification: sfn.JsonPath.stringAt('$.classification'),
        workspaceId: sfn.JsonPath.stringAt('$.detail.workspaceId'),
        fileId: sfn.JsonPath.stringAt('$.detail.fileId'),
        eventId: sfn.JsonPath.stringAt('$.detail.eventId'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });

    const markReviewed = new tasks.DynamoUpdateItem(this, 'MarkReviewed', {
      table: props.catalogTable,
      key: fileKey,
      updateExpression: 'SET reviewStatus = :reviewed, reviewClassification = :classification, reviewedAt = :now',
      expressionAttributeValues: {
        ':reviewed': tasks.DynamoAttributeValue.fromString('REVIEWED'),
        ':classification': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.classification')),
        ':now': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });

    const sendToFailureQueue = new tasks.SqsSendMessage(this, 'SendToFailureQueue', {
      queue: props.failureQueue,
      messageBody: sfn.TaskInput.fromObject({
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        error: sfn.JsonPath.stringAt('$.failure.Error'),
        cause: sfn.JsonPath.stringAt('$.failure.Cause'),
        // The original EventBridge event, so a redrive can start the workflow again unchanged.
        input: sfn.JsonPath.objectAt('$$.Execution.Input'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    // The failure queue is the last place the event can be kept: retry any error sending to it, longer.
    sendToFailureQueue.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 8, jitterStrategy: sfn.JitterType.FULL });
    const failed = new sfn.Fail(this, 'ReviewFailed', {
      error: 'ReviewFailed',
      causePath: '$.failure.Cause',
    });
    sendToFailureQueue.next(failed);

    for (const task of [recordPending, notify, markReviewed]) {
      task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4, jitterStrategy: sfn.JitterType.FULL });
      task.addCatch(sendToFailureQueue, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    }

    const definition = recordPending.next(
      new sfn.Choice(this, 'ClassifyByExtension')
        .when(sfn.Condition.and(hasExtension, isOneOf(VIDEO_EXTENSIONS)), classify('video'))
        .when(sfn.Condition.and(hasExtension, isOneOf(IMAGE_EXTENSIONS)), classify('image'))
        .otherwise(classify('other'))
        .afterwards()
        .next(notify)
        .next(markReviewed),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.minutes(15),
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        // Payloads hold user emails and file names: keep them in execution history, out of logs.
        includeExecutionData: false,
      },
    });
    // The SnsPublish task grants sns:Publish only; the topic's KMS key must also let the workflow encrypt.
    props.notificationTopic.grantPublish(this.stateMachine);
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'What SNS needs to publish to a KMS-encrypted topic (GenerateDataKey and its WithoutPlaintext variant), scoped to the review topic key only.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs log delivery (logs:CreateLogDelivery and friends) support no resource-level permissions; the DynamoDB, SNS and SQS grants are scoped to their resources.',
    });
  }
}
