import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TopicSubscription, TopicTarget as TopicTargetSpec } from '../domain/route-types';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/**
 * `{ kind: 'topic', topicArn? , subscriptions? }`: SNS fan-out.
 * - An existing topic gets an AWS::SNS::TopicInlinePolicy allowing sns:Publish for this rule only
 *   (aws:SourceArn). Like a queue's, a topic's policy is one document that either SNS policy
 *   resource replaces whole (see QueueArnTarget).
 * - Otherwise the stack creates the topic: encrypted with its own key (rotation on; its key policy
 *   lets events.amazonaws.com of this account use it, through the topic's grant), TLS-only, its
 *   policy allowing this rule to publish, and the table's subscriptions, each redriving what SNS
 *   cannot deliver to SubscriptionDlq.
 */
export class TopicTarget extends RouteTargetConstruct<TopicTargetSpec> {
  public readonly topic: sns.ITopic;
  /** Only for a topic the stack creates. */
  public readonly topicKey?: kms.Key;
  public readonly subscriptionDeadLetterQueue?: sqs.Queue;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<TopicTargetSpec>) {
    super(scope, props);
    const { topicArn } = props.target;
    if (topicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', topicArn);
      new sns.CfnTopicInlinePolicy(this, 'TopicPolicy', {
        topicArn,
        policyDocument: new iam.PolicyDocument({ statements: [this.ruleOnlyStatement(['sns:Publish'], topicArn)] }),
      });
    } else {
      const account = Stack.of(this).account;
      this.topicKey = new kms.Key(this, 'TopicKey', {
        description: `Encrypts route ${props.route.name} target ${this.name}'s topic at rest.`,
        enableKeyRotation: true,
      });
      const topic = new sns.Topic(this, 'Topic', {
        displayName: `Fast.io ${props.route.name} ${this.name}`.slice(0, 100),
        masterKey: this.topicKey,
        enforceSSL: true,
      });
      topic.addToResourcePolicy(this.ruleOnlyStatement(['sns:Publish'], topic.topicArn));
      // EventBridge encrypts what it publishes with the topic's key. The key policy cannot name the
      // rule (rule → topic → key would be a circle), so it is held to this account's EventBridge,
      // and the key encrypts nothing but this topic.
      this.topicKey.grant(new iam.ServicePrincipal('events.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': account } }), 'kms:GenerateDataKey', 'kms:Decrypt');
      const subscriptionList = props.target.subscriptions ?? [];
      if (subscriptionList.length > 0) {
        const deadLetterQueue = this.deadLetterQueue('SubscriptionDlq', 'subscription-dlq');
        this.subscriptionDeadLetterQueue = deadLetterQueue;
        for (const [index, subscription] of subscriptionList.entries()) topic.addSubscription(this.subscriber(topic, subscription, index, deadLetterQueue));
      }
      this.topic = topic;
    }
    this.destinationArn = this.topic.topicArn;
    this.deliver(this.arnTarget(this.topic.topicArn));
  }

  private subscriber(topic: sns.ITopic, subscription: TopicSubscription, index: number, deadLetterQueue: sqs.IQueue): sns.ITopicSubscription {
    if ('email' in subscription) return new subscriptions.EmailSubscription(subscription.email, { deadLetterQueue });
    if ('url' in subscription) return new subscriptions.UrlSubscription(subscription.url, { deadLetterQueue, protocol: sns.SubscriptionProtocol.HTTPS });
    // A queue that exists elsewhere: its own policy must allow this topic to send (SNS's service principal).
    const queue = sqs.Queue.fromQueueArn(this, `SubscribedQueue${index}`, subscription.queueArn);
    new sqs.CfnQueueInlinePolicy(this, `SubscribedQueuePolicy${index}`, {
      queue: queue.queueUrl,
      policyDocument: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
            actions: ['sqs:SendMessage'],
            resources: [subscription.queueArn],
            conditions: { ArnEquals: { 'aws:SourceArn': topic.topicArn } },
          }),
        ],
      }),
    });
    return new subscriptions.SqsSubscription(queue, { deadLetterQueue });
  }
}
