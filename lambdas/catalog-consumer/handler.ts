/**
 * Example queue consumer behind the documents route: keeps a catalog with one DynamoDB item per
 * Fast.io file (partition key `workspaceId`, sort key `fileId`).
 *
 * Delivery: rule ▶ SQS buffer ▶ this function (batches, partial batch responses). Each SQS message
 * body is the whole EventBridge event. One bad message fails alone; the rest of the batch succeeds.
 *
 * Safe under duplicates, out-of-order delivery and archive replays, by two independent layers:
 *
 * 1. Powertools Idempotency, keyed on `detail.eventId` (the id the ingest normalized), records each
 *    event whose catalog work completed. A duplicate or replay of a completed event does nothing.
 *    A failed attempt deletes its record, so the next delivery (SQS retry, redrive, replay) redoes it.
 *    Records expire after IDEMPOTENCY_EXPIRY_DAYS (default 7): long enough to cover an incident
 *    replay of "the last few days"; replaying older events is still correct thanks to layer 2,
 *    it just costs a conditional write per event.
 * 2. Every catalog write is conditional on event order, so state only moves forward. Events are
 *    ordered by (event time, event id): Fast.io times have whole seconds and SQS does not keep order,
 *    so two events for one file in the same second are common, and the stored `lastEventId` breaks
 *    the tie the same way whichever arrives first (Fast.io's ids are time-ordered, so the later id wins).
 *    - create/update/upload/...: applied when the file is unknown, or when it is not deleted and the
 *      stored (`lastEventAt`, `lastEventId`) is before this event's.
 *    - delete: applied when the file is unknown (the item becomes a tombstone), when it is not yet
 *      deleted (whatever the times), or when the stored delete is before it.
 *    Fast.io file ids are not reused, so deletion is final: a create/update that arrives after the
 *    delete is skipped even if its timestamp is newer (clock skew between Fast.io services must not
 *    resurrect a deleted file). This makes the final state independent of arrival order.
 *    A write whose condition fails is a success ("stale, skipped": log + metric), not a retry.
 *
 * Event time is `detail.occurredAt`, else EventBridge's `time`, normalized to
 * `toISOString()` form so that DynamoDB's string `<` is a time comparison.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  eventTime,
  FastioEventError,
  parseFastioEventJson,
  requireDetailField,
} from '../shared/fastio-event';
import type { FastioEvent } from '../shared/fastio-event';
import { idempotencyConfig, idempotencyKeyPrefix, persistenceStore } from '../shared/idempotency';
import { MetricName } from '../shared/metric-names';
import { logger, metrics } from '../shared/powertools';

// ---- configuration, read once per container (a missing variable fails the cold start) ----------
const catalogTableName = getStringFromEnv({ key: 'CATALOG_TABLE_NAME' });

// ---- clients and Powertools utilities, created once per container ------------------------------
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const processor = new BatchProcessor(EventType.SQS);

/** Event types that mark a file deleted. Everything else on this route upserts the file. */
export const DELETE_EVENT_TYPES: ReadonlySet<string> = new Set(['file.deleted']);

/** The stored event is before this one: an earlier time, or the same second and a smaller event id. */
const STORED_IS_BEFORE = '(#lastEventAt < :eventAt OR (#lastEventAt = :eventAt AND #lastEventId < :eventId))';
/** Non-delete events: new file, or a later event for a file that is not deleted. */
export const UPSERT_CONDITION = `attribute_not_exists(#lastEventAt) OR (#deleted = :false AND ${STORED_IS_BEFORE})`;
/** Deletes: new file (tombstone), file not deleted yet (any time), or a later delete. */
export const DELETE_CONDITION = `attribute_not_exists(#lastEventAt) OR #deleted = :false OR ${STORED_IS_BEFORE}`;

export type CatalogOutcome = 'updated' | 'stale';

/** The conditional UpdateItem for one event. Pure, so the exact request is easy to check. */
export const buildCatalogUpdate = (event: FastioEvent, tableName: string): UpdateCommandInput => {
  const { detail } = event;
  const deleted = DELETE_EVENT_TYPES.has(detail.eventType);
  const names: Record<string, string> = {
    '#lastEventType': 'lastEventType',
    '#lastEventAt': 'lastEventAt',
    '#lastEventId': 'lastEventId',
    '#deleted': 'deleted',
  };
  const values: Record<string, unknown> = {
    ':eventType': detail.eventType,
    ':eventAt': eventTime(event),
    ':eventId': detail.eventId,
    ':deleted': deleted,
    ':false': false,
  };
  const sets = [
    '#lastEventType = :eventType',
    '#lastEventAt = :eventAt',
    '#lastEventId = :eventId',
    '#deleted = :deleted',
  ];
  // File attributes the event carries; absent ones keep their stored value.
  for (const attr of ['fileName', 'extension', 'sizeBytes'] as const) {
    const value = detail[attr];
    if (value === undefined) continue;
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    sets.push(`#${attr} = :${attr}`);
  }
  return {
    TableName: tableName,
    Key: {
      workspaceId: requireDetailField(event, 'workspaceId'),
      fileId: requireDetailField(event, 'fileId'),
    },
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: deleted ? DELETE_CONDITION : UPSERT_CONDITION,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** The work for one event; its return value is what the idempotency record stores. */
const applyToCatalog = async (event: FastioEvent): Promise<CatalogOutcome> => {
  const update = buildCatalogUpdate(event, catalogTableName);
  const logAttributes = {
    eventId: event.detail.eventId,
    eventType: event.detail.eventType,
    key: update.Key,
    eventAt: update.ExpressionAttributeValues?.[':eventAt'],
    replayName: event['replay-name'],
  };
  try {
    await documentClient.send(new UpdateCommand(update));
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    logger.info('Stale event skipped: the catalog already holds newer state or a delete', logAttributes);
    metrics.addMetric(MetricName.catalogStaleEventSkipped, MetricUnit.Count, 1);
    return 'stale';
  }
  logger.info('Catalog updated', logAttributes);
  metrics.addMetric(MetricName.catalogUpdated, MetricUnit.Count, 1);
  return 'updated';
};

const applyToCatalogOnce = makeIdempotent(applyToCatalog, {
  persistenceStore,
  config: idempotencyConfig,
  keyPrefix: idempotencyKeyPrefix,
});

const processRecord = async (record: SQSRecord): Promise<CatalogOutcome> => {
  let event: FastioEvent;
  try {
    event = parseFastioEventJson(record.body);
    // Checked before the idempotency layer so a message that can never succeed is not recorded.
    requireDetailField(event, 'workspaceId');
    requireDetailField(event, 'fileId');
  } catch (error) {
    logger.error('Malformed message rejected; it will be retried and then land in the DLQ', {
      messageId: record.messageId,
      field: error instanceof FastioEventError ? error.field : undefined,
      error: error as Error,
    });
    throw error;
  }
  try {
    return await applyToCatalogOnce(event);
  } catch (error) {
    const attributes = { messageId: record.messageId, eventId: event.detail.eventId, error: error as Error };
    if (error instanceof Error && error.name === 'IdempotencyAlreadyInProgressError') {
      logger.warn('Same event is in progress in another invocation; message will be retried', attributes);
    } else {
      logger.error('Catalog update failed; message will be retried', attributes);
    }
    throw error;
  }
};

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  idempotencyConfig.registerLambdaContext(context);
  try {
    // Failed messages are reported by id and only they are retried. If every message failed, this
    // throws (Powertools' default) so the invocation counts as an error and the poller backs off.
    return await processPartialResponse(event, processRecord, processor, { context });
  } finally {
    metrics.publishStoredMetrics();
  }
};
