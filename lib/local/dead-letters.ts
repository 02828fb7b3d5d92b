/**
 * Reading dead letters the way each kind of queue records them (the same four formats the
 * `ops dlq` commands read on AWS): the original EventBridge event, and why it failed.
 */
import type { DeadLetterRole } from '../constructs/secure-queue';
import type { QueueMessage } from './sqs';

type JsonObject = Record<string, unknown>;

/** A queue name that is not one of the pipeline's dead-letter queues. */
export class UnknownQueueError extends Error {
  override readonly name = 'UnknownQueueError';
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEvent(value: unknown): value is JsonObject {
  return isObject(value) && typeof value['detail-type'] === 'string' && isObject(value.detail);
}

function parse(body: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export type ExtractedEvent = { readonly ok: true; readonly event: JsonObject } | { readonly ok: false; readonly reason: string };

/** The original event inside a dead letter: the body (target DLQ, buffer DLQ), requestPayload (on-failure) or input (workflow failures). */
export function extractEvent(role: DeadLetterRole, body: string): ExtractedEvent {
  const parsed = parse(body);
  if (parsed === undefined) return { ok: false, reason: 'body is not a JSON object' };
  const event = role === 'on-failure' ? parsed.requestPayload : role === 'workflow-failures' ? parsed.input : parsed;
  return isEvent(event) ? { ok: true, event } : { ok: false, reason: `no EventBridge event in the ${role} message` };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);

/** Why the message failed, as its queue records it. */
export function failureDetails(role: DeadLetterRole, message: Pick<QueueMessage, 'body' | 'messageAttributes'>): Record<string, string | undefined> {
  const parsed = parse(message.body) ?? {};
  switch (role) {
    case 'target-dlq':
    case 'recorder-dlq': {
      const attribute = (name: string) => message.messageAttributes[name]?.StringValue;
      return {
        rule: attribute('RULE_ARN'),
        target: attribute('TARGET_ARN'),
        errorCode: attribute('ERROR_CODE'),
        errorMessage: attribute('ERROR_MESSAGE'),
        exhaustedRetryCondition: attribute('EXHAUSTED_RETRY_CONDITION'),
        retryAttempts: attribute('RETRY_ATTEMPTS'),
      };
    }
    case 'buffer-dlq':
      return { reason: "the consumer failed it on every receive (see the consumer's log in .local/logs)" };
    case 'on-failure': {
      const context = isObject(parsed.requestContext) ? parsed.requestContext : {};
      const payload = isObject(parsed.responsePayload) ? parsed.responsePayload : {};
      return {
        condition: str(context.condition),
        approximateInvokeCount: str(context.approximateInvokeCount),
        functionArn: str(context.functionArn),
        errorType: str(payload.errorType),
        errorMessage: str(payload.errorMessage),
      };
    }
    case 'workflow-failures':
      return { executionArn: str(parsed.executionArn), error: str(parsed.error), cause: str(parsed.cause) };
    case 'subscription-dlq':
      return { reason: 'SNS could not deliver it to a subscription of the topic' };
  }
}
