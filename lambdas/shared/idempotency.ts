/**
 * Powertools Idempotency for the consumers, set up once per container: completed work is recorded
 * by the normalized `detail.eventId` on the shared table, so a duplicate delivery or a replay skips
 * it; failed work leaves no record and is redone. Records expire after IDEMPOTENCY_EXPIRY_DAYS
 * (default 7), long enough to cover an incident and its replay.
 *
 * Records are keyed `<route>/<target>#<hash of detail.eventId>` (ROUTE_NAME and TARGET_NAME, set
 * by the stack), so `ops trace` and `ops reconcile` find a target's completion of a Fast.io event
 * (lib/domain/completion-records.ts). Without them Powertools' default prefix, the function name, applies.
 */
import { getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DEFAULT_IDEMPOTENCY_EXPIRY_DAYS, idempotencyKeyPrefix as keyPrefixOf } from '../../lib/domain/completion-records';

const expiryDays = getNumberFromEnv({ key: 'IDEMPOTENCY_EXPIRY_DAYS', defaultValue: DEFAULT_IDEMPOTENCY_EXPIRY_DAYS });
if (!(expiryDays > 0)) throw new Error(`IDEMPOTENCY_EXPIRY_DAYS must be a positive number (got ${expiryDays})`);

export const persistenceStore = new DynamoDBPersistenceLayer({ tableName: getStringFromEnv({ key: 'IDEMPOTENCY_TABLE_NAME' }) });

export const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'detail.eventId',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: Math.round(expiryDays * 24 * 60 * 60),
});

const routeName = getStringFromEnv({ key: 'ROUTE_NAME', defaultValue: '' });
const targetName = getStringFromEnv({ key: 'TARGET_NAME', defaultValue: '' });

/** For makeIdempotent's `keyPrefix`: `<route>/<target>`, or undefined (the function name) when either is unset. */
export const idempotencyKeyPrefix: string | undefined = routeName !== '' && targetName !== '' ? keyPrefixOf(routeName, targetName) : undefined;
