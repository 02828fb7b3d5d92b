/**
 * Where a target of the project's own records that it completed an event, so a consumer writes and
 * `ops trace` / `ops reconcile` read the same record. Pure (node:crypto only): used by the consumers
 * (lambdas/shared/idempotency.ts), the operator CLI and the local pipeline.
 *
 * - Queue and function targets: Powertools Idempotency records in the idempotency table. Powertools
 *   keys a record `<keyPrefix>#<base64 md5 of JSON.stringify(extracted key)>` (BasePersistenceLayer
 *   getHashedIdempotencyKey, hashFunction md5, digest base64); the extracted key is `detail.eventId`
 *   and the prefix is `<route>/<target>`, so a record names its Fast.io event and route target.
 * - The review workflow: its guard record `review#<route>#<eventId>` (lib/workflows/review-workflow.ts).
 */
import { createHash } from 'node:crypto';

/** How long a consumer's completion record lives (IDEMPOTENCY_EXPIRY_DAYS of lambdas/shared/idempotency.ts). */
export const DEFAULT_IDEMPOTENCY_EXPIRY_DAYS = 7;

/**
 * What a consumer logs (INFO, with the event id) when the idempotency record says the event already
 * completed on its target and its work was skipped: a duplicate delivery, or a redrive or replay of
 * done work. Log Insights queries and the local terminal both look for it.
 */
export const ALREADY_DONE_LOG_MESSAGE = 'Already done: this event completed on this target before; skipped';

/** The Powertools key prefix of a target's records: `<route>/<target>`, e.g. `documents/queue`. */
export function idempotencyKeyPrefix(routeName: string, targetName: string): string {
  return `${routeName}/${targetName}`;
}

/** The `id` of the Powertools Idempotency record a target writes once it completed a Fast.io event. */
export function idempotencyRecordId(routeName: string, targetName: string, fastioEventId: string): string {
  const hash = createHash('md5').update(JSON.stringify(fastioEventId)).digest('base64');
  return `${idempotencyKeyPrefix(routeName, targetName)}#${hash}`;
}

/**
 * Days a review guard record lives: its `expiration` is the claim plus the archive's retention plus
 * the dead-letter queues' (lib/targets/own-workflow-target.ts), so a replay or redrive still finds it.
 * Undefined when the archive keeps events indefinitely (retention 0): then guards are read as never expiring.
 */
export function reviewGuardExpiryDays(archiveRetentionDays: number | null | undefined, deadLetterRetentionDays: number): number | undefined {
  return archiveRetentionDays === null || archiveRetentionDays === undefined || archiveRetentionDays <= 0 ? undefined : archiveRetentionDays + deadLetterRetentionDays;
}

/**
 * Whether a record's `expiration` (epoch seconds, DynamoDB's TTL attribute) has passed: the TTL
 * deletes such a record some time later, so it is read as gone already, as Powertools and the
 * review workflow's claim do.
 */
export function recordExpired(expiration: unknown, now: Date): boolean {
  const seconds = Number(expiration);
  return expiration !== undefined && expiration !== null && expiration !== '' && Number.isFinite(seconds) && seconds * 1000 <= now.getTime();
}

/** The review workflow's guard record for one event on one route: its partition key `id`. */
export function reviewGuardId(routeName: string, fastioEventId: string): string {
  return `review#${routeName}#${fastioEventId}`;
}
