import { Construct } from 'constructs';
import type { Route, RouteTarget } from '../route-table';
import { BusTarget } from '../targets/bus-target';
import { FunctionArnTarget } from '../targets/function-arn-target';
import { HttpTarget } from '../targets/http-target';
import { OwnFunctionTarget } from '../targets/own-function-target';
import { OwnQueueTarget } from '../targets/own-queue-target';
import { OwnWorkflowTarget } from '../targets/own-workflow-target';
import { QueueArnTarget } from '../targets/queue-arn-target';
import type { DeployedTarget, RouteResources, TargetProps } from '../targets/target-support';
import { TopicTarget } from '../targets/topic-target';
import { WorkflowArnTarget } from '../targets/workflow-arn-target';

export { TARGET_RETRY_POLICY, type DeployedTarget, type RouteResources } from '../targets/target-support';
export { BUFFER_VISIBILITY_TIMEOUT } from '../targets/own-queue-target';
export { ASYNC_INVOKE_POLICY } from '../targets/own-function-target';
export { CONSUMER_TIMEOUT } from '../targets/consumer-function';

export interface RouteChainProps extends RouteResources {
  readonly route: Route;
}

/** The construct of one target, by its kind and whether the table names a resource of its own or an ARN. */
function deployTarget(scope: Construct, props: TargetProps<RouteTarget>): DeployedTarget {
  const { target } = props;
  const as = <T extends RouteTarget>(spec: T): TargetProps<T> => ({ ...props, target: spec });
  switch (target.kind) {
    case 'queue':
      return 'consumer' in target ? new OwnQueueTarget(scope, as(target)) : new QueueArnTarget(scope, as(target));
    case 'function':
      return 'consumer' in target ? new OwnFunctionTarget(scope, as(target)) : new FunctionArnTarget(scope, as(target));
    case 'workflow':
      return 'workflow' in target ? new OwnWorkflowTarget(scope, as(target)) : new WorkflowArnTarget(scope, as(target));
    case 'topic':
      return new TopicTarget(scope, as(target));
    case 'http':
      return new HttpTarget(scope, as(target));
    case 'bus':
      return new BusTarget(scope, as(target));
  }
}

/**
 * One route of the table as deployed: each of its targets (lib/targets), every one with its own
 * rule, dead-letter queue and retry policy. Built from the route entry alone, so adding a route or
 * a target is a change to the table. Target constructs keep their ids (`Route-<r>/Target-<t>`)
 * whatever else changes, so the retained queues under them keep their logical ids.
 */
export class RouteChain extends Construct {
  public readonly route: Route;
  /** In the order of route.targets. */
  public readonly targets: readonly DeployedTarget[];

  constructor(scope: Construct, id: string, props: RouteChainProps) {
    super(scope, id);
    this.route = props.route;
    const { route: _route, ...resources } = props;
    this.targets = props.route.targets.map((target) => deployTarget(this, { route: props.route, target, resources }));
  }
}
