/**
 * Resolves a deployment's resources from its stack outputs, through the same key helpers the
 * stacks write them with (lib/stack-outputs.ts), and names the dead-letter queues operators see.
 */
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { DeadLetterRole } from '../constructs/secure-queue';
import { findRoute, routeTable, type Route } from '../route-table';
import { DEAD_LETTER_KEYS, deadLetterQueueName, routeOutputKey, type RouteResource } from '../stack-outputs';
import { OperationFailed, UsageError } from './command';

/** The queues a route's chain has, by target kind, in the order a message flows (mirrors RouteChain). */
const ROLES_BY_KIND: Record<'queue' | 'function' | 'workflow', readonly DeadLetterRole[]> = {
  queue: ['target-dlq', 'buffer-dlq'],
  function: ['target-dlq', 'on-failure'],
  workflow: ['target-dlq', 'workflow-failures'],
};

export interface DeadLetterQueueRef {
  /** e.g. 'documents/buffer-dlq' */
  readonly name: string;
  readonly route: Route;
  readonly role: DeadLetterRole;
}

export function deadLetterQueues(table: readonly Route[] = routeTable): DeadLetterQueueRef[] {
  return table.flatMap((route) => ROLES_BY_KIND[(route.targets[0]?.kind ?? 'queue') as 'queue' | 'function' | 'workflow'].map((role: DeadLetterRole) => ({ name: deadLetterQueueName(route.name, role), route, role })));
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

/** The output keys of one dead-letter queue, e.g. RouteDocumentsBufferDlqUrl. */
export function deadLetterOutputKeys(queue: DeadLetterQueueRef): { url: string; arn: string } {
  const key = DEAD_LETTER_KEYS[queue.role];
  return { url: routeOutputKey(queue.route.name, `${key}Url`), arn: routeOutputKey(queue.route.name, `${key}Arn`) };
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

  route(routeName: string, resource: RouteResource): string {
    return this.get(routeOutputKey(routeName, resource));
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
