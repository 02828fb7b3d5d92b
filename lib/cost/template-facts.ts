/**
 * What the synthesized templates say about cost: memory sizes, which targets each route has and
 * what they are, how many states a workflow walks through, and the fixed resources that bill monthly.
 */
import { targetName, type Route, type RouteTarget, type TargetKind } from '../route-table';
import { renderDefinition, targetLogicalIdPrefix, type StateMachineDefinition } from '../synthesized-template';

type CfnResource = { Type: string; Properties?: Record<string, unknown> };
export type CfnTemplate = { Resources: Record<string, CfnResource> };

/** One target of a route, as the cost model prices it. */
export interface TargetFacts {
  readonly route: string;
  readonly name: string;
  readonly kind: TargetKind;
  /** The target as the table has it (own handler or ARN, subscriptions, access). */
  readonly target: RouteTarget;
  /** Memory of the consumer function, for own queue and function targets. */
  readonly consumerMemoryMb?: number;
  /** States entered by one successful execution, for own workflow targets. */
  readonly workflowTransitions?: number;
  /** The state machine's type as deployed, for own workflow targets. */
  readonly workflowType?: 'express' | 'standard';
}

/** The claim-check bucket: bodies too large for an event, kept until its lifecycle expires them. */
export interface BodyBucketFacts {
  readonly retentionDays: number;
}

/** The bus's own logs (LogConfig), delivered as vended logs to the recorder bucket. */
export interface BusLogFacts {
  readonly level: 'ERROR' | 'INFO' | 'TRACE';
}

/** The flight recorder's Firehose stream and its record bucket. */
export interface RecorderFacts {
  readonly bufferingIntervalSeconds: number;
  readonly retentionDays: number;
}

export interface TemplateFacts {
  readonly ingestMemoryMb: number;
  /** The ingest's resend dedupe window (DEDUPE_WINDOW_HOURS); 0 when it is off. */
  readonly dedupeWindowHours: number;
  readonly targets: readonly TargetFacts[];
  readonly bufferQueues: number;
  readonly kmsKeys: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly archiveRetentionDays: number;
  readonly recorder?: RecorderFacts;
  readonly bodyBucket?: BodyBucketFacts;
  /** Absent when the bus logs nothing (no LogConfig, or level OFF). */
  readonly busLog?: BusLogFacts;
  /** Routes the table has that deploy with no traffic share in the assumptions (priced as 0). */
  readonly unpricedRoutes?: readonly string[];
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

function recorderFacts(stateful: CfnTemplate): { recorder?: RecorderFacts } {
  const stream = resourcesOf(stateful, 'AWS::KinesisFirehose::DeliveryStream')[0]?.[1];
  const destination = stream?.Properties?.ExtendedS3DestinationConfiguration as
    | { BufferingHints?: { IntervalInSeconds?: number }; BucketARN?: { 'Fn::GetAtt'?: [string, string] } }
    | undefined;
  if (!destination) return {};
  const bucketId = destination.BucketARN?.['Fn::GetAtt']?.[0] ?? '';
  const lifecycle = stateful.Resources[bucketId]?.Properties?.LifecycleConfiguration as { Rules?: { ExpirationInDays?: number }[] } | undefined;
  return {
    recorder: {
      // Firehose's default interval when the template sets none.
      bufferingIntervalSeconds: Number(destination.BufferingHints?.IntervalInSeconds ?? 300),
      retentionDays: Number(lifecycle?.Rules?.[0]?.ExpirationInDays ?? 0),
    },
  };
}

function bodyBucketFacts(stateful: CfnTemplate): { bodyBucket?: BodyBucketFacts } {
  const bucket = resourcesOf(stateful, 'AWS::S3::Bucket').find(([id]) => id.startsWith('BodyBucket'))?.[1];
  if (!bucket) return {};
  const lifecycle = bucket.Properties?.LifecycleConfiguration as { Rules?: { ExpirationInDays?: number }[] } | undefined;
  return { bodyBucket: { retentionDays: Number(lifecycle?.Rules?.find((rule) => rule.ExpirationInDays !== undefined)?.ExpirationInDays ?? 0) } };
}

/**
 * The routes and targets that deploy: a target whose config is off (the slack http target without
 * its URL) has no resources in the routing template, and a route without any has no rule.
 */
export function deployedRoutes(routing: CfnTemplate, routes: readonly Route[]): Route[] {
  const ids = Object.keys(routing.Resources);
  return routes
    .map((route) => ({ ...route, targets: route.targets.filter((target) => ids.some((id) => id.startsWith(targetLogicalIdPrefix(route.name, targetName(target))))) }))
    .filter((route) => route.targets.length > 0) as Route[];
}

function busLogFacts(stateful: CfnTemplate): { busLog?: BusLogFacts } {
  const bus = resourcesOf(stateful, 'AWS::Events::EventBus')[0]?.[1];
  const level = (bus?.Properties?.LogConfig as { Level?: unknown } | undefined)?.Level;
  return level === 'ERROR' || level === 'INFO' || level === 'TRACE' ? { busLog: { level } } : {};
}

export function readTemplateFacts(
  templates: { stateful: CfnTemplate; ingest: CfnTemplate; routing: CfnTemplate; monitoring?: CfnTemplate },
  routes: readonly Route[],
): TemplateFacts {
  const ingestFunction = resourcesOf(templates.ingest, 'AWS::Lambda::Function')[0]?.[1];
  const ingestMemoryMb = Number(ingestFunction?.Properties?.MemorySize ?? 128);
  const dedupeWindowHours = Number((ingestFunction?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.DEDUPE_WINDOW_HOURS ?? 0);

  const deployed = deployedRoutes(templates.routing, routes);
  const targetFacts = deployed.flatMap((route) =>
    route.targets.map((target): TargetFacts => {
      const name = targetName(target);
      const prefix = targetLogicalIdPrefix(route.name, name);
      const consumer = resourcesOf(templates.routing, 'AWS::Lambda::Function').find(([id]) => id.startsWith(`${prefix}Consumer`))?.[1];
      const stateMachine = resourcesOf(templates.routing, 'AWS::StepFunctions::StateMachine').find(([id]) => id.startsWith(`${prefix}StateMachine`))?.[1];
      return {
        route: route.name,
        name,
        kind: target.kind,
        target,
        consumerMemoryMb: consumer ? Number(consumer.Properties?.MemorySize ?? 128) : undefined,
        workflowTransitions: stateMachine ? successPathTransitions(renderDefinition(stateMachine.Properties?.DefinitionString)) : undefined,
        workflowType: stateMachine ? (stateMachine.Properties?.StateMachineType === 'EXPRESS' ? 'express' : 'standard') : undefined,
      };
    }),
  );

  const all = [templates.stateful, templates.ingest, templates.routing, ...(templates.monitoring ? [templates.monitoring] : [])];
  const count = (type: string) => all.reduce((total, template) => total + resourcesOf(template, type).length, 0);
  const archive = resourcesOf(templates.stateful, 'AWS::Events::Archive')[0]?.[1];

  return {
    ...recorderFacts(templates.stateful),
    ...bodyBucketFacts(templates.stateful),
    ...busLogFacts(templates.stateful),
    ingestMemoryMb,
    dedupeWindowHours,
    targets: targetFacts,
    bufferQueues: targetFacts.filter((target) => target.kind === 'queue' && 'consumer' in target.target).length,
    kmsKeys: count('AWS::KMS::Key'),
    alarms: count('AWS::CloudWatch::Alarm'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    archiveRetentionDays: Number(archive?.Properties?.RetentionDays ?? 0),
  };
}
