/**
 * What every target of a route shares, whatever its kind: its own dead-letter queue, the explicit
 * retry policy, the input EventBridge applies before delivery, and the record of what was deployed
 * (DeployedTarget) that the routing stack outputs and the monitoring stack alarms on.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { addToDeadLetterQueueResourcePolicy, bindBaseTargetConfig } from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ProjectFunction } from '../constructs/project-function';
import { createDeadLetterQueue, type DeadLetterRole } from '../constructs/secure-queue';
import { ruleStatementSid } from '../domain/resource-names';
import { targetName, type Route, type RouteTarget, type TargetInput, type TargetKind } from '../domain/route-types';
import { targetConstructId } from '../synthesized-template';

/** How long EventBridge keeps retrying a target before the event goes to the target DLQ. */
export const TARGET_RETRY_POLICY = { retryAttempts: 8, maxEventAge: Duration.hours(2) } as const;

export { targetConstructId } from '../synthesized-template';

/** What the stateful and routing stacks give every target; each kind uses what it needs. */
export interface RouteResources {
  readonly eventBus: events.IEventBus;
  readonly catalogTable: dynamodb.ITableV2;
  readonly auditTable: dynamodb.ITableV2;
  readonly idempotencyTable: dynamodb.ITableV2;
  /** Names the claim-check bucket, which consumers that keep the verbatim payload read. */
  readonly stage: string;
  /** Reviewers' notifications (the review workflow). */
  readonly notificationTopic: sns.ITopic;
  readonly consumerMaxConcurrency: number;
  /** The bus archive's retention: records kept for replays (the review guard) live as long, plus the dead letters' 14 days. */
  readonly archiveRetentionDays: number;
}

export interface TargetProps<T extends RouteTarget> {
  readonly route: Route;
  readonly target: T;
  /** The route's rule; the target adds itself to it. */
  readonly rule: events.Rule;
  /** This target's position in the rule's Targets (the order of route.targets), for the template overrides. */
  readonly index: number;
  readonly resources: RouteResources;
}

/** One target of a route as deployed: what the stack outputs, ops finds and monitoring watches. */
export interface DeployedTarget {
  readonly route: Route;
  readonly target: RouteTarget;
  readonly name: string;
  readonly kind: TargetKind;
  /** Every dead-letter and failure queue of this target, by what it collects. */
  readonly deadLetterQueues: Partial<Record<DeadLetterRole, sqs.Queue>>;
  readonly bufferQueue?: sqs.Queue;
  readonly consumerFunction?: ProjectFunction;
  readonly stateMachine?: sfn.StateMachine;
  readonly topic?: sns.ITopic;
  readonly apiDestination?: events.ApiDestination;
  readonly connection?: events.Connection;
  /** What the rule's target entry points at (queue, function, state machine, topic, API destination or bus). */
  readonly destinationArn: string;
}

/**
 * The base of every target construct: creates the target DLQ and adds the target to the rule with
 * the retry policy and input written exactly as the table has them.
 */
export abstract class RouteTargetConstruct<T extends RouteTarget> extends Construct implements DeployedTarget {
  public readonly route: Route;
  public readonly target: T;
  public readonly name: string;
  public readonly kind: TargetKind;
  public readonly deadLetterQueues: Partial<Record<DeadLetterRole, sqs.Queue>> = {};
  /** Where EventBridge puts what it could not deliver after TARGET_RETRY_POLICY. */
  public readonly targetDeadLetterQueue: sqs.Queue;
  public abstract readonly destinationArn: string;
  protected readonly rule: events.Rule;
  private readonly index: number;

  constructor(scope: Construct, props: TargetProps<T>) {
    const name = targetName(props.target);
    super(scope, targetConstructId(name));
    this.route = props.route;
    this.target = props.target;
    this.name = name;
    this.kind = props.target.kind;
    this.rule = props.rule;
    this.index = props.index;
    this.targetDeadLetterQueue = this.deadLetterQueue('TargetDlq', 'target-dlq');
  }

  /** The target DLQ and retry policy, as CDK's rule targets take them. */
  protected get targetOptions() {
    return { deadLetterQueue: this.targetDeadLetterQueue, ...TARGET_RETRY_POLICY };
  }

  protected deadLetterQueue(id: string, role: DeadLetterRole): sqs.Queue {
    const queue = createDeadLetterQueue(this, id, role, { route: this.route.name, target: this.name });
    this.deadLetterQueues[role] = queue;
    return queue;
  }

  /**
   * Adds the target to the rule, then writes what CDK would not write as the table has it: the
   * retry policy on every entry (CDK's EventBus target has none) and the input (CDK's
   * RuleTargetInput re-renders a template, while the table holds EventBridge's own JSON).
   */
  protected deliver(ruleTarget: events.IRuleTarget): void {
    this.rule.addTarget(ruleTarget);
    const cfnRule = this.rule.node.defaultChild as events.CfnRule;
    const entry = `Targets.${this.index}`;
    cfnRule.addPropertyOverride(`${entry}.RetryPolicy`, {
      MaximumRetryAttempts: TARGET_RETRY_POLICY.retryAttempts,
      MaximumEventAgeInSeconds: TARGET_RETRY_POLICY.maxEventAge.toSeconds(),
    });
    const input: TargetInput | undefined = this.target.input;
    if (input === undefined) return;
    if ('path' in input) cfnRule.addPropertyOverride(`${entry}.InputPath`, input.path);
    else cfnRule.addPropertyOverride(`${entry}.InputTransformer`, { InputPathsMap: input.paths, InputTemplate: input.template });
  }

  /**
   * A rule target for a destination that needs no CDK binding beyond the DLQ's resource policy:
   * the resource policy or permission of the destination is the target construct's own business.
   */
  protected arnTarget(arn: string, role?: iam.IRole): events.IRuleTarget {
    const deadLetterQueue = this.targetDeadLetterQueue;
    return {
      bind: (rule) => {
        addToDeadLetterQueueResourcePolicy(rule, deadLetterQueue);
        return { ...bindBaseTargetConfig(this.targetOptions), arn, role };
      },
    };
  }

  /**
   * A role EventBridge assumes to deliver this target, trusted only for rules of this account's bus
   * (confused-deputy protection). The rule's own ARN cannot be named here: the rule refers to this
   * role, so the role referring to the rule would be a circular dependency; the bus's rules are
   * the closest scope without one.
   */
  protected eventBridgeRole(eventBus: events.IEventBus, what: string): iam.Role {
    const stack = Stack.of(this);
    return new iam.Role(this, 'Role', {
      description: `EventBridge delivers route ${this.route.name} to ${what} with it.`.slice(0, 1000),
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${eventBus.eventBusName}/*` }) },
      }),
    });
  }

  /** A statement for a destination's resource policy: events.amazonaws.com, for this rule only. */
  protected ruleOnlyStatement(actions: string[], resource: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: ruleStatementSid(this.route.name, this.name),
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions,
      resources: [resource],
      conditions: { ArnEquals: { 'aws:SourceArn': this.rule.ruleArn } },
    });
  }
}
