/**
 * Example function target behind the agent-activity route: an audit trail of what each AI agent
 * did in Fast.io, one DynamoDB item per action.
 *
 * Table: partition key `agentId`, sort key `occurredAtEventId` = `<occurredAt>#<eventId>`, so
 * "what did agent X do, in time order" is one Query (add a `begins_with`/`BETWEEN` on the sort key
 * for a time window). `occurredAt` is normalized to `toISOString()` form, so string order is time
 * order. Items expire through the TTL attribute `expiresAt` (epoch seconds) AUDIT_RETENTION_DAYS
 * (default 90) after they were recorded.
 *
 * Delivery: EventBridge invokes this function asynchronously with one event. Any error is thrown:
 * Lambda retries the async invocation and then hands the original event to the on-failure
 * destination. An event without `detail.agentId` is such an error.
 *
 * Idempotent twice over: Powertools Idempotency on `detail.eventId` skips events already recorded
 * (records expire after IDEMPOTENCY_EXPIRY_DAYS, default 7), and the write itself is
 * create-only (`attribute_not_exists`) on a key derived from the event, so a late duplicate never
 * rewrites an audit entry or extends its retention.
 */
import { getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PutCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import {
  eventTime,
  FastioEventError,
  parseFastioEvent,
  requireDetailField,
} from '../shared/fastio-event';
import type { FastioEvent } from '../shared/fastio-event';
import { readPayload } from '../shared/fastio-body';
import { idempotencyConfig, idempotencyKeyPrefix, persistenceStore } from '../shared/idempotency';
import { MetricName } from '../shared/metric-names';
import { logger, metrics } from '../shared/powertools';

// ---- configuration, read once per container (a bad value fails the cold start) -----------------
const positive = (key: string, value: number): number => {
  if (!(value > 0)) throw new Error(`${key} must be a positive number (got ${value})`);
  return value;
};
const auditTableName = getStringFromEnv({ key: 'AUDIT_TABLE_NAME' });
const retentionDays = positive(
  'AUDIT_RETENTION_DAYS',
  getNumberFromEnv({ key: 'AUDIT_RETENTION_DAYS', defaultValue: 90 }),
);

// ---- clients and Powertools utilities, created once per container ------------------------------
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/** Verbatim payloads above this size are not stored (a DynamoDB item is at most 400 KB). */
export const MAX_STORED_PAYLOAD_BYTES = 300_000;

export type AuditOutcome = 'recorded' | 'alreadyRecorded';

/**
 * The audit item for one event. Pure, so the exact request is easy to check. `payload` is the
 * verbatim payload (inline, or read back from a claim-checked body), or undefined when a
 * claim-checked body is too large to store and was not read.
 */
export const buildAuditPut = (
  event: FastioEvent,
  tableName: string,
  nowMillis: number,
  retentionDaysValue: number,
  payload: Record<string, unknown> | undefined = event.detail.payload,
): PutCommandInput => {
  const { detail } = event;
  const agentId = requireDetailField(event, 'agentId');
  const occurredAt = eventTime(event);
  const item: Record<string, unknown> = {
    agentId,
    occurredAtEventId: `${occurredAt}#${detail.eventId}`,
    occurredAt,
    eventId: detail.eventId,
    eventType: detail.eventType,
    recordedAt: new Date(nowMillis).toISOString(),
    expiresAt: Math.floor(nowMillis / 1000) + Math.round(retentionDaysValue * 24 * 60 * 60),
  };
  for (const attr of ['workspaceId', 'fileId', 'fileName', 'extension', 'sizeBytes'] as const) {
    if (detail[attr] !== undefined) item[attr] = detail[attr];
  }
  if (event['replay-name'] !== undefined) item.replayName = event['replay-name'];
  if (payload !== undefined) {
    const payloadJson = JSON.stringify(payload);
    const payloadBytes = Buffer.byteLength(payloadJson, 'utf8');
    if (payloadBytes <= MAX_STORED_PAYLOAD_BYTES) item.payload = payloadJson;
    else item.payloadOmittedBytes = payloadBytes;
  } else if (detail.bodyRef !== undefined) {
    item.payloadOmittedBytes = detail.bodyRef.sizeBytes;
  }
  // Where the raw body is while the claim-check bucket keeps it (archive retention + 14 days).
  if (detail.bodyRef !== undefined) item.bodyRef = { ...detail.bodyRef };
  return {
    TableName: tableName,
    Item: item,
    ConditionExpression: 'attribute_not_exists(#agentId)',
    ExpressionAttributeNames: { '#agentId': 'agentId' },
  };
};

/** The work for one event; its return value is what the idempotency record stores. */
const recordAgentAction = async (event: FastioEvent): Promise<AuditOutcome> => {
  const agentId = requireDetailField(event, 'agentId');
  const { bodyRef } = event.detail;
  // A claim-checked body too large to store is not worth reading; its size is in the reference.
  const payload = bodyRef !== undefined && bodyRef.sizeBytes > MAX_STORED_PAYLOAD_BYTES ? undefined : await readPayload(event.detail);
  const put = buildAuditPut(event, auditTableName, Date.now(), retentionDays, payload);
  const logAttributes = {
    eventId: event.detail.eventId,
    eventType: event.detail.eventType,
    agentId,
    occurredAtEventId: put.Item?.occurredAtEventId,
    replayName: event['replay-name'],
  };
  try {
    await documentClient.send(new PutCommand(put));
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
    logger.info('Agent action already recorded; nothing to do', logAttributes);
    return 'alreadyRecorded';
  }
  logger.info('Agent action recorded', logAttributes);
  // One metric per agent: a single-metric instance flushes at once with its own dimension.
  const perAgent = metrics.singleMetric();
  perAgent.addDimension('AgentId', agentId);
  perAgent.addMetric(MetricName.agentActionRecorded, MetricUnit.Count, 1);
  return 'recorded';
};

const recordAgentActionOnce = makeIdempotent(recordAgentAction, {
  persistenceStore,
  config: idempotencyConfig,
  keyPrefix: idempotencyKeyPrefix,
});

export const handler = async (input: unknown, context: Context): Promise<AuditOutcome> => {
  logger.addContext(context);
  idempotencyConfig.registerLambdaContext(context);
  let event: FastioEvent;
  try {
    event = parseFastioEvent(input);
    // Checked before the idempotency layer so an event that can never succeed is not recorded.
    requireDetailField(event, 'agentId');
  } catch (error) {
    logger.error('Malformed agent event rejected; Lambda retries it, then sends it to the on-failure destination', {
      eventBridgeId: typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined,
      field: error instanceof FastioEventError ? error.field : undefined,
      error: error as Error,
    });
    throw error;
  }
  try {
    return await recordAgentActionOnce(event);
  } catch (error) {
    logger.error('Recording agent action failed; Lambda will retry the event', {
      eventId: event.detail.eventId,
      agentId: event.detail.agentId,
      error: error as Error,
    });
    throw error;
  }
};
