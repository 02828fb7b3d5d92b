/**
 * Powertools Idempotency for the consumers, set up once per container: completed work is recorded
 * by the normalized `detail.eventId` on the shared table, so a duplicate delivery or a replay skips
 * it; failed work leaves no record and is redone. Records expire after IDEMPOTENCY_EXPIRY_DAYS
 * (default 7), long enough to cover an incident and its replay.
 */
import { getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';

const expiryDays = getNumberFromEnv({ key: 'IDEMPOTENCY_EXPIRY_DAYS', defaultValue: 7 });
if (!(expiryDays > 0)) throw new Error(`IDEMPOTENCY_EXPIRY_DAYS must be a positive number (got ${expiryDays})`);

export const persistenceStore = new DynamoDBPersistenceLayer({ tableName: getStringFromEnv({ key: 'IDEMPOTENCY_TABLE_NAME' }) });

export const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'detail.eventId',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: Math.round(expiryDays * 24 * 60 * 60),
});
