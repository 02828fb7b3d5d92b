import { Arn, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { RouteChain } from './route-chain';

export interface OperatorPolicyProps {
  /** Prefixes the policy name: `<stage>-fastio-operator`. */
  readonly stage: string;
  /** The stacks whose outputs `ops` reads (DescribeStacks). */
  readonly stackNames: readonly string[];
  readonly archive: events.Archive;
  readonly signingSecret: secretsmanager.ISecret;
  readonly chains: readonly RouteChain[];
}

/**
 * The IAM managed policy an operator attaches to run every `npm run ops` command against this
 * deployment, and nothing more: each statement is one thing a command does, scoped to this stage's
 * resources. test/infra/operator-policy.test.ts runs the CLI and checks every call it makes is allowed.
 */
export class OperatorPolicy extends Construct {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const deployed = props.chains.flatMap((chain) => chain.targets);
    const deadLetterQueues = deployed.flatMap((target) => Object.values(target.deadLetterQueues));
    const bufferDeadLetterQueues = deployed.flatMap((target) => (target.deadLetterQueues['buffer-dlq'] ? [target.deadLetterQueues['buffer-dlq']] : []));
    const bufferQueues = deployed.flatMap((target) => (target.bufferQueue ? [target.bufferQueue] : []));
    // Dead letters of function targets are re-sent by async invoke; queue targets' go to their buffer.
    const functions = deployed.flatMap((target) => (target.kind === 'function' && target.consumerFunction ? [target.consumerFunction] : []));
    const stateMachines = deployed.flatMap((target) => (target.stateMachine ? [target.stateMachine] : []));

    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: props.stackNames.map((stackName) => Arn.format({ service: 'cloudformation', resource: 'stack', resourceName: `${stackName}/*` }, stack)),
      }),
      new iam.PolicyStatement({
        sid: 'ReplayFromTheArchive',
        actions: ['events:DescribeArchive', 'events:StartReplay'],
        resources: [props.archive.archiveArn],
      }),
      new iam.PolicyStatement({
        sid: 'WatchAndCancelReplays',
        // Replays are named at start time, so only a wildcard can name them.
        actions: ['events:StartReplay', 'events:DescribeReplay', 'events:CancelReplay'],
        resources: [Arn.format({ service: 'events', resource: 'replay', resourceName: '*' }, stack)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadAndRedriveDeadLetters',
        actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
        resources: deadLetterQueues.map((queue) => queue.queueArn),
      }),
      new iam.PolicyStatement({
        sid: 'MoveBufferDeadLettersBack',
        actions: ['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks'],
        resources: bufferDeadLetterQueues.map((queue) => queue.queueArn),
      }),
      new iam.PolicyStatement({
        sid: 'RedeliverToBuffers',
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: bufferQueues.map((queue) => queue.queueArn),
      }),
      new iam.PolicyStatement({
        sid: 'RotateTheSigningSecret',
        actions: ['secretsmanager:PutSecretValue', 'secretsmanager:ListSecretVersionIds'],
        resources: [props.signingSecret.secretArn],
      }),
    ];
    // ListReplays and TestEventPattern have no resource type in the Service Authorization Reference,
    // so IAM matches them only on all resources; the condition holds them to this deployment's Region.
    const listAndTest = new iam.PolicyStatement({
      sid: 'ListReplaysAndTestPatterns',
      actions: ['events:ListReplays', 'events:TestEventPattern'],
      conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } },
    });
    listAndTest.addAllResources();
    statements.push(listAndTest);
    if (functions.length > 0) {
      statements.push(new iam.PolicyStatement({ sid: 'RedeliverToFunctions', actions: ['lambda:InvokeFunction'], resources: functions.map((fn) => fn.functionArn) }));
    }
    if (stateMachines.length > 0) {
      statements.push(new iam.PolicyStatement({ sid: 'RedeliverToWorkflows', actions: ['states:StartExecution'], resources: stateMachines.map((machine) => machine.stateMachineArn) }));
    }

    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: `${props.stage}-fastio-operator`,
      description: `Everything npm run ops needs against the ${props.stage} fastio-eventbridge deployment, scoped to its resources.`,
      statements,
    });

    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'events:ListReplays and events:TestEventPattern support no resource-level permissions (no resource type in the Service Authorization Reference); the statement is limited to this deployment\'s Region, and every other statement names this deployment\'s resources.',
    });
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:replay/*]',
      reason: 'Replays are named by the operator when started (replay start --name or a generated name), so no narrower ARN exists in advance.',
    });
    for (const stackName of props.stackNames) {
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${stackName}/*]`,
        reason: 'A stack ARN ends in an id CloudFormation assigns at creation; the wildcard covers only that id of this named stack.',
      });
    }
  }
}
