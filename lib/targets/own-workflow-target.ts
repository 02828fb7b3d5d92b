import { Stack } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { OwnWorkflowTarget as OwnWorkflowTargetSpec } from '../domain/route-types';
import { QUEUE_RETENTION } from '../constructs/secure-queue';
import { workflows } from '../workflows';
import { createWorkflowStateMachine, workflowStateMachineName, type WorkflowProps } from '../workflows/workflow-support';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/**
 * `{ kind: 'workflow', workflow }`: a state machine of your own from lib/workflows, started by
 * EventBridge through a role allowed states:StartExecution on it alone; the workflow catches its
 * own failures into FailureQueue with the execution's input.
 */
export class OwnWorkflowTarget extends RouteTargetConstruct<OwnWorkflowTargetSpec> {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  /** The role EventBridge starts executions with. */
  public readonly role: iam.Role;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<OwnWorkflowTargetSpec>) {
    super(scope, props);
    const definition = workflows[props.target.workflow];
    if (definition === undefined) throw new Error(`workflow "${props.target.workflow}" is not in lib/workflows/index.ts`);
    const failureQueue = this.deadLetterQueue('FailureQueue', 'workflow-failures');
    const workflowProps: WorkflowProps = {
      routeName: props.route.name,
      targetName: this.name,
      stateMachineName: workflowStateMachineName(Stack.of(this).stackName, props.route.name, this.name),
      catalogTable: props.resources.catalogTable,
      guardTable: props.resources.idempotencyTable,
      notificationTopic: props.resources.notificationTopic,
      failureQueue,
      guardRetentionDays: props.resources.archiveRetentionDays + QUEUE_RETENTION.toDays(),
    };
    // The states are constructs too; they get a scope of their own, apart from the target's resources.
    const states = definition.define(new Construct(this, 'States'), workflowProps);
    const { stateMachine, logGroup } = createWorkflowStateMachine(this, { stateMachineName: workflowProps.stateMachineName, definition: states, type: definition.type });
    definition.finish?.(stateMachine, workflowProps);
    this.stateMachine = stateMachine;
    this.logGroup = logGroup;
    this.role = this.eventBridgeRole(props.resources.eventBus, `workflow ${props.target.workflow}`);
    this.destinationArn = stateMachine.stateMachineArn;
    this.deliver(new targets.SfnStateMachine(stateMachine, { ...this.targetOptions, role: this.role }));
  }
}
