import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config';
import { PROJECT_ROOT } from '../constructs/project-function';
import { RouteChain } from '../constructs/route-chain';
import { validateTargetInput } from '../domain/input-transform';
import { resolveRouteTable, validateRouteTable } from '../domain/route-validation';
import type { DeadLetterRole } from '../constructs/secure-queue';
import { routeTable, type Route } from '../route-table';
import { DEAD_LETTER_KEYS, targetOutputKey, type TargetResource } from '../stack-outputs';
import { routeConstructId } from '../synthesized-template';
import { httpSecretArn } from '../targets/http-target';
import { QueueArnTarget } from '../targets/queue-arn-target';
import type { DeployedTarget } from '../targets/target-support';
import { WORKFLOW_NAMES } from '../workflows';

export interface RoutingStackProps extends StackProps {
  readonly config: AppConfig;
  readonly eventBus: events.IEventBus;
  readonly catalogTable: dynamodb.ITableV2;
  readonly auditTable: dynamodb.ITableV2;
  readonly idempotencyTable: dynamodb.ITableV2;
  /**
   * The routes to deploy.
   * @default routeTable from lib/route-table.ts
   */
  readonly routes?: readonly Route[];
}

/**
 * Rules and everything behind them, built entirely from the route table. Holds no data of its
 * own beyond dead letters, so it can be changed and redeployed freely.
 */
export class RoutingStack extends Stack {
  public readonly chains: readonly RouteChain[];
  /** Reviewers' notifications from the review workflow. */
  public readonly reviewTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: RoutingStackProps) {
    super(scope, id, props);
    const routes = resolveRouteTable(props.routes ?? routeTable, this.node);
    validateRouteTable(routes, {
      consumerExists: (folder) => existsSync(join(PROJECT_ROOT, 'lambdas', folder, 'handler.ts')),
      workflows: WORKFLOW_NAMES,
      // EventBridge's own rules for InputPath and InputTransformer, checked before deploy.
      inputProblem: validateTargetInput,
    });

    const topicKey = new kms.Key(this, 'ReviewTopicKey', {
      description: 'Encrypts review notifications at rest.',
      enableKeyRotation: true,
    });
    this.reviewTopic = new sns.Topic(this, 'ReviewTopic', {
      displayName: 'Fast.io files to review',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.config.alarmEmail) {
      const subscription = this.reviewTopic.addSubscription(new subscriptions.EmailSubscription(props.config.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'A review email SNS cannot deliver has no consumer to redrive to; the review state stays in the catalog table (reviewStatus) and the workflow execution history.',
      });
    }

    this.chains = routes.map(
      (route) =>
        new RouteChain(this, routeConstructId(route.name), {
          route,
          eventBus: props.eventBus,
          catalogTable: props.catalogTable,
          auditTable: props.auditTable,
          idempotencyTable: props.idempotencyTable,
          stage: props.config.stage,
          notificationTopic: this.reviewTopic,
          consumerMaxConcurrency: props.config.consumerMaxConcurrency,
          archiveRetentionDays: props.config.archiveRetentionDays,
        }),
    );

    for (const chain of this.chains) {
      for (const target of chain.targets) this.outputTarget(target);
    }
  }

  /** Everything `ops` and the local pipeline look up for one target, under targetOutputKey. */
  private outputTarget(target: DeployedTarget): void {
    const output = (resource: TargetResource, value: string, description?: string) =>
      new CfnOutput(this, targetOutputKey(target.route.name, target.name, resource), { value, description });
    output('DestinationArn', target.destinationArn);
    output('RuleArn', target.rule.ruleArn);
    for (const [role, queue] of Object.entries(target.deadLetterQueues)) {
      const key = DEAD_LETTER_KEYS[role as DeadLetterRole];
      output(`${key}Url`, queue.queueUrl);
      output(`${key}Arn`, queue.queueArn);
    }
    if (target.bufferQueue) {
      output('BufferQueueUrl', target.bufferQueue.queueUrl);
      output('BufferQueueArn', target.bufferQueue.queueArn);
    }
    if (target.consumerFunction) output('FunctionArn', target.consumerFunction.functionArn);
    if (target.stateMachine) output('StateMachineArn', target.stateMachine.stateMachineArn);
    if (target.topic) output('TopicArn', target.topic.topicArn);
    if (target.apiDestination) output('ApiDestinationArn', target.apiDestination.apiDestinationArn);
    if (target.connection) output('ConnectionArn', target.connection.connectionArn);
    // The deployed secret ARN: a { fromConfig } one is known only to the deployment, and `ops dlq redrive` authenticates with it.
    if (target.target.kind === 'http') output('SecretArn', httpSecretArn(target.target));
    if (target instanceof QueueArnTarget && target.keyPolicyStatement) {
      output(
        'KeyPolicyStatement',
        target.keyPolicyStatement,
        `Add this statement to the key policy of ${target.target.encryption === 'none' || target.target.encryption === 'sqs-managed' ? 'the queue key' : target.target.encryption.kmsKeyArn}: EventBridge needs it to send to the encrypted queue.`,
      );
    }
  }
}
