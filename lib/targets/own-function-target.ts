import { Duration } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import type { ProjectFunction } from '../constructs/project-function';
import type { OwnFunctionTarget as OwnFunctionTargetSpec } from '../domain/route-types';
import { createConsumerFunction } from './consumer-function';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/** Lambda's own async retries and event age for function targets, before the on-failure destination. */
export const ASYNC_INVOKE_POLICY = { retryAttempts: 2, maxEventAge: Duration.hours(1) } as const;

/**
 * `{ kind: 'function', consumer }`: your handler invoked asynchronously; what fails after Lambda's
 * retries goes to the on-failure destination queue with its error and request context.
 */
export class OwnFunctionTarget extends RouteTargetConstruct<OwnFunctionTargetSpec> {
  public readonly consumerFunction: ProjectFunction;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<OwnFunctionTargetSpec>) {
    super(scope, props);
    const onFailureQueue = this.deadLetterQueue('OnFailureQueue', 'on-failure');
    this.consumerFunction = createConsumerFunction(this, {
      route: props.route,
      target: props.target,
      targetName: this.name,
      resources: props.resources,
      asyncInvoke: { onFailure: new SqsDestination(onFailureQueue), ...ASYNC_INVOKE_POLICY },
    });
    this.destinationArn = this.consumerFunction.functionArn;
    this.deliver(new targets.LambdaFunction(this.consumerFunction, this.targetOptions));
  }
}
