import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { QueueArnTarget as QueueArnTargetSpec } from '../domain/route-types';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/**
 * `{ kind: 'queue', queueArn, encryption }`: a queue that exists in the account. EventBridge sends
 * with its service principal, so the queue's resource policy must allow sqs:SendMessage for this
 * rule (aws:SourceArn).
 *
 * The policy is an AWS::SQS::QueueInlinePolicy. aws-cdk-lib 2.276 has both it and
 * AWS::SQS::QueuePolicy, and neither merges: SQS keeps one policy document per queue, and either
 * resource replaces it whole. QueueInlinePolicy ties one policy to one queue (and can be imported),
 * so it is the one that says what it does; a queue whose policy is managed elsewhere must get this
 * rule's statement there instead (README, "Changing a route safely").
 *
 * A queue encrypted with a customer-managed key also needs kms:GenerateDataKey and kms:Decrypt for
 * EventBridge in that key's own policy, which this stack cannot write for a key it does not own:
 * `keyPolicyStatement` is the statement to add, output by the routing stack.
 */
export class QueueArnTarget extends RouteTargetConstruct<QueueArnTargetSpec> {
  public readonly queue: sqs.IQueue;
  public readonly queuePolicy: sqs.CfnQueueInlinePolicy;
  /** JSON of the key-policy statement EventBridge needs on the queue's customer-managed key, if it has one. */
  public readonly keyPolicyStatement?: string;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<QueueArnTargetSpec>) {
    super(scope, props);
    const { queueArn, encryption } = props.target;
    this.queue = sqs.Queue.fromQueueArn(this, 'Queue', queueArn);
    this.queuePolicy = new sqs.CfnQueueInlinePolicy(this, 'QueuePolicy', {
      queue: this.queue.queueUrl,
      policyDocument: new iam.PolicyDocument({ statements: [this.ruleOnlyStatement(['sqs:SendMessage'], queueArn)] }),
    });
    if (typeof encryption === 'object') {
      this.keyPolicyStatement = Stack.of(this).toJsonString({
        Sid: `AllowEventBridgeRule-${props.route.name}-${this.name}`,
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        // In a key policy, "*" is the key itself.
        Resource: '*',
        Condition: { ArnEquals: { 'aws:SourceArn': this.rule.ruleArn } },
      });
    }
    this.destinationArn = queueArn;
    this.deliver(this.arnTarget(queueArn));
  }
}
