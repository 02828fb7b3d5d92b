/**
 * Resolves a deployment's resources from its stack outputs, through the same key helpers the
 * stacks write them with (lib/stack-outputs.ts), and names the dead-letter queues operators see.
 */
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DeadLetterRole } from '../constructs/secure-queue';
import { configKeysOf } from '../domain/route-validation';
import { findRoute, routeTable, targetHandle, targetName, type Route, type RouteTarget } from '../route-table';
import { DEAD_LETTER_KEYS, targetDeadLetterQueueName, targetOutputKey, type TargetResource } from '../stack-outputs';
import { OperationFailed, UsageError } from './command';

/**
 * The queues a target has, in the order a message flows (mirrors the target constructs): every target
 * has EventBridge's target DLQ; an own chain adds the queue its own hop fails into.
 */
export function deadLetterRoles(target: RouteTarget): readonly DeadLetterRole[] {
  switch (target.kind) {
    case 'queue':
      return 'consumer' in target ? ['target-dlq', 'buffer-dlq'] : ['target-dlq'];
    case 'function':
      return 'consumer' in target ? ['target-dlq', 'on-failure'] : ['target-dlq'];
    case 'workflow':
      return 'workflow' in target ? ['target-dlq', 'workflow-failures'] : ['target-dlq'];
    case 'topic':
      // A created topic's subscriptions share one DLQ, which exists only when it has subscriptions.
      return target.topicArn === undefined && (target.subscriptions?.length ?? 0) > 0 ? ['target-dlq', 'subscription-dlq'] : ['target-dlq'];
    case 'http':
    case 'bus':
      return ['target-dlq'];
  }
}

export interface DeadLetterQueueRef {
  /** The CLI handle, e.g. 'documents/queue/buffer-dlq'. */
  readonly name: string;
  readonly route: Route;
  readonly target: RouteTarget;
  /** The target's name in its route (its kind unless named). */
  readonly targetName: string;
  readonly role: DeadLetterRole;
}

export function deadLetterQueues(table: readonly Route[] = routeTable): DeadLetterQueueRef[] {
  return table.flatMap((route) =>
    route.targets.flatMap((target) =>
      deadLetterRoles(target).map((role) => ({ name: targetDeadLetterQueueName(route.name, targetName(target), role), route, target, targetName: targetName(target), role })),
    ),
  );
}

export function findDeadLetterQueue(name: string, table: readonly Route[] = routeTable): DeadLetterQueueRef {
  const all = deadLetterQueues(table);
  const found = all.find((queue) => queue.name === name);
  if (!found) throw new UsageError(`unknown queue "${name}"; valid names: ${all.map((queue) => queue.name).join(', ')}`);
  return found;
}

export function resolveRoutes(names: readonly string[], table: readonly Route[] = routeTable): Route[] {
  const routes: Route[] = [];
  for (const name of names) {
    const route = findRoute(name, table);
    if (!route) throw new UsageError(`unknown route "${name}"; valid routes: ${table.map((r) => r.name).join(', ')}`);
    if (!routes.includes(route)) routes.push(route);
  }
  return routes;
}

/** The output keys of one dead-letter queue, e.g. RouteDocumentsTargetQueueBufferDlqUrl. */
export function deadLetterOutputKeys(queue: DeadLetterQueueRef): { url: string; arn: string } {
  const key = DEAD_LETTER_KEYS[queue.role];
  return {
    url: targetOutputKey(queue.route.name, queue.targetName, `${key}Url`),
    arn: targetOutputKey(queue.route.name, queue.targetName, `${key}Arn`),
  };
}

export { configKeysOf };

/** A target the table has but this deployment does not: its config values were not set at deploy. */
export interface AbsentTarget {
  /** e.g. 'video-uploads/slack' */
  readonly name: string;
  readonly configKeys: readonly string[];
}

/**
 * The dead-letter queues a deployment really has. A target whose values come from config is deployed
 * only when they were configured (lib/domain/route-validation.ts resolveRouteTable), which only the
 * deployed stack knows: such a target counts as deployed when its target DLQ is in the stack outputs.
 * Every other target must be there; if it is not, its queues stay listed and reading them reports the
 * missing output (an older deployment).
 */
export function deployedDeadLetterQueues(outputs: StackOutputs, table: readonly Route[] = routeTable): { queues: DeadLetterQueueRef[]; absent: AbsentTarget[] } {
  const queues: DeadLetterQueueRef[] = [];
  const absent: AbsentTarget[] = [];
  for (const route of table) {
    for (const target of route.targets) {
      const name = targetName(target);
      const configKeys = configKeysOf(target);
      if (configKeys.length > 0 && !outputs.has(targetOutputKey(route.name, name, 'TargetDlqUrl'))) {
        absent.push({ name: targetHandle(route.name, name), configKeys });
        continue;
      }
      queues.push(...deadLetterQueues([{ ...route, targets: [target] }]));
    }
  }
  return { queues, absent };
}

/** One line saying why a configurable target is not in this deployment. */
export function absentTargetText(target: AbsentTarget, stackName: string): string {
  return `${target.name} is not deployed in ${stackName}: it is deployed only when config ${target.configKeys.join(' and ')} ${target.configKeys.length === 1 ? 'is' : 'are'} set (cdk.json context or -c at deploy)`;
}

export class StackOutputs {
  constructor(
    readonly stackName: string,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  get(key: string): string {
    const value = this.values.get(key);
    if (value === undefined || value === '') {
      throw new OperationFailed(`stack ${this.stackName} has no output ${key}: it was deployed from an older route table or version; redeploy it (npx cdk deploy --all)`);
    }
    return value;
  }

  /** Every output value: what names a resource of the stack today. */
  allValues(): string[] {
    return [...this.values.values()];
  }

  has(key: string): boolean {
    const value = this.values.get(key);
    return value !== undefined && value !== '';
  }

  target(queue: Pick<DeadLetterQueueRef, 'route' | 'targetName'>, resource: TargetResource): string {
    return this.get(targetOutputKey(queue.route.name, queue.targetName, resource));
  }
}

function isStackMissing(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationError' && /does not exist/i.test(error.message);
}

/** DescribeStacks on one stack; a missing stack is one clear line, not a ValidationError. */
export async function loadStackOutputs(client: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  let stacks;
  try {
    stacks = (await client.send(new DescribeStacksCommand({ StackName: stackName })))?.Stacks;
  } catch (error) {
    if (isStackMissing(error)) throw new OperationFailed(`stack ${stackName} not found: deploy first or pass --stage`);
    throw error;
  }
  const stack = stacks?.[0];
  if (!stack) throw new OperationFailed(`stack ${stackName} not found: deploy first or pass --stage`);
  const values = new Map<string, string>();
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined) values.set(output.OutputKey, output.OutputValue);
  }
  return new StackOutputs(stackName, values);
}
