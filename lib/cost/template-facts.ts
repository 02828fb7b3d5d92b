/**
 * What the synthesized templates say about cost: memory sizes, which routes exist and what they
 * target, how many states a workflow walks through, and the fixed resources that bill monthly.
 */
import type { Route, TargetKind } from '../route-table';
import { renderDefinition, routeLogicalIdPrefix, type StateMachineDefinition } from '../synthesized-template';

type CfnResource = { Type: string; Properties?: Record<string, unknown> };
export type CfnTemplate = { Resources: Record<string, CfnResource> };

export interface RouteFacts {
  readonly name: string;
  readonly kind: TargetKind;
  /** Memory of the consumer function, for queue and function routes. */
  readonly consumerMemoryMb?: number;
  /** States entered by one successful execution, for workflow routes. */
  readonly workflowTransitions?: number;
}

export interface TemplateFacts {
  readonly ingestMemoryMb: number;
  readonly routes: readonly RouteFacts[];
  readonly bufferQueues: number;
  readonly kmsKeys: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly archiveRetentionDays: number;
}

function resourcesOf(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** Walks a Standard workflow's success path (Choice takes its first branch) and counts states entered. */
export function successPathTransitions(definition: StateMachineDefinition): number {
  let count = 0;
  let current: string | undefined = definition.StartAt;
  const seen = new Set<string>();
  while (current && !seen.has(current)) {
    seen.add(current);
    count += 1;
    const state: Record<string, unknown> | undefined = definition.States[current];
    if (!state || state.End === true || state.Type === 'Succeed' || state.Type === 'Fail') break;
    const choices = state.Choices as { Next: string }[] | undefined;
    current = (choices?.[0]?.Next ?? state.Next ?? state.Default) as string | undefined;
  }
  return count;
}

export function readTemplateFacts(
  templates: { stateful: CfnTemplate; ingest: CfnTemplate; routing: CfnTemplate; monitoring?: CfnTemplate },
  routes: readonly Route[],
): TemplateFacts {
  const ingestFunction = resourcesOf(templates.ingest, 'AWS::Lambda::Function')[0]?.[1];
  const ingestMemoryMb = Number(ingestFunction?.Properties?.MemorySize ?? 128);

  const routeFacts = routes.map((route): RouteFacts => {
    const fragment = routeLogicalIdPrefix(route.name);
    const consumer = resourcesOf(templates.routing, 'AWS::Lambda::Function').find(([id]) => id.startsWith(`${fragment}Consumer`))?.[1];
    const stateMachine = resourcesOf(templates.routing, 'AWS::StepFunctions::StateMachine').find(([id]) => id.startsWith(fragment))?.[1];
    return {
      name: route.name,
      kind: route.targets[0]?.kind ?? 'queue',
      consumerMemoryMb: consumer ? Number(consumer.Properties?.MemorySize ?? 128) : undefined,
      workflowTransitions: stateMachine ? successPathTransitions(renderDefinition(stateMachine.Properties?.DefinitionString)) : undefined,
    };
  });

  const all = [templates.stateful, templates.ingest, templates.routing, ...(templates.monitoring ? [templates.monitoring] : [])];
  const count = (type: string) => all.reduce((total, template) => total + resourcesOf(template, type).length, 0);
  const archive = resourcesOf(templates.stateful, 'AWS::Events::Archive')[0]?.[1];

  return {
    ingestMemoryMb,
    routes: routeFacts,
    bufferQueues: routes.filter((route) => route.targets[0]?.kind === 'queue').length,
    kmsKeys: count('AWS::KMS::Key'),
    alarms: count('AWS::CloudWatch::Alarm'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    archiveRetentionDays: Number(archive?.Properties?.RetentionDays ?? 0),
  };
}
