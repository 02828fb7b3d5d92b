/**
 * How many webhooks the deployment accepts, read from the synthesized ingest template (stage
 * throttle, the ingest's reserved concurrency) and the cost assumptions (ingest duration, each
 * route's share), beside the AWS default quotas that bind as the rate grows. The quotas are AWS's
 * published defaults per account and Region (README cites the pages); yours may differ: Service Quotas.
 */
import { targetName, type Route } from '../route-table';
import { targetLogicalIdPrefix } from '../synthesized-template';
import type { CfnTemplate } from './template-facts';

export interface CapacityFacts {
  /** HTTP API stage steady-state rate (requests/s) and token-bucket size. */
  readonly stageRateLimit: number;
  readonly stageBurstLimit: number;
  /** ReservedConcurrentExecutions of the ingest function, undefined when it shares the account pool. */
  readonly ingestReservedConcurrency: number | undefined;
  /**
   * `AWS::Events::Rule` resources on the project's bus (every rule with an EventBusName) in the
   * stateful and routing templates, counted from the synthesized templates rather than the route
   * table, since one route can deploy several rules; undefined when those templates were not read.
   */
  readonly busRules?: number;
  /** Deployed type of each own workflow target's state machine, by `route/target`. */
  readonly workflowTypes?: Readonly<Record<string, 'express' | 'standard'>>;
}

/** AWS default quotas per account and Region (the largest Regions; several are lower elsewhere). */
export const DEFAULT_QUOTAS = {
  /** API Gateway, all APIs of the account: 10,000 rps, bucket of 5,000 (2,500 / 1,250 in smaller Regions). */
  apiGatewayAccountRps: 10_000,
  apiGatewayAccountBurst: 5_000,
  /** Lambda concurrent executions, shared by every function without a reservation. */
  lambdaAccountConcurrency: 1_000,
  /** EventBridge PutEvents, us-east-1 (2,400 in us-east-2, lower in smaller Regions). One call per webhook. */
  putEventsTps: 10_000,
  /** Step Functions StartExecution (Standard) token-bucket refill, largest Regions. */
  startExecutionRefillPerSecond: 300,
  /** Step Functions StartExecution of Express workflows: token-bucket refill, per account and Region (express-limits page). */
  expressStartExecutionRefillPerSecond: 6_000,
  /** EventBridge rules per event bus (adjustable). */
  rulesPerBus: 300,
  /**
   * Firehose Direct PUT per stream, us-east-1, us-west-2 and eu-west-1 (1,000 requests/s and 1 MiB/s
   * elsewhere). The flight recorder's rule puts each event as one record.
   */
  firehoseRequestsPerSecond: 2_000,
  firehoseBytesPerSecond: 5 * 1024 * 1024,
  /** An API destination's invocation rate when the route table sets none (EventBridge's default). */
  apiDestinationRatePerSecond: 300,
} as const;

type Resources = CfnTemplate['Resources'];

function only(resources: Resources, type: string, where: (properties: Record<string, unknown>) => boolean = () => true): Record<string, unknown> {
  const found = Object.values(resources).filter((resource) => resource.Type === type && where(resource.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type} in the ingest template, found ${found.length}`);
  return found[0]?.Properties ?? {};
}

function isIngestFunction(properties: Record<string, unknown>): boolean {
  const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return variables.POWERTOOLS_SERVICE_NAME === 'fastio-ingest';
}

function busRuleCount(templates: readonly CfnTemplate[]): number {
  return templates
    .flatMap((template) => Object.values(template.Resources))
    .filter((resource) => resource.Type === 'AWS::Events::Rule' && resource.Properties?.EventBusName !== undefined).length;
}

function workflowTypesOf(routing: CfnTemplate, routes: readonly Route[]): Record<string, 'express' | 'standard'> {
  const types: Record<string, 'express' | 'standard'> = {};
  for (const route of routes) {
    for (const target of route.targets) {
      if (target.kind !== 'workflow') continue;
      const prefix = `${targetLogicalIdPrefix(route.name, targetName(target))}StateMachine`;
      const machine = Object.entries(routing.Resources).find(([id, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(prefix))?.[1];
      if (machine) types[`${route.name}/${targetName(target)}`] = machine.Properties?.StateMachineType === 'EXPRESS' ? 'express' : 'standard';
    }
  }
  return types;
}

/** With the stateful and routing templates, the facts include the bus's rule count and the workflows' types. */
export function readCapacityFacts(ingest: CfnTemplate, bus?: { stateful: CfnTemplate; routing: CfnTemplate; routes: readonly Route[] }): CapacityFacts {
  const settings = only(ingest.Resources, 'AWS::ApiGatewayV2::Stage').DefaultRouteSettings as
    | { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }
    | undefined;
  if (settings?.ThrottlingRateLimit === undefined || settings.ThrottlingBurstLimit === undefined) {
    throw new Error('the webhook stage has no throttling settings');
  }
  const reserved = only(ingest.Resources, 'AWS::Lambda::Function', isIngestFunction).ReservedConcurrentExecutions;
  return {
    stageRateLimit: settings.ThrottlingRateLimit,
    stageBurstLimit: settings.ThrottlingBurstLimit,
    ingestReservedConcurrency: typeof reserved === 'number' ? reserved : undefined,
    ...(bus === undefined
      ? {}
      : { busRules: busRuleCount([bus.stateful, bus.routing]), workflowTypes: workflowTypesOf(bus.routing, bus.routes) }),
  };
}

/** A limit and the webhook rate (per second) at which it starts to bind. */
export interface CapacityLimit {
  readonly name: string;
  readonly webhooksPerSecond: number;
  /** What happens to webhooks above it. */
  readonly effect: string;
}

export interface Capacity {
  readonly facts: CapacityFacts;
  /** Webhooks the stage admits in `windowSeconds` starting with a full bucket: burst + rate × window. */
  readonly burstWindowSeconds: number;
  readonly admittedInBurstWindow: number;
  /** What the ingest's concurrency serves per second at the assumed duration. */
  readonly ingestPerSecond: number;
  /** The lowest limit: the sustained rate the defaults accept. */
  readonly sustainedPerSecond: number;
  /** Every limit, lowest first. */
  readonly limits: readonly CapacityLimit[];
}

export interface CapacityAssumptions {
  readonly ingestDurationMs: number;
  /** Share of webhooks each route matches. */
  readonly routeShare: Readonly<Record<string, number>>;
  /** Bytes of one event as the flight recorder puts it on Firehose; without it, no recorder limit is listed. */
  readonly recordedEventBytes?: number;
}

export function estimateCapacity(facts: CapacityFacts, routes: readonly Route[], assumptions: CapacityAssumptions, burstWindowSeconds = 10): Capacity {
  const durationSeconds = assumptions.ingestDurationMs / 1000;
  const concurrency = facts.ingestReservedConcurrency ?? DEFAULT_QUOTAS.lambdaAccountConcurrency;
  const ingestPerSecond = Math.floor(concurrency / durationSeconds);
  const share = (route: Route) => assumptions.routeShare[route.name] ?? 0;
  // Every workflow target of a route starts one execution per matched event; Express and Standard
  // starts are throttled by separate buckets. Without the routing template, a workflow counts as Standard.
  const workflowShare = (type: 'express' | 'standard') =>
    routes.reduce(
      (sum, route) =>
        sum +
        share(route) *
          route.targets.filter((target) => target.kind === 'workflow' && (facts.workflowTypes?.[`${route.name}/${targetName(target)}`] ?? 'standard') === type).length,
      0,
    );
  const limits: CapacityLimit[] = [
    {
      name: `HTTP API stage throttle (${facts.stageRateLimit}/s, burst ${facts.stageBurstLimit})`,
      webhooksPerSecond: facts.stageRateLimit,
      effect: '429, which Fast.io resends',
    },
    {
      name:
        facts.ingestReservedConcurrency === undefined
          ? `Lambda account concurrency (${concurrency}, shared) at ${assumptions.ingestDurationMs} ms per webhook`
          : `ingest reserved concurrency (${concurrency}) at ${assumptions.ingestDurationMs} ms per webhook`,
      webhooksPerSecond: ingestPerSecond,
      effect: 'Lambda throttles the ingest: an error answer Fast.io resends',
    },
    {
      name: `API Gateway account throttle (${DEFAULT_QUOTAS.apiGatewayAccountRps}/s, burst ${DEFAULT_QUOTAS.apiGatewayAccountBurst}, all APIs of the account)`,
      webhooksPerSecond: DEFAULT_QUOTAS.apiGatewayAccountRps,
      effect: '429, which Fast.io resends',
    },
    {
      name: `EventBridge PutEvents (${DEFAULT_QUOTAS.putEventsTps}/s, one per webhook)`,
      webhooksPerSecond: DEFAULT_QUOTAS.putEventsTps,
      effect: 'the ingest answers 503, which Fast.io resends',
    },
  ];
  for (const [type, refill] of [
    ['standard', DEFAULT_QUOTAS.startExecutionRefillPerSecond],
    ['express', DEFAULT_QUOTAS.expressStartExecutionRefillPerSecond],
  ] as const) {
    const typeShare = workflowShare(type);
    if (typeShare <= 0) continue;
    limits.push({
      name: `Step Functions StartExecution, ${type === 'express' ? 'Express' : 'Standard'} (refill ${refill}/s) for the ${(typeShare * 100).toFixed(1)}% of webhooks that start a review`,
      webhooksPerSecond: Math.floor(refill / typeShare),
      effect: 'EventBridge retries the start (up to its 2-hour retry policy), then the target DLQ',
    });
  }
  if (assumptions.recordedEventBytes !== undefined) {
    const byBytes = Math.floor(DEFAULT_QUOTAS.firehoseBytesPerSecond / assumptions.recordedEventBytes);
    limits.push({
      name: `Firehose Direct PUT of the flight recorder (${DEFAULT_QUOTAS.firehoseRequestsPerSecond} requests/s, 5 MiB/s = ${byBytes} events of ${assumptions.recordedEventBytes} bytes)`,
      webhooksPerSecond: Math.min(DEFAULT_QUOTAS.firehoseRequestsPerSecond, byBytes),
      effect: 'EventBridge retries the record (up to its 2-hour retry policy), then the recorder DLQ; routes are not affected',
    });
  }
  for (const route of routes) {
    for (const target of route.targets) {
      if (target.kind !== 'http' || share(route) === 0) continue;
      const rate = target.rateLimitPerSecond ?? DEFAULT_QUOTAS.apiDestinationRatePerSecond;
      limits.push({
        name: `API destination ${route.name}/${targetName(target)} (${rate}/s) for the ${(share(route) * 100).toFixed(1)}% of webhooks its route matches`,
        webhooksPerSecond: Math.floor(rate / share(route)),
        effect: 'EventBridge holds the deliveries back and retries (up to its 2-hour retry policy), then the target DLQ',
      });
    }
  }
  limits.sort((a, b) => a.webhooksPerSecond - b.webhooksPerSecond);
  return {
    facts,
    burstWindowSeconds,
    admittedInBurstWindow: facts.stageBurstLimit + facts.stageRateLimit * burstWindowSeconds,
    ingestPerSecond,
    sustainedPerSecond: limits[0]?.webhooksPerSecond ?? 0,
    limits,
  };
}

/** The capacity section of `npm run cost`, one line each. */
export function capacityLines(capacity: Capacity): string[] {
  const { facts } = capacity;
  const number = (value: number) => value.toLocaleString('en-US');
  return [
    `  burst      the stage admits ${number(facts.stageBurstLimit)} at once and ${number(capacity.admittedInBurstWindow)} within ${capacity.burstWindowSeconds} s (bucket ${number(facts.stageBurstLimit)} + ${number(facts.stageRateLimit)}/s); the ingest serves up to ${number(capacity.ingestPerSecond)}/s of them`,
    `  sustained  ${number(capacity.sustainedPerSecond)} webhooks/s`,
    ...(facts.busRules === undefined
      ? []
      : [`  rules      ${number(facts.busRules)} rules on the bus (AWS::Events::Rule in the templates) of ${number(DEFAULT_QUOTAS.rulesPerBus)} per bus (default quota): ${number(DEFAULT_QUOTAS.rulesPerBus - facts.busRules)} left`]),
    '  binds first, as the rate grows:',
    ...capacity.limits.map((limit, index) => `    ${index + 1}. ${number(limit.webhooksPerSecond).padStart(7)}/s  ${limit.name}: ${limit.effect}`),
  ];
}
