import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { BusTarget as BusTargetSpec } from '../domain/route-types';
import { RouteTargetConstruct, type TargetProps } from './target-support';

/**
 * `{ kind: 'bus', eventBusArn }`: forwards to another event bus, in this or another account or
 * Region, with a role allowed events:PutEvents on that bus only. A bus in another account must
 * also allow this account in its own resource policy (its owner's side; README).
 */
export class BusTarget extends RouteTargetConstruct<BusTargetSpec> {
  public readonly role: iam.Role;
  public readonly destinationArn: string;

  constructor(scope: Construct, props: TargetProps<BusTargetSpec>) {
    super(scope, props);
    const { eventBusArn } = props.target;
    this.role = this.eventBridgeRole(props.resources.eventBus, `event bus ${eventBusArn}`);
    this.destinationArn = eventBusArn;
    // CDK's EventBus target takes no retry policy; deliver() writes it on the entry.
    this.deliver(new targets.EventBus(events.EventBus.fromEventBusArn(this, 'Bus', eventBusArn), { deadLetterQueue: this.targetDeadLetterQueue, role: this.role }));
  }
}
