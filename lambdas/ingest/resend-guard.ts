/**
 * Resends recognised at the door (DESIGN.md decision 16): one item per Fast.io event id in the dedupe
 * table, written only with condition expressions, never read first.
 *
 *   claim    PutItem {status: publishing, claimToken, leaseUntil, expiresAt} if there is no live claim:
 *            no item, or one past its window (TTL deletes lazily), or a failed publish, or a
 *            `publishing` claim whose lease has run out (its invocation is over: the lease outlives it)
 *   publish  PutEvents (the caller)
 *   mark     UpdateItem status = published, if the claim is still ours
 *   release  UpdateItem status = failed, if the claim is still ours (PutEvents failed)
 *
 * A claim refused because the item is `published` is a duplicate (2xx, not published again). One
 * refused because another invocation holds a live lease is "in progress": 503 with retry-after, so
 * Fast.io resends after that invocation has marked (then: duplicate) or released (then: published).
 * Neither a silent drop nor a silent second publish. A second publish happens only when a claim is
 * taken over after its lease ran out with the item still `publishing` (a crash, or a mark that
 * failed after PutEvents succeeded); the claim says so (`takeover`) and the handler logs and counts it.
 */
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { describeCallError } from './publish';

export type ClaimOutcome =
  /** Ours to publish. `takeover`: an earlier claim of this event was still `publishing` when its lease ran out. */
  | { readonly kind: 'claimed'; readonly token: string; readonly takeover: boolean }
  | { readonly kind: 'duplicate'; readonly eventBridgeEventId: string | undefined }
  | { readonly kind: 'in-progress'; readonly retryAfterSeconds: number }
  | { readonly kind: 'unavailable'; readonly errorCode: string; readonly errorMessage: string };

export type SettleOutcome = { readonly ok: true } | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string };

const PUBLISHING = 'publishing';
const PUBLISHED = 'published';
const FAILED = 'failed';

const str = (value: string): AttributeValue => ({ S: value });
const num = (value: number): AttributeValue => ({ N: String(value) });

export class ResendGuard {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly windowSeconds: number,
  ) {}

  /**
   * `token` identifies this invocation's claim (the API request id); `leaseMs` must outlast the
   * invocation, so no live claim is ever taken over.
   */
  async claim(eventId: string, token: string, nowMs: number, leaseMs: number): Promise<ClaimOutcome> {
    try {
      const output = await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            eventId: str(eventId),
            status: str(PUBLISHING),
            claimToken: str(token),
            leaseUntil: num(nowMs + leaseMs),
            expiresAt: num(Math.floor(nowMs / 1000) + this.windowSeconds),
          },
          ConditionExpression:
            'attribute_not_exists(eventId) OR expiresAt < :nowSeconds OR #status = :failed OR (#status = :publishing AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':nowSeconds': num(Math.floor(nowMs / 1000)),
            ':now': num(nowMs),
            ':failed': str(FAILED),
            ':publishing': str(PUBLISHING),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const old = output.Attributes;
      const takeover = old?.status?.S === PUBLISHING && Number(old.expiresAt?.N ?? 0) >= Math.floor(nowMs / 1000);
      return { kind: 'claimed', token, takeover };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException')) {
        const item = (error as { Item?: Record<string, AttributeValue> }).Item;
        if (item?.status?.S === PUBLISHED) return { kind: 'duplicate', eventBridgeEventId: item.eventBridgeEventId?.S };
        const leaseUntil = Number(item?.leaseUntil?.N ?? nowMs + leaseMs);
        return { kind: 'in-progress', retryAfterSeconds: Math.max(1, Math.ceil((leaseUntil - nowMs) / 1000)) };
      }
      return { kind: 'unavailable', ...describeCallError(error) };
    }
  }

  /** After PutEvents succeeded: resends within the window are duplicates from now on. */
  markPublished(eventId: string, token: string, eventBridgeEventId: string, nowMs: number): Promise<SettleOutcome> {
    return this.#settle(eventId, token, 'SET #status = :published, eventBridgeEventId = :eb, publishedAt = :now', {
      ':published': str(PUBLISHED),
      ':eb': str(eventBridgeEventId),
      ':now': num(nowMs),
    });
  }

  /** After PutEvents failed: the next resend may claim at once instead of waiting for the lease. */
  release(eventId: string, token: string): Promise<SettleOutcome> {
    return this.#settle(eventId, token, 'SET #status = :failed', { ':failed': str(FAILED) });
  }

  async #settle(eventId: string, token: string, update: string, values: Record<string, AttributeValue>): Promise<SettleOutcome> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { eventId: str(eventId) },
          UpdateExpression: update,
          ConditionExpression: 'claimToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':token': str(token) },
        }),
      );
      return { ok: true };
    } catch (error) {
      return { ok: false, ...describeCallError(error) };
    }
  }
}
