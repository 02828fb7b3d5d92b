/**
 * AWS cost of this deployment per million webhooks and per month, by service, beside the same
 * figures for AWS's published inbound-webhook design (a Lambda function URL that verifies and calls
 * PutEvents), so the price of the API, the buffer, the consumers and the workflow is visible.
 * Pure arithmetic over the template facts, the price list and the written-down assumptions.
 */
import type { RecorderFacts, TargetFacts, TemplateFacts } from './template-facts';

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
const TB = 1_000_000_000_000;
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const SECRET_REFRESHES_PER_MONTH = 30 * 24 * 12; // one read per container every 5 minutes

/** Writes the consumers make per event, read from their code (lambdas/*): see README "Performance and cost". */
const IDEMPOTENCY_WRITES = 2; // Powertools: PutItem INPROGRESS, then UpdateItem COMPLETED
const SMALL_ITEM_WRITES = 1; // one conditional UpdateItem or PutItem of a small item (the catalog consumer)
/** A record that keeps the verbatim payload (the audit consumer) besides ~300 bytes of fields. */
const RECORD_OVERHEAD_BYTES = 300;
const WRITE_ACTIONS = new Set(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem']);
// RecordPendingReview and MarkReviewed on the catalog; ClaimEvent, MarkNotified and MarkCompleted on the review guard.
const REVIEW_WORKFLOW_WRITES = 5;

const chunks = (bytes: number, chunk: number) => Math.max(1, Math.ceil(bytes / chunk));

function lambdaCost(prices: Prices, invocationsPerEvent: number, memoryMb: number, durationMs: number): number {
  const gbSeconds = (memoryMb / 1024) * (durationMs / 1000);
  return invocationsPerEvent * (prices.lambdaArm.perMillionRequests + MILLION * gbSeconds * prices.lambdaArm.perGbSecond);
}

/** Billed milliseconds of one invocation of a consumer: `<consumer>-batch` for queue consumers, `<consumer>` for functions. */
function consumerDuration(assumptions: Assumptions, consumer: string, batch: boolean): number {
  const durations = assumptions.durationMs.value as Record<string, number>;
  return (batch ? durations[`${consumer}-batch`] : undefined) ?? durations[consumer] ?? (batch ? durations['catalog-consumer-batch'] : durations['agent-audit']);
}

/** DynamoDB write units of one event: idempotency records plus one write per table the handler declares it writes. */
function consumerWrites(target: TargetFacts, payload: number, prices: Prices): number {
  const access = 'consumer' in target.target ? target.target.access : undefined;
  const perTable = access?.readsBodies ? chunks(payload + RECORD_OVERHEAD_BYTES, prices.dynamoDbOnDemand.writeUnitBytes) : SMALL_ITEM_WRITES;
  const tables = (access?.tables ?? []).filter((table) => table.actions.some((action) => WRITE_ACTIONS.has(action))).length;
  return IDEMPOTENCY_WRITES + tables * perTable;
}

/**
 * One own workflow's executions: Standard per state transition; Express per start and per
 * GB-second of its billed duration (rounded up to 100 ms) at its billed memory (64 MB chunks).
 */
function workflowLine(target: TargetFacts, label: string, share: number, prices: Prices, assumptions: Assumptions): CostLine {
  if (target.workflowType === 'express') {
    const express = prices.stepFunctionsExpress;
    const durationMs = (assumptions.workflowDurationMs.value as Record<string, number>)[target.target.kind === 'workflow' && 'workflow' in target.target ? target.target.workflow : ''] ?? express.durationIncrementMs;
    const billedSeconds = (Math.ceil(durationMs / express.durationIncrementMs) * express.durationIncrementMs) / 1000;
    const gbSeconds = (express.billedMemoryMb / 1024) * billedSeconds;
    return {
      service: 'Step Functions',
      item: `${label}: Express, ${billedSeconds} s at ${express.billedMemoryMb} MB each`,
      perMillion: share * (express.perMillionRequests + MILLION * gbSeconds * (express.perGbHour / 3600)),
    };
  }
  const transitions = target.workflowTransitions ?? 0;
  return { service: 'Step Functions', item: `${label}: Standard, ${transitions} transitions each`, perMillion: share * transitions * (MILLION / 1000) * prices.stepFunctionsStandard.perThousandTransitions };
}

/**
 * The claim-check bucket per million webhooks: one PUT per large body, one GET per target that
 * reads bodies, and the bodies stored for the bucket's lifecycle (retention/30 months of them at a
 * steady volume).
 */
function bodyBucketLines(facts: TemplateFacts, prices: Prices, assumptions: Assumptions): CostLine[] {
  if (!facts.bodyBucket) return [];
  const { share, bytes } = assumptions.claimCheckedBodies.value;
  const routeShare = assumptions.routeShare.value as Record<string, number>;
  const reads = facts.targets.filter((target) => 'consumer' in target.target && target.target.access?.readsBodies).reduce((sum, target) => sum + (routeShare[target.route] ?? 0), 0);
  const bodies = MILLION * share;
  return [
    { service: 'S3', item: `body bucket: ${share * 100}% of bodies claim-checked, PUT + GET by readers`, perMillion: (bodies / 1000) * (prices.s3Standard.perThousandPuts + reads * prices.s3Standard.perThousandGets) },
    { service: 'S3', item: `body bucket storage (${facts.bodyBucket.retentionDays} days retained)`, perMillion: ((bodies * bytes) / GB) * (facts.bodyBucket.retentionDays / 30) * prices.s3Standard.perGbMonth },
  ];
}

/** Every target of a route receives every event the route matches. */
function targetLines(target: TargetFacts, prices: Prices, assumptions: Assumptions): { lines: CostLine[]; invocationsPerEvent: number } {
  const share = (assumptions.routeShare.value as Record<string, number>)[target.route] ?? 0;
  const payload = assumptions.payloadBytes.value;
  const writeUnits = (writes: number) => share * writes * prices.dynamoDbOnDemand.perMillionWriteUnits;
  const label = `route ${target.route}/${target.name} (${Math.round(share * 1000) / 10}% of webhooks)`;
  const spec = target.target;
  const eventChunks = chunks(payload, prices.eventBridge.eventChunkBytes);
  switch (spec.kind) {
    case 'queue': {
      if (!('consumer' in spec)) {
        return { invocationsPerEvent: 0, lines: [{ service: 'SQS', item: `${label}: send to ${spec.queueArn}`, perMillion: share * chunks(payload, prices.sqs.requestChunkBytes) * prices.sqs.perMillionRequests }] };
      }
      const batch = assumptions.consumerBatchSize.value;
      const invocations = share / batch;
      const sqsRequests = share * chunks(payload, prices.sqs.requestChunkBytes) + (2 * share) / batch; // send; receive + delete per batch
      return {
        invocationsPerEvent: invocations,
        lines: [
          { service: 'SQS', item: `${label}: send, receive, delete`, perMillion: sqsRequests * prices.sqs.perMillionRequests },
          { service: 'Lambda', item: `${label}: consumer batches`, perMillion: lambdaCost(prices, invocations, target.consumerMemoryMb ?? 128, consumerDuration(assumptions, spec.consumer, true)) },
          { service: 'DynamoDB', item: `${label}: table + idempotency writes`, perMillion: writeUnits(consumerWrites(target, payload, prices)) },
        ],
      };
    }
    case 'function': {
      if (!('consumer' in spec)) {
        // Its duration is its owner's bill; the invoke request is what this route adds.
        return { invocationsPerEvent: 0, lines: [{ service: 'Lambda', item: `${label}: async invokes of ${spec.functionArn} (requests only)`, perMillion: share * prices.lambdaArm.perMillionRequests }] };
      }
      return {
        invocationsPerEvent: share,
        lines: [
          { service: 'Lambda', item: `${label}: async invocations`, perMillion: lambdaCost(prices, share, target.consumerMemoryMb ?? 128, consumerDuration(assumptions, spec.consumer, false)) },
          { service: 'DynamoDB', item: `${label}: table + idempotency writes`, perMillion: writeUnits(consumerWrites(target, payload, prices)) },
        ],
      };
    }
    case 'workflow': {
      if (!('workflow' in spec)) {
        return { invocationsPerEvent: 0, lines: [{ service: 'Step Functions', item: `${label}: executions of ${spec.stateMachineArn} (billed to that workflow, not counted)`, perMillion: 0 }] };
      }
      const lines: CostLine[] = [workflowLine(target, label, share, prices, assumptions)];
      if (spec.workflow === 'review') {
        const emails = assumptions.alarmEmailSubscribed.value ? share * (MILLION / 100_000) * prices.sns.perHundredThousandEmails : 0;
        lines.push(
          { service: 'DynamoDB', item: `${label}: review status and guard writes`, perMillion: writeUnits(REVIEW_WORKFLOW_WRITES) },
          { service: 'SNS', item: `${label}: notification${emails ? ' + email' : ''}`, perMillion: share * prices.sns.perMillionPublishes + emails },
        );
      }
      return { invocationsPerEvent: 0, lines };
    }
    case 'topic': {
      const publishes = share * chunks(payload, prices.sns.publishChunkBytes) * prices.sns.perMillionPublishes;
      const subscriptions = spec.subscriptions ?? [];
      const emails = subscriptions.filter((subscription) => 'email' in subscription).length;
      const https = subscriptions.filter((subscription) => 'url' in subscription).length;
      const deliveries = share * MILLION * ((emails * prices.sns.perHundredThousandEmails) / 100_000 + (https * prices.sns.perMillionHttpNotifications) / MILLION);
      return {
        invocationsPerEvent: 0,
        lines: [
          // SNS to SQS and Lambda subscriptions is not charged.
          { service: 'SNS', item: `${label}: publish${subscriptions.length > 0 ? ` + ${emails} email and ${https} https deliveries` : ''}`, perMillion: publishes + deliveries },
        ],
      };
    }
    case 'http':
      return { invocationsPerEvent: 0, lines: [{ service: 'EventBridge', item: `${label}: API destination invocations`, perMillion: share * eventChunks * prices.eventBridge.perMillionApiDestinationInvocations }] };
    case 'bus':
      // Events to a bus of another account or Region are billed as custom events; to a bus of this account and Region they are not.
      return { invocationsPerEvent: 0, lines: [{ service: 'EventBridge', item: `${label}: events to ${spec.eventBusArn} (as custom events)`, perMillion: share * eventChunks * prices.eventBridge.perMillionCustomEvents }] };
  }
}

/**
 * The flight recorder per million webhooks: Firehose bills each record rounded up to 5 KB, S3 keeps
 * the gzip objects for their lifecycle (at a steady volume, retention/30 months of records are
 * stored at any time), and Athena bills the compressed bytes its queries' partitions hold. The 10 MB
 * Athena minimum per query and the query results are left out: cents a month.
 */
function recorderLines(recorder: RecorderFacts, prices: Prices, assumptions: Assumptions): { variable: CostLine[]; fixed: FixedLine[] } {
  const eventBytes = assumptions.payloadBytes.value + assumptions.eventEnvelopeBytes.value;
  const storedGbPerMillion = (MILLION * eventBytes * assumptions.recorderGzipRatio.value) / GB;
  const { perMonth: queries, windowHours } = assumptions.recorderQueries.value;
  const objectsPerMonth = SECONDS_PER_MONTH / Math.max(1, recorder.bufferingIntervalSeconds);
  return {
    variable: [
      {
        service: 'Firehose',
        item: 'recorder ingestion (each record billed as a multiple of 5 KB)',
        perMillion: ((MILLION * chunks(eventBytes, prices.firehose.recordChunkBytes) * prices.firehose.recordChunkBytes) / GB) * prices.firehose.perGbIngested,
      },
      {
        service: 'S3',
        item: `recorder storage (gzip, ${recorder.retentionDays} days retained)`,
        perMillion: storedGbPerMillion * (recorder.retentionDays / 30) * prices.s3Standard.perGbMonth,
      },
      {
        service: 'Athena',
        item: `${queries} recorder queries a month over ${windowHours} h of records each`,
        perMillion: queries * (windowHours / (SECONDS_PER_MONTH / 3600)) * ((storedGbPerMillion * GB) / TB) * prices.athena.perTbScanned,
      },
    ],
    fixed: [
      {
        service: 'S3',
        item: `recorder objects (one per ${recorder.bufferingIntervalSeconds} s buffer)`,
        perMonth: (objectsPerMonth / 1000) * prices.s3Standard.perThousandPuts,
      },
    ],
  };
}

/**
 * The bus's own logs (decision 15: the evidence reconcile reads for targets outside the project),
 * delivered to the recorder bucket as vended logs: billed per GB delivered, then stored gzip for
 * the bucket's lifecycle like the recorded events. Every target an event reaches adds records,
 * the recorder's included. Not written at all when the bus logs nothing.
 */
function busLogLines(facts: TemplateFacts, prices: Prices, assumptions: Assumptions): CostLine[] {
  if (facts.busLog === undefined) return [];
  const routeShare = assumptions.routeShare.value as Record<string, number>;
  const targetsReached = (facts.recorder ? 1 : 0) + facts.targets.reduce((sum, target) => sum + (routeShare[target.route] ?? 0), 0);
  const { perEvent, perTarget } = assumptions.busLogRecordsAtInfo.value;
  // At ERROR a first-attempt delivery writes nothing; TRACE writes more than INFO, priced as INFO (a floor).
  const records = facts.busLog.level === 'ERROR' ? 0 : perEvent + perTarget * targetsReached;
  const deliveredGbPerMillion = (MILLION * records * assumptions.busLogRecordBytes.value) / GB;
  const retentionDays = facts.recorder?.retentionDays ?? 0;
  return [
    {
      service: 'CloudWatch',
      item: `bus logs at ${facts.busLog.level}: ${Math.round(records * 100) / 100} records a webhook delivered to S3 (vended logs)`,
      perMillion: deliveredGbPerMillion * prices.vendedLogs.perGbDeliveredToS3,
    },
    {
      service: 'S3',
      item: `bus log storage (gzip, ${retentionDays} days retained)`,
      perMillion: deliveredGbPerMillion * assumptions.recorderGzipRatio.value * (retentionDays / 30) * prices.s3Standard.perGbMonth,
    },
  ];
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
    ...(facts.dedupeWindowHours > 0
      ? [
          {
            service: 'DynamoDB',
            item: `resend dedupe: conditional claim + mark (${assumptions.dedupeWritesPerWebhook.value} writes a webhook)`,
            perMillion: assumptions.dedupeWritesPerWebhook.value * prices.dynamoDbOnDemand.perMillionWriteUnits,
          },
        ]
      : []),
    { service: 'EventBridge', item: 'custom events published', perMillion: chunks(payload, prices.eventBridge.eventChunkBytes) * prices.eventBridge.perMillionCustomEvents },
    { service: 'EventBridge', item: 'archive processing', perMillion: payloadGb * prices.eventBridge.archivePerGbProcessed },
    {
      service: 'EventBridge',
      item: `archive storage (${facts.archiveRetentionDays} days retained)`,
      perMillion: payloadGb * (facts.archiveRetentionDays / 30) * prices.eventBridge.archivePerGbMonthStored,
    },
  ];
  let consumerInvocations = 0;
  for (const target of facts.targets) {
    const { lines, invocationsPerEvent } = targetLines(target, prices, assumptions);
    variable.push(...lines);
    consumerInvocations += invocationsPerEvent;
  }
  const invocations = 1 + consumerInvocations;
  variable.push(
    { service: 'X-Ray', item: 'sampled traces', perMillion: invocations * assumptions.xraySampledShare.value * prices.xray.perMillionTracesRecorded },
    { service: 'CloudWatch', item: 'function logs', perMillion: ((invocations * MILLION * assumptions.logBytesPerInvocation.value) / GB) * prices.cloudWatchLogs.perGbIngested },
  );
  const recorder = facts.recorder ? recorderLines(facts.recorder, prices, assumptions) : { variable: [], fixed: [] };
  variable.push(...recorder.variable, ...busLogLines(facts, prices, assumptions), ...bodyBucketLines(facts, prices, assumptions));
  const fixed: FixedLine[] = [
    ...secretsFixed(prices, assumptions),
    ...recorder.fixed,
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
