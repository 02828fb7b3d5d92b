/**
 * The contract between the ingest function and every consumer: the EventBridge event the ingest
 * publishes for a verified Fast.io delivery (`source: "fastio"`, `detail-type` = Fast.io event type).
 *
 * Consumers never trust the shape blindly: `parseFastioEvent` checks it at runtime and throws a
 * `FastioEventError` that names the offending field, so a malformed message fails on its own with a
 * log line that says what is wrong.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { FASTIO_SOURCE, type BodyRef, type FastioEventDetail as PublishedDetail } from '../../lib/domain/fastio-envelope';

/**
 * The normalized detail the ingest publishes (lib/domain/fastio-envelope.ts, the one definition), with the
 * verbatim payload read as plain unknown values. Exactly one of `payload` and `bodyRef` is present;
 * read the payload with `readPayload` (fastio-body.ts), which handles both.
 */
export type FastioEventDetail = Omit<PublishedDetail, 'payload'> & { payload?: Record<string, unknown> };

/** A Fast.io event as EventBridge delivers it. Replayed events carry `replay-name`. */
export type FastioEvent = EventBridgeEvent<string, FastioEventDetail>;

/** A well-formed envelope that does not satisfy the contract. Not worth retrying. */
export class FastioEventError extends Error {
  public override readonly name = 'FastioEventError';
  /** Dotted path of the field at fault, e.g. `detail.eventId`. */
  public readonly field: string;

  public constructor(field: string, problem: string) {
    super(`Invalid Fast.io event: ${field} ${problem}`);
    this.field = field;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.trim().length > 0;

const requireString = (obj: Record<string, unknown>, key: string, path: string): string => {
  const value = obj[key];
  if (!isNonEmptyString(value)) {
    throw new FastioEventError(path, value === undefined ? 'is missing' : 'must be a non-empty string');
  }
  return value;
};

const optionalString = (
  obj: Record<string, unknown>,
  key: string,
  path: string,
): string | undefined => {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!isNonEmptyString(value)) throw new FastioEventError(path, 'must be a non-empty string when present');
  return value;
};

const KNOWN_DETAIL_FIELDS: ReadonlySet<string> = new Set([
  'eventId',
  'eventType',
  'occurredAt',
  'workspaceId',
  'fileId',
  'fileName',
  'extension',
  'sizeBytes',
  'agentId',
  'payload',
  'bodyRef',
]);

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A claim-check reference as the ingest writes it (lib/domain/fastio-envelope.ts bodyRefOf). */
const parseBodyRef = (value: unknown): BodyRef => {
  if (!isRecord(value)) throw new FastioEventError('detail.bodyRef', 'must be an object');
  const bucket = requireString(value, 'bucket', 'detail.bodyRef.bucket');
  const key = requireString(value, 'key', 'detail.bodyRef.key');
  const { sizeBytes, sha256 } = value;
  if (!(typeof sizeBytes === 'number' && Number.isSafeInteger(sizeBytes) && sizeBytes >= 0)) {
    throw new FastioEventError('detail.bodyRef.sizeBytes', 'must be a non-negative integer');
  }
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    throw new FastioEventError('detail.bodyRef.sha256', 'must be 64 lower-case hex digits');
  }
  return { bucket, key, sizeBytes, sha256 };
};

/** ISO 8601 date-time with an explicit zone (Z or ±hh:mm). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Normalizes an ISO 8601 timestamp to `Date#toISOString()` form (UTC, millisecond precision), so
 * that stored timestamps compare correctly as strings (DynamoDB `<` on S is lexicographic).
 */
export const normalizeTimestamp = (value: string, field: string): string => {
  const millis = Date.parse(value);
  if (!ISO_8601.test(value) || Number.isNaN(millis)) {
    throw new FastioEventError(field, `must be an ISO 8601 timestamp with a time zone (got ${JSON.stringify(value)})`);
  }
  return new Date(millis).toISOString();
};

/**
 * Checks that `input` is a Fast.io EventBridge event and returns it typed: a copy in which known
 * detail fields have their documented types and optional ones that were `null` are absent.
 */
export const parseFastioEvent = (input: unknown): FastioEvent => {
  if (!isRecord(input)) throw new FastioEventError('event', 'must be a JSON object');
  if (input.source !== FASTIO_SOURCE) {
    throw new FastioEventError('source', `must be "${FASTIO_SOURCE}" (got ${JSON.stringify(input.source)})`);
  }
  requireString(input, 'id', 'id');
  requireString(input, 'detail-type', 'detail-type');
  normalizeTimestamp(requireString(input, 'time', 'time'), 'time');

  const detail = input.detail;
  if (!isRecord(detail)) {
    throw new FastioEventError('detail', detail === undefined ? 'is missing' : 'must be an object');
  }
  const normalized: FastioEventDetail = {
    eventId: requireString(detail, 'eventId', 'detail.eventId'),
    eventType: requireString(detail, 'eventType', 'detail.eventType'),
  };
  const occurredAt = optionalString(detail, 'occurredAt', 'detail.occurredAt');
  if (occurredAt !== undefined) {
    normalizeTimestamp(occurredAt, 'detail.occurredAt');
    normalized.occurredAt = occurredAt;
  }
  for (const key of ['workspaceId', 'fileId', 'fileName', 'extension', 'agentId'] as const) {
    const value = optionalString(detail, key, `detail.${key}`);
    if (value !== undefined) normalized[key] = value;
  }
  const sizeBytes = detail.sizeBytes;
  if (sizeBytes !== undefined && sizeBytes !== null) {
    if (!(typeof sizeBytes === 'number' && Number.isSafeInteger(sizeBytes) && sizeBytes >= 0)) {
      throw new FastioEventError('detail.sizeBytes', 'must be a non-negative integer when present');
    }
    normalized.sizeBytes = sizeBytes;
  }
  if (detail.bodyRef !== undefined) {
    // A claim-checked event: the body is in S3 and the event must not also carry a payload.
    if (detail.payload !== undefined) throw new FastioEventError('detail.payload', 'must be absent when detail.bodyRef is present');
    normalized.bodyRef = parseBodyRef(detail.bodyRef);
  } else if (!isRecord(detail.payload)) {
    throw new FastioEventError('detail.payload', detail.payload === undefined ? 'is missing' : 'must be an object');
  } else {
    normalized.payload = detail.payload;
  }
  // Unknown detail fields are kept (the ingest may add some); null optional fields become absent.
  const extra = Object.fromEntries(
    Object.entries(detail).filter(([key]) => !KNOWN_DETAIL_FIELDS.has(key)),
  );
  return { ...(input as unknown as FastioEvent), detail: { ...extra, ...normalized } };
};

/** Parses an SQS message body that holds a whole EventBridge event (the rule's SQS target sends that). */
export const parseFastioEventJson = (body: string): FastioEvent => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new FastioEventError('body', `is not valid JSON (${(error as Error).message})`);
  }
  return parseFastioEvent(parsed);
};

/** Returns a detail field a particular consumer cannot work without, or throws naming it. */
export const requireDetailField = (
  event: FastioEvent,
  key: 'workspaceId' | 'fileId' | 'agentId',
): string => {
  const value = event.detail[key];
  if (!isNonEmptyString(value)) throw new FastioEventError(`detail.${key}`, 'is missing');
  return value;
};

/** When the event happened: `detail.occurredAt`, else EventBridge's `time`; normalized (see above). */
export const eventTime = (event: FastioEvent): string =>
  event.detail.occurredAt !== undefined
    ? normalizeTimestamp(event.detail.occurredAt, 'detail.occurredAt')
    : normalizeTimestamp(event.time, 'time');
