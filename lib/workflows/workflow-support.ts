/**
 * What every workflow of your own gets, whatever its states: a failure path that keeps the
 * execution's input in the failure queue, a catch-all into it, and a state machine with its own
 * log group (with retention) and X-Ray tracing. lib/workflows/index.ts lists the definitions.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { stateMachineNameOf } from '../domain/resource-names';

/** The longest an Express execution runs; a lease on work an execution owns outlasts it. */
export const EXPRESS_TIMEOUT = Duration.minutes(5);

/** Step Functions' limit on state machine names. */
export const MAX_STATE_MACHINE_NAME = 80;

/** What a workflow definition is built with. */
export interface WorkflowProps {
  /** The route this state machine serves; part of every guard record's key. */
  readonly routeName: string;
  /** The target's name in its route. */
  readonly targetName: string;
  /** Known before the state machine exists, so its own execution ARNs can be granted. */
  readonly stateMachineName: string;
  /** The project's catalog table (workspaceId + fileId). */
  readonly catalogTable: dynamodb.ITableV2;
  /** The stateful idempotency table, partition key `id`: one guard record per event. */
  readonly guardTable: dynamodb.ITableV2;
  /** Reviewers' notifications. */
  readonly notificationTopic: sns.ITopic;
  /** Receives the input and the error of every execution that could not finish. */
  readonly failureQueue: sqs.IQueue;
  /** How long records that replays and redrives rely on live: the archive's retention plus the dead letters' 14 days. */
  readonly guardRetentionDays: number;
}

/**
 * Express: priced per start and per GB-second, at most 5 minutes, at-least-once starts, no
 * DescribeExecution, no redrive, history in CloudWatch Logs only. Standard: priced per state
 * transition, up to a year, exactly-once starts, history in the console for 90 days.
 */
export type WorkflowType = 'express' | 'standard';

/** A workflow of your own: its states, and the grants its tasks do not make themselves. */
export interface WorkflowDefinition {
  readonly description: string;
  /** What the state machine is deployed as, and priced as by `npm run cost`. */
  readonly type: WorkflowType;
  /** Builds the states in `scope` and returns the first one. */
  define(scope: Construct, props: WorkflowProps): sfn.IChainable;
  /** Grants and acknowledgements once the state machine exists. */
  finish?(stateMachine: sfn.StateMachine, props: WorkflowProps): void;
}

/** The state machine name of a route's workflow target; the default target keeps the route's name. */
export function workflowStateMachineName(stackName: string, routeName: string, targetName: string): string {
  const name = stateMachineNameOf(stackName, routeName, targetName);
  if (name.length > MAX_STATE_MACHINE_NAME) {
    throw new Error(`workflow name "${name}" is over ${MAX_STATE_MACHINE_NAME} characters: shorten the stack, route or target name`);
  }
  return name;
}

export interface FailurePath {
  /** Catches go here (with `resultPath: '$.failure'`): it makes sure Cause exists, then sends. */
  readonly toFailureQueue: sfn.IChainable;
  /** Sends `$.failure` and the execution's input to the failure queue, then fails the execution. */
  readonly sendToFailureQueue: sfn.INextable & sfn.IChainable;
  /** Adds the catch-all into the failure path to a task (after its specific catchers). */
  catchAll(task: sfn.TaskStateBase): void;
}

/**
 * The failure path every workflow ends its errors in: the original event and the error go to the
 * failure queue, so nothing is lost and `ops dlq redrive` can start the workflow again unchanged.
 */
export function failurePath(scope: Construct, failureQueue: sqs.IQueue, failedStateId: string, options: { beforeSend?: (send: sfn.INextable & sfn.IChainable) => sfn.IChainable } = {}): FailurePath {
  const sendToFailureQueue = new tasks.SqsSendMessage(scope, 'SendToFailureQueue', {
    queue: failureQueue,
    messageBody: sfn.TaskInput.fromObject({
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      error: sfn.JsonPath.stringAt('$.failure.Error'),
      cause: sfn.JsonPath.stringAt('$.failure.Cause'),
      // The original EventBridge event, so a redrive can start the workflow again unchanged.
      input: sfn.JsonPath.objectAt('$$.Execution.Input'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  // The failure queue is the last place the event can be kept: retry any error sending to it, longer
  // (up to 63 s of waits, inside an Express execution's 5 minutes).
  sendToFailureQueue.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
  sendToFailureQueue.next(new sfn.Fail(scope, failedStateId, { error: failedStateId, causePath: '$.failure.Cause' }));
  // A caught error always has Error; Cause can be absent (a States.Timeout has none), and a
  // missing path in the failure message would itself be an uncatchable States.Runtime.
  // A workflow can put a step of its own before the send (the review releases its claim there).
  const send = options.beforeSend?.(sendToFailureQueue) ?? sendToFailureQueue;
  const toFailureQueue = new sfn.Choice(scope, 'CheckFailureCause')
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.failure.Cause'), sfn.Condition.isString('$.failure.Cause')), send)
    .otherwise(new sfn.Pass(scope, 'AddMissingCause', { result: sfn.Result.fromString('no cause given'), resultPath: '$.failure.Cause' }).next(send));
  return {
    toFailureQueue,
    sendToFailureQueue,
    catchAll: (task) => {
      task.addCatch(toFailureQueue, { errors: [sfn.Errors.ALL], resultPath: '$.failure' });
    },
  };
}

export interface WorkflowStateMachineProps {
  readonly stateMachineName: string;
  readonly definition: sfn.IChainable;
  readonly type: WorkflowType;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A state machine with its own log group (with retention) and X-Ray tracing. Standard: a 15-minute
 * timeout and every state logged (the console keeps the history with its data). Express: the
 * 5-minute maximum, and only errors logged: the failure queue keeps the input of every failed
 * execution and the guard record the outcome of every other, so the logs need neither payloads
 * (user emails, file names) nor one line per state, which would cost more than the review.
 */
export function createWorkflowStateMachine(scope: Construct, props: WorkflowStateMachineProps): { stateMachine: sfn.StateMachine; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const express = props.type === 'express';
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineName: props.stateMachineName,
    stateMachineType: express ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    timeout: express ? EXPRESS_TIMEOUT : Duration.minutes(15),
    tracingEnabled: true,
    logs: {
      destination: logGroup,
      level: express ? sfn.LogLevel.ERROR : sfn.LogLevel.ALL,
      // Payloads hold user emails and file names: keep them out of logs.
      includeExecutionData: false,
    },
  });
  if (express) {
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: 'An Express workflow logs errors only: the failure queue keeps the input of every failed execution and the guard record the outcome of every other; a log line per state would cost more than the executions.',
    });
  }
  Validations.of(stateMachine).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray tracing and CloudWatch Logs log delivery (logs:CreateLogDelivery and friends) support no resource-level permissions; every task grant is scoped to its resource.',
  });
  return { stateMachine, logGroup };
}
