import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { isOwnTarget, type OwnFunctionTarget, type OwnQueueTarget, type Route } from '../route-table';
import { RouteTableError } from '../domain/route-validation';
import { grantBodyAccess } from './body-bucket';
import { ProjectFunction } from './project-function';
import { ReviewWorkflow } from '../workflows/review-workflow';
import { createDeadLetterQueue, createSecureQueue, type DeadLetterRole } from './secure-queue';

/** How long EventBridge keeps retrying a target before the event goes to the target DLQ. */
export const TARGET_RETRY_POLICY = { retryAttempts: 8, maxEventAge: Duration.hours(2) } as const;

/** Lambda's own async retries and event age for function targets, before the on-failure destination. */
export const ASYNC_INVOKE_POLICY = { retryAttempts: 2, maxEventAge: Duration.hours(1) } as const;

export const CONSUMER_TIMEOUT = Duration.seconds(30);

/** SQS's guidance for event sources: at least six times the function timeout. */
export const BUFFER_VISIBILITY_TIMEOUT = Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6);

export interface RouteChainProps {
  readonly route: Route;
  readonly eventBus: events.IEventBus;
  readonly catalogTable: dynamodb.ITableV2;
  readonly auditTable: dynamodb.ITableV2;
  readonly idempotencyTable: dynamodb.ITableV2;
  /** Names the claim-check bucket, which consumers that keep the verbatim payload read. */
  readonly stage: string;
  readonly notificationTopic: sns.ITopic;
  readonly consumerMaxConcurrency: number;
}

/**
 * One route of the table as deployed: its rule, the target its kind calls for, and a dead-letter
 * queue on every hop. Built from the route entry alone, so adding a route is a change to the table.
 */
export class RouteChain extends Construct {
  public readonly route: Route;
  public readonly rule: events.Rule;
  /** Every dead-letter and failure queue of this chain, by what it collects. */
  public readonly deadLetterQueues: Partial<Record<DeadLetterRole, sqs.Queue>> = {};
  public readonly bufferQueue?: sqs.Queue;
  public readonly consumerFunction?: ProjectFunction;
  public readonly stateMachine?: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RouteChainProps) {
    super(scope, id);
    this.route = props.route;

    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      description: props.route.description.slice(0, 512),
      // Placeholder so the L2 accepts the rule; the property override below is the real pattern.
      eventPattern: { source: [...props.route.pattern.source] },
    });
    // The route table holds console JSON (kebab-case keys, replay-name, $or) that CDK's camel-case
    // EventPattern cannot express; the pattern is written to the template as the table has it.
    (this.rule.node.defaultChild as events.CfnRule).addPropertyOverride('EventPattern', props.route.pattern);

    const targetDeadLetterQueue = this.deadLetterQueue('TargetDlq', 'target-dlq');
    const targetOptions = { deadLetterQueue: targetDeadLetterQueue, ...TARGET_RETRY_POLICY };
    const [target, ...others] = props.route.targets;
    if (target === undefined || others.length > 0 || !isOwnTarget(target)) {
      throw new RouteTableError(`route "${props.route.name}": only one target of your own (queue, function or workflow) can be deployed by this version`);
    }

    switch (target.kind) {
      case 'queue': {
        const bufferDeadLetterQueue = this.deadLetterQueue('BufferDlq', 'buffer-dlq');
        this.bufferQueue = createSecureQueue(this, 'BufferQueue', {
          visibilityTimeout: BUFFER_VISIBILITY_TIMEOUT,
          deadLetterQueue: bufferDeadLetterQueue,
        });
        this.consumerFunction = this.consumer(target, props);
        this.consumerFunction.addEventSource(
          new SqsEventSource(this.bufferQueue, {
            batchSize: 10,
            maxBatchingWindow: Duration.seconds(1),
            reportBatchItemFailures: true,
            maxConcurrency: props.consumerMaxConcurrency,
          }),
        );
        Validations.of(this.consumerFunction).acknowledge({
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason: 'On-failure destinations exist for stream sources only; an SQS source fails over through the buffer queue redrive policy to its DLQ.',
        });
        this.rule.addTarget(new targets.SqsQueue(this.bufferQueue, targetOptions));
        break;
      }
      case 'function': {
        const onFailureQueue = this.deadLetterQueue('OnFailureQueue', 'on-failure');
        this.consumerFunction = this.consumer(target, props, {
          onFailure: new SqsDestination(onFailureQueue),
          ...ASYNC_INVOKE_POLICY,
        });
        this.rule.addTarget(new targets.LambdaFunction(this.consumerFunction, targetOptions));
        break;
      }
      case 'workflow': {
        const failureQueue = this.deadLetterQueue('FailureQueue', 'workflow-failures');
        const workflow = new ReviewWorkflow(this, 'ReviewWorkflow', {
          routeName: props.route.name,
          guardTable: props.idempotencyTable,
          catalogTable: props.catalogTable,
          notificationTopic: props.notificationTopic,
          failureQueue,
        });
        this.stateMachine = workflow.stateMachine;
        this.rule.addTarget(new targets.SfnStateMachine(this.stateMachine, { ...targetOptions, role: this.startExecutionRole(props.eventBus) }));
        break;
      }
    }
  }

  /**
   * The role EventBridge assumes to start executions, trusted only for rules of this account's bus
   * (confused-deputy protection). The rule's own ARN cannot be named here: the rule refers to this
   * role, so the role referring to the rule would be a circular dependency; the bus's rules are
   * the closest scope without one.
   */
  private startExecutionRole(eventBus: events.IEventBus): iam.Role {
    const stack = Stack.of(this);
    return new iam.Role(this, 'StartExecutionRole', {
      description: `EventBridge starts the ${this.route.name} review workflow with it.`,
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${eventBus.eventBusName}/*` }) },
      }),
    });
  }

  private deadLetterQueue(id: string, role: DeadLetterRole): sqs.Queue {
    const queue = createDeadLetterQueue(this, id, role);
    this.deadLetterQueues[role] = queue;
    return queue;
  }

  private consumer(
    target: OwnQueueTarget | OwnFunctionTarget,
    props: RouteChainProps,
    asyncInvoke?: ConstructorParameters<typeof ProjectFunction>[2]['asyncInvoke'],
  ): ProjectFunction {
    const fn = new ProjectFunction(this, 'Consumer', {
      handlerFolder: target.consumer,
      serviceName: `fastio-${props.route.name}`,
      timeout: CONSUMER_TIMEOUT,
      asyncInvoke,
    }).withEnvironment('IDEMPOTENCY_TABLE_NAME', props.idempotencyTable.tableName, (grantee) =>
      // Exactly what Powertools' DynamoDBPersistenceLayer calls.
      props.idempotencyTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'),
    );
    const tables = { catalog: props.catalogTable, audit: props.auditTable };
    for (const { table, actions } of target.access?.tables ?? []) {
      fn.withEnvironment(`${table.toUpperCase()}_TABLE_NAME`, tables[table].tableName, (grantee) => tables[table].grant(grantee, ...actions));
    }
    // Only handlers that keep the verbatim payload read claim-checked bodies; the others use normalized fields.
    if (target.access?.readsBodies) grantBodyAccess(fn, props.stage, 's3:GetObject');
    return fn;
  }
}
