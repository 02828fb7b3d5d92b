import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

/** An SDK call's failure as the ingest logs it: the error's name as a code, and its message. */
export function describeCallError(error: unknown): { readonly errorCode: string; readonly errorMessage: string } {
  return error instanceof Error ? { errorCode: error.name, errorMessage: error.message } : { errorCode: 'Error', errorMessage: String(error) };
}

/** PutEvents entry error codes worth one more attempt (AWS: InternalFailure, ThrottlingException). */
export const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set(['InternalFailure', 'InternalException', 'ThrottlingException']);

export type PublishResult =
  | { readonly ok: true; readonly eventId: string; readonly attempts: number }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string; readonly attempts: number };

async function putOnce(client: EventBridgeClient, entry: PutEventsRequestEntry): Promise<PublishResult> {
  try {
    const output = await client.send(new PutEventsCommand({ Entries: [entry] }));
    const result = output.Entries?.[0];
    if ((output.FailedEntryCount ?? 0) === 0 && result?.EventId) return { ok: true, eventId: result.EventId, attempts: 1 };
    return {
      ok: false,
      errorCode: result?.ErrorCode ?? 'NoEventId',
      errorMessage: result?.ErrorMessage ?? 'PutEvents returned no event id',
      attempts: 1,
    };
  } catch (error) {
    // The SDK has already retried throttling and transient errors by its own policy.
    const { errorCode, errorMessage } = describeCallError(error);
    return { ok: false, errorCode: `call:${errorCode}`, errorMessage, attempts: 1 };
  }
}

/**
 * Publishes one entry. A failed entry with a retryable error code is sent once more; anything else
 * is a failure for the caller to answer with 5xx (never a 2xx for an event that is not on the bus).
 */
export async function publishEntry(client: EventBridgeClient, entry: PutEventsRequestEntry): Promise<PublishResult> {
  const first = await putOnce(client, entry);
  if (first.ok || !RETRYABLE_ENTRY_ERRORS.has(first.errorCode)) return first;
  const second = await putOnce(client, entry);
  return { ...second, attempts: 2 };
}
