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
import { targetName, targetRulePattern, type Route, type RouteTarget, type TargetInput, type TargetKind } from '../domain/route-types';
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
  /** This target's own rule: the route's pattern (plus `replay-name` absent when the target skips replays), one target. */
  readonly rule: events.Rule;
  /** What the rule's target entry points at (queue, function, state machine, topic, API destination or bus). */
  readonly destinationArn: string;
}

/**
 * A target's own rule. One rule per target (not per route) so that a replay's FilterArns can name
 * single targets and a target can skip replay copies while the others of its route take them
 * (DESIGN decision 17). The route stays the unit the table is written in: every rule of a route
 * has the route's pattern.
 */
function targetRule(scope: Construct, route: Route, target: RouteTarget, eventBus: events.IEventBus): events.Rule {
  const rule = new events.Rule(scope, 'Rule', {
    eventBus,
    description: `${route.description} (target ${targetName(target)})`.slice(0, 512),
    // Placeholder so the L2 accepts the rule; the property override below is the real pattern.
    eventPattern: { source: [...route.pattern.source] },
  });
  // The route table holds console JSON (kebab-case keys, replay-name, $or) that CDK's camel-case
  // EventPattern cannot express; the pattern is written to the template as the table has it.
  (rule.node.defaultChild as events.CfnRule).addPropertyOverride('EventPattern', targetRulePattern(route, target));
  return rule;
}

/**
 * The base of every target construct: creates the target's rule and DLQ and adds the target to the
 * rule with the retry policy and input written exactly as the table has them.
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
  public readonly rule: events.Rule;

  constructor(scope: Construct, props: TargetProps<T>) {
    const name = targetName(props.target);
    super(scope, targetConstructId(name));
    this.route = props.route;
    this.target = props.target;
    this.name = name;
    this.kind = props.target.kind;
    this.rule = targetRule(this, props.route, props.target, props.resources.eventBus);
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
   * Adds the target to its rule, then writes what CDK would not write as the table has it: the
   * retry policy on every entry (CDK's EventBus target has none) and the input (CDK's
   * RuleTargetInput re-renders a template, while the table holds EventBridge's own JSON).
   */
  protected deliver(ruleTarget: events.IRuleTarget): void {
    this.rule.addTarget(ruleTarget);
    const cfnRule = this.rule.node.defaultChild as events.CfnRule;
    const entry = 'Targets.0';
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
