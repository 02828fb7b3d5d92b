import { Duration, Validations } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ProjectFunction } from '../constructs/project-function';
import { createSecureQueue } from '../constructs/secure-queue';
import type { OwnQueueTarget as OwnQueueTargetSpec } from '../domain/route-types';
import { CONSUMER_TIMEOUT, createConsumerFunction } from './consumer-function';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/** SQS's guidance for event sources: at least six times the function timeout. */
export const BUFFER_VISIBILITY_TIMEOUT = Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6);

/**
 * `{ kind: 'queue', consumer }`: rule ▶ SQS buffer ▶ your handler with partial batch responses; the
 * buffer redrives to BufferDlq after MAX_RECEIVE_COUNT receives.
 */
export class OwnQueueTarget extends RouteTargetConstruct<OwnQueueTargetSpec> {
  public readonly bufferQueue: sqs.Queue;
  public readonly consumerFunction: ProjectFunction;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<OwnQueueTargetSpec>) {
    super(scope, props);
    const bufferDeadLetterQueue = this.deadLetterQueue('BufferDlq', 'buffer-dlq');
    this.bufferQueue = createSecureQueue(this, 'BufferQueue', {
      visibilityTimeout: BUFFER_VISIBILITY_TIMEOUT,
      deadLetterQueue: bufferDeadLetterQueue,
      owner: { route: props.route.name, target: this.name },
    });
    this.consumerFunction = createConsumerFunction(this, { route: props.route, target: props.target, targetName: this.name, resources: props.resources });
    this.consumerFunction.addEventSource(
      new SqsEventSource(this.bufferQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: props.resources.consumerMaxConcurrency,
      }),
    );
    Validations.of(this.consumerFunction).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason: 'On-failure destinations exist for stream sources only; an SQS source fails over through the buffer queue redrive policy to its DLQ.',
    });
    this.destinationArn = this.bufferQueue.queueArn;
    this.deliver(new targets.SqsQueue(this.bufferQueue, this.targetOptions));
  }
}
