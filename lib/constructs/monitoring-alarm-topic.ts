import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Every alarm that may publish here has a name starting with this prefix and a '-'. */
  readonly alarmNamePrefix: string;
  /** Subscribed by email when set; the recipient must confirm the subscription once. */
  readonly email?: string;
}

const CLOUDWATCH = new iam.ServicePrincipal('cloudwatch.amazonaws.com');

/**
 * Where alarm notifications go: an SNS topic encrypted with its own KMS key, TLS-only, with an
 * optional email subscription.
 *
 * CloudWatch publishes as the service principal cloudwatch.amazonaws.com, so both policies must let
 * it in, or alarms change state and nobody hears of it:
 * - the topic policy: `enforceSSL` makes CDK write a topic policy, which replaces SNS's default
 *   policy, so the publish grant has to be explicit;
 * - the key policy: publishing to an SSE-KMS topic needs kms:GenerateDataKey* and kms:Decrypt.
 * Both are limited to alarms of this account whose names carry the deployment's prefix
 * (aws:SourceAccount, aws:SourceArn), so no other account's alarm can use CloudWatch to post here.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fromThisDeploymentsAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${props.alarmNamePrefix}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts fastio-eventbridge alarm notifications at rest.',
      enableKeyRotation: true,
      // The key protects notifications in transit through SNS, no stored data: it goes with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Written to the key policy, whose resource is the key itself.
    this.key.grant(new iam.PrincipalWithConditions(CLOUDWATCH, fromThisDeploymentsAlarms), 'kms:Decrypt', 'kms:GenerateDataKey*');

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'fastio-eventbridge alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [CLOUDWATCH],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisDeploymentsAlarms,
      }),
    );

    if (props.email) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An alarm email that SNS cannot deliver has no consumer to redrive to: a queue of stale notifications helps no one, while the alarm state stays in CloudWatch and on the dashboard until it clears.',
      });
    }
  }
}
