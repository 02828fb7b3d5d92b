import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { WorkflowArnTarget as WorkflowArnTargetSpec } from '../domain/route-types';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/**
 * `{ kind: 'workflow', stateMachineArn }`: a state machine that exists in the account, started by
 * EventBridge with a role allowed states:StartExecution on that ARN only.
 */
export class WorkflowArnTarget extends RouteTargetConstruct<WorkflowArnTargetSpec> {
  public readonly role: iam.Role;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<WorkflowArnTargetSpec>) {
    super(scope, props);
    const { stateMachineArn } = props.target;
    const stateMachine = sfn.StateMachine.fromStateMachineArn(this, 'Imported', stateMachineArn);
    this.role = this.eventBridgeRole(props.resources.eventBus, `state machine ${stateMachineArn}`);
    stateMachine.grantStartExecution(this.role);
    this.destinationArn = stateMachineArn;
    // Not CDK's SfnStateMachine target: it hands the rule the imported machine's environment (the
    // ARN's account and Region), which an environment-agnostic stack can only warn about.
    this.deliver(this.arnTarget(stateMachineArn, this.role));
  }
}
