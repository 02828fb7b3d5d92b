import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION_DAYS } from '../config';
import { MAX_RECEIVE_COUNT } from '../domain/max-receive-count';

export { MAX_RECEIVE_COUNT };

/** Fourteen days, SQS's maximum: the longest an operator can take to notice and redrive. */
export const QUEUE_RETENTION = Duration.days(DEAD_LETTER_RETENTION_DAYS);

/** What a dead-letter queue collects; shown by `ops dlq list` and decides how `dlq redrive` re-delivers. */
export type DeadLetterRole = 'buffer-dlq' | 'target-dlq' | 'on-failure' | 'workflow-failures' | 'subscription-dlq' | 'recorder-dlq';

/** What a queue holds for whom: its tags (with the app-wide `stage`) find it when no output names it. */
export interface QueueOwner {
  readonly route: string;
  readonly target: string;
}

/** The tag keys `ops dlq list` reads to name a retained queue no stack output names any more. */
export const QUEUE_TAGS = { route: 'route', target: 'target', role: 'role' } as const;

/** A route target's buffer queue is tagged with this role; its dead-letter queues with theirs. */
export const BUFFER_QUEUE_ROLE = 'buffer';

function tagQueue(queue: sqs.Queue, role: string, owner: QueueOwner | undefined): void {
  Tags.of(queue).add(QUEUE_TAGS.role, role);
  if (owner === undefined) return;
  Tags.of(queue).add(QUEUE_TAGS.route, owner.route);
  Tags.of(queue).add(QUEUE_TAGS.target, owner.target);
}

export interface SecureQueueProps {
  /**
   * @default Duration.seconds(30)
   */
  readonly visibilityTimeout?: Duration;
  /** Redrive to this queue after MAX_RECEIVE_COUNT receives. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** The route target the queue serves, tagged with role `buffer`. */
  readonly owner?: QueueOwner;
}

/** An SQS queue with the project's secure defaults: SSE-SQS, TLS only, 14-day retention. */
export function createSecureQueue(scope: Construct, id: string, props: SecureQueueProps = {}): sqs.Queue {
  const queue = createQueue(scope, id, props);
  if (props.owner !== undefined) tagQueue(queue, BUFFER_QUEUE_ROLE, props.owner);
  return queue;
}

function createQueue(scope: Construct, id: string, props: SecureQueueProps): sqs.Queue {
  return new sqs.Queue(scope, id, {
    // SSE-SQS needs no key policy for EventBridge, Lambda destinations or Step Functions to write.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: QUEUE_RETENTION,
    visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(30),
    removalPolicy: RemovalPolicy.RETAIN,
    deadLetterQueue: props.deadLetterQueue ? { queue: props.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT } : undefined,
  });
}

/** A terminal queue that collects what failed at one hop; nothing drains it but an operator. */
export function createDeadLetterQueue(scope: Construct, id: string, role: DeadLetterRole, owner?: QueueOwner): sqs.Queue {
  const queue = createQueue(scope, id, {});
  tagQueue(queue, role, owner);
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This queue is itself a dead-letter queue (${role}); a DLQ of a DLQ would only hide messages further from operators.`,
  });
  // cdk-nag only recognises a queue as a DLQ when another queue's redrive policy names it.
  if (role !== 'buffer-dlq') {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself a dead-letter queue (${role}); a DLQ of a DLQ would only hide messages further from operators.`,
    });
  }
  return queue;
}
