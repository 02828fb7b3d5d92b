/**
 * AWS cost of this deployment per million webhooks and per month, by service, beside the same
 * figures for AWS's published inbound-webhook design (a Lambda function URL that verifies and calls
 * PutEvents), so the price of the API, the buffer, the consumers and the workflow is visible.
 * Pure arithmetic over the template facts, the price list and the written-down assumptions.
 */
import type { RouteFacts, TemplateFacts } from './template-facts';

export type Prices = typeof import('./aws-prices.json');
export type Assumptions = typeof import('./assumptions.json');

export interface CostLine {
  readonly service: string;
  readonly item: string;
  /** USD per million webhooks. */
  readonly perMillion: number;
}

export interface FixedLine {
  readonly service: string;
  readonly item: string;
  readonly perMonth: number;
}

export interface CostEstimate {
  readonly variable: readonly CostLine[];
  readonly fixed: readonly FixedLine[];
}

const MILLION = 1_000_000;
const GB = 1_000_000_000;
const SECRET_REFRESHES_PER_MONTH = 30 * 24 * 12; // one read per container every 5 minutes

/** Writes the consumers make per event, read from their code (lambdas/*): see README "Performance and cost". */
const IDEMPOTENCY_WRITES = 2; // Powertools: PutItem INPROGRESS, then UpdateItem COMPLETED
const CATALOG_WRITES = 1; // one conditional UpdateItem of a small item
// RecordPendingReview and MarkReviewed on the catalog; ClaimEvent, MarkNotified and MarkCompleted on the review guard.
const WORKFLOW_WRITES = 5;

const chunks = (bytes: number, chunk: number) => Math.max(1, Math.ceil(bytes / chunk));

function lambdaCost(prices: Prices, invocationsPerEvent: number, memoryMb: number, durationMs: number): number {
  const gbSeconds = (memoryMb / 1024) * (durationMs / 1000);
  return invocationsPerEvent * (prices.lambdaArm.perMillionRequests + MILLION * gbSeconds * prices.lambdaArm.perGbSecond);
}

function routeLines(route: RouteFacts, prices: Prices, assumptions: Assumptions): { lines: CostLine[]; invocationsPerEvent: number } {
  const share = (assumptions.routeShare.value as Record<string, number>)[route.name] ?? 0;
  const payload = assumptions.payloadBytes.value;
  const durations = assumptions.durationMs.value;
  const writeUnits = (writes: number) => share * writes * prices.dynamoDbOnDemand.perMillionWriteUnits;
  const label = `route ${route.name} (${Math.round(share * 1000) / 10}% of webhooks)`;
  switch (route.kind) {
    case 'queue': {
      const batch = assumptions.consumerBatchSize.value;
      const invocations = share / batch;
      const sqsRequests = share * chunks(payload, prices.sqs.requestChunkBytes) + (2 * share) / batch; // send; receive + delete per batch
      return {
        invocationsPerEvent: invocations,
        lines: [
          { service: 'SQS', item: `${label}: send, receive, delete`, perMillion: sqsRequests * prices.sqs.perMillionRequests },
          { service: 'Lambda', item: `${label}: consumer batches`, perMillion: lambdaCost(prices, invocations, route.consumerMemoryMb ?? 128, durations['catalog-consumer-batch']) },
          { service: 'DynamoDB', item: `${label}: catalog + idempotency writes`, perMillion: writeUnits(CATALOG_WRITES + IDEMPOTENCY_WRITES) },
        ],
      };
    }
    case 'function': {
      const auditWrites = chunks(payload + 300, prices.dynamoDbOnDemand.writeUnitBytes);
      return {
        invocationsPerEvent: share,
        lines: [
          { service: 'Lambda', item: `${label}: async invocations`, perMillion: lambdaCost(prices, share, route.consumerMemoryMb ?? 128, durations['agent-audit']) },
          { service: 'DynamoDB', item: `${label}: audit + idempotency writes`, perMillion: writeUnits(auditWrites + IDEMPOTENCY_WRITES) },
        ],
      };
    }
    case 'workflow': {
      const transitions = route.workflowTransitions ?? 0;
      const emails = assumptions.alarmEmailSubscribed.value ? share * (MILLION / 100_000) * prices.sns.perHundredThousandEmails : 0;
      return {
        invocationsPerEvent: 0,
        lines: [
          { service: 'Step Functions', item: `${label}: ${transitions} transitions each`, perMillion: share * transitions * (MILLION / 1000) * prices.stepFunctionsStandard.perThousandTransitions },
          { service: 'DynamoDB', item: `${label}: review status and guard writes`, perMillion: writeUnits(WORKFLOW_WRITES) },
          { service: 'SNS', item: `${label}: notification${emails ? ' + email' : ''}`, perMillion: share * prices.sns.perMillionPublishes + emails },
        ],
      };
    }
    default:
      throw new Error(`route ${route.name}: ${route.kind} targets are not priced yet`);
  }
}

function secretsFixed(prices: Prices, assumptions: Assumptions): FixedLine[] {
  const calls = assumptions.warmIngestContainers.value * SECRET_REFRESHES_PER_MONTH;
  return [
    { service: 'Secrets Manager', item: 'signing secret', perMonth: prices.secretsManager.perSecretMonth },
    { service: 'Secrets Manager', item: `${calls.toLocaleString('en-US')} cached reads`, perMonth: (calls / 10_000) * prices.secretsManager.perTenThousandCalls },
  ];
}

export function estimateDesign(facts: TemplateFacts, prices: Prices, assumptions: Assumptions): CostEstimate {
  const payload = assumptions.payloadBytes.value;
  const payloadGb = (MILLION * payload) / GB;
  const variable: CostLine[] = [
    { service: 'API Gateway (HTTP API)', item: 'webhook requests', perMillion: chunks(payload, prices.httpApi.requestChunkBytes) * prices.httpApi.perMillionRequests },
    { service: 'Lambda', item: `ingest at ${facts.ingestMemoryMb} MB`, perMillion: lambdaCost(prices, 1, facts.ingestMemoryMb, assumptions.durationMs.value.ingest) },
    { service: 'EventBridge', item: 'custom events published', perMillion: chunks(payload, prices.eventBridge.eventChunkBytes) * prices.eventBridge.perMillionCustomEvents },
    { service: 'EventBridge', item: 'archive processing', perMillion: payloadGb * prices.eventBridge.archivePerGbProcessed },
    {
      service: 'EventBridge',
      item: `archive storage (${facts.archiveRetentionDays} days retained)`,
      perMillion: payloadGb * (facts.archiveRetentionDays / 30) * prices.eventBridge.archivePerGbMonthStored,
    },
  ];
  let consumerInvocations = 0;
  for (const route of facts.routes) {
    const { lines, invocationsPerEvent } = routeLines(route, prices, assumptions);
    variable.push(...lines);
    consumerInvocations += invocationsPerEvent;
  }
  const invocations = 1 + consumerInvocations;
  variable.push(
    { service: 'X-Ray', item: 'sampled traces', perMillion: invocations * assumptions.xraySampledShare.value * prices.xray.perMillionTracesRecorded },
    { service: 'CloudWatch', item: 'function logs', perMillion: ((invocations * MILLION * assumptions.logBytesPerInvocation.value) / GB) * prices.cloudWatchLogs.perGbIngested },
  );
  const fixed: FixedLine[] = [
    ...secretsFixed(prices, assumptions),
    { service: 'SQS', item: `idle polling of ${facts.bufferQueues} buffer queue(s)`, perMonth: (facts.bufferQueues * assumptions.sqsIdlePollRequestsPerMonth.value * prices.sqs.perMillionRequests) / MILLION },
    { service: 'KMS', item: `${facts.kmsKeys} customer-managed key(s)`, perMonth: facts.kmsKeys * prices.kms.perKeyMonth },
    { service: 'CloudWatch', item: `${facts.alarms} alarms, ${facts.dashboards} dashboard(s)`, perMonth: facts.alarms * prices.cloudWatch.perAlarmMonth + facts.dashboards * prices.cloudWatch.perDashboardMonth },
  ];
  return { variable, fixed: fixed.filter((line) => line.perMonth > 0) };
}

/** AWS's inbound-webhook pattern: function URL (no charge) → Lambda verifies → PutEvents. No API, archive, routing or consumers. */
export function estimateDirectWebhook(facts: TemplateFacts, prices: Prices, assumptions: Assumptions): CostEstimate {
  const payload = assumptions.payloadBytes.value;
  return {
    variable: [
      { service: 'Lambda', item: `function URL handler at ${facts.ingestMemoryMb} MB`, perMillion: lambdaCost(prices, 1, facts.ingestMemoryMb, assumptions.durationMs.value['direct-webhook']) },
      { service: 'EventBridge', item: 'custom events published', perMillion: chunks(payload, prices.eventBridge.eventChunkBytes) * prices.eventBridge.perMillionCustomEvents },
      { service: 'CloudWatch', item: 'function logs', perMillion: ((MILLION * assumptions.logBytesPerInvocation.value) / GB) * prices.cloudWatchLogs.perGbIngested },
    ],
    fixed: secretsFixed(prices, assumptions),
  };
}

export interface ServiceTotal {
  readonly service: string;
  readonly perMillion: number;
  readonly perMonth: number;
}

/** Sums an estimate by service for a monthly volume: variable cost scales, fixed cost does not. */
export function totalsByService(estimate: CostEstimate, eventsPerMonth: number): ServiceTotal[] {
  const totals = new Map<string, { perMillion: number; fixed: number }>();
  for (const line of estimate.variable) {
    const entry = totals.get(line.service) ?? { perMillion: 0, fixed: 0 };
    entry.perMillion += line.perMillion;
    totals.set(line.service, entry);
  }
  for (const line of estimate.fixed) {
    const entry = totals.get(line.service) ?? { perMillion: 0, fixed: 0 };
    entry.fixed += line.perMonth;
    totals.set(line.service, entry);
  }
  return [...totals].map(([service, { perMillion, fixed }]) => ({ service, perMillion, perMonth: (perMillion * eventsPerMonth) / MILLION + fixed }));
}
