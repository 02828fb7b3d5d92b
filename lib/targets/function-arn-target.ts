import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { FunctionArnTarget as FunctionArnTargetSpec } from '../domain/route-types';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/**
 * `{ kind: 'function', functionArn }`: a function that exists in the account, invoked
 * asynchronously by EventBridge. Its resource policy gets one permission: events.amazonaws.com,
 * for this rule (SourceArn) of this account (SourceAccount). Its retries and failure destination are
 * its owner's; what EventBridge cannot hand over goes to this target's DLQ.
 */
export class FunctionArnTarget extends RouteTargetConstruct<FunctionArnTargetSpec> {
  public readonly permission: lambda.CfnPermission;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<FunctionArnTargetSpec>) {
    super(scope, props);
    const { functionArn } = props.target;
    this.permission = new lambda.CfnPermission(this, 'Permission', {
      action: 'lambda:InvokeFunction',
      functionName: functionArn,
      principal: 'events.amazonaws.com',
      sourceArn: this.rule.ruleArn,
      sourceAccount: Stack.of(this).account,
    });
    this.destinationArn = functionArn;
    this.deliver(this.arnTarget(functionArn));
  }
}
