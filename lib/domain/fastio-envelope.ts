/**
 * The normalized envelope (DESIGN.md decisions 4 and 5): the one place that knows Fast.io's field names.
 *
 * Pure: node:crypto only, no AWS. The ingest function publishes what `toEnvelope` returns, and the
 * operator CLI (`routes test`) uses the same function to normalize raw payloads exactly as the ingest does.
 *
 * Fast.io's payload schema is not published; the mapping below is tolerant and every assumption is listed
 * in README ("Fast.io payload mapping assumptions"). Fields are read as own properties only, so keys such
 * as `__proto__` or `constructor` never reach a normalized field, and nothing is ever assigned by a
 * payload-controlled key (no prototype pollution). The verbatim payload is kept as JSON.parse built it.
 */
import { createHash } from 'node:crypto';

export const FASTIO_SOURCE = 'fastio';
export const QUARANTINE_DETAIL_TYPE = 'fastio.quarantined';

/** EventBridge's PutEvents entry limit (1 MB since January 2026), counted as `entrySizeBytes` does. */
export const MAX_ENTRY_BYTES = 1024 * 1024;
/** Deeper JSON is quarantined unparsed (EventBridge itself stops at about 1000 levels). */
export const MAX_JSON_DEPTH = 64;
/** EventBridge's limit on DetailType. */
export const MAX_DETAIL_TYPE_CHARS = 128;
const MAX_ID_CHARS = 256;
const MAX_EXTENSION_CHARS = 16;
/**
 * Longer file names are cut to this many characters (`fileNameTruncated: true`; the verbatim payload
 * keeps the whole name). Every normalized field is bounded, so an event whose body was claim-checked
 * stays a few KiB whatever the payload holds, far below any target's input limit.
 */
export const MAX_FILE_NAME_CHARS = 1024;

/**
 * Claim-check (DESIGN.md decision 12): an entry above the threshold carries a reference to the raw body
 * in S3 instead of the body. Step Functions takes at most 256 KiB of execution input, and the event
 * around the detail adds its own fields (id, time, resources, replay-name), so the threshold stays
 * well below that.
 */
export const DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES = 192 * 1024;
export const MAX_CLAIM_CHECK_THRESHOLD_BYTES = 200 * 1024;
export const MIN_CLAIM_CHECK_THRESHOLD_BYTES = 16 * 1024;
/** The smallest input limit of any target kind (Step Functions StartExecution input). */
export const SMALLEST_TARGET_INPUT_BYTES = 256 * 1024;

/** Why an authentic delivery was published under QUARANTINE_DETAIL_TYPE instead of its event type. */
export const QUARANTINE_REASONS = {
  /** Not valid UTF-8 JSON. */
  notJson: 'not-json',
  /** Valid JSON, but an array, string, number, boolean or null. */
  notAnObject: 'not-an-object',
  /** An object without a string `event_type` (or `type`). */
  noEventType: 'no-event-type',
  /** The event type cannot be a detail-type: empty, over 128 characters, control characters, or the quarantine type itself. */
  badEventType: 'bad-event-type',
  /** Nested deeper than MAX_JSON_DEPTH. */
  tooDeep: 'too-deep',
} as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[keyof typeof QUARANTINE_REASONS];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface FastioEventDetail {
  /** Fast.io's `event_id`, or the sha256 (hex) of the raw body when it has none. */
  eventId: string;
  eventType: string;
  /** ISO 8601 (UTC) of `created_at` / `occurred_at` / `timestamp`, when it parses. */
  occurredAt?: string;
  workspaceId?: string;
  fileId?: string;
  fileName?: string;
  /** Lower-case, without the dot; absent when the name has no extension. */
  extension?: string;
  sizeBytes?: number;
  /**
   * Whole MiB, rounded down. EventBridge's `numeric` operator only compares values within
   * ±5.0e9, so rules on sizes of about 4.7 GiB and more must use this field instead of sizeBytes.
   */
  sizeMiB?: number;
  /** Present only when an agent acted. */
  agentId?: string;
  /** Present (true) when `fileName` was cut to MAX_FILE_NAME_CHARS. */
  fileNameTruncated?: true;
  /** The parsed payload, verbatim; absent when the body was claim-checked (`bodyRef`). */
  payload?: JsonObject;
  /** Where the raw body is when it was too large to travel in the event; then there is no `payload`. */
  bodyRef?: BodyRef;
}

/** A claim-checked raw body: the exact bytes of the delivery, stored in S3 under their sha256. */
export interface BodyRef {
  readonly bucket: string;
  readonly key: string;
  /** Length of the raw body in bytes. */
  readonly sizeBytes: number;
  /** sha256 (hex) of the raw body. */
  readonly sha256: string;
}

const BYTES_PER_MIB = 1024 * 1024;

export interface QuarantineDetail {
  /** sha256 (hex) of the raw body, so a redelivery of the same body dedupes downstream. */
  eventId: string;
  reason: QuarantineReason;
  /** The body as text; absent when it was claim-checked (`bodyRef`). */
  body?: string;
  bodyEncoding: 'utf8' | 'base64';
  bodyRef?: BodyRef;
}

export interface Envelope {
  detailType: string;
  detail: FastioEventDetail | QuarantineDetail;
}

/** The fields of a PutEvents entry that count towards its size (EventBusName does not). */
export interface SizedEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail?: string;
  readonly Resources?: readonly string[];
  readonly Time?: Date;
}

/** Entry size as AWS documents it: Time 14 bytes if set, plus UTF-8 bytes of Source, DetailType, Detail, Resources. */
export function entrySizeBytes(entry: SizedEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  size += Buffer.byteLength(entry.Source, 'utf8') + Buffer.byteLength(entry.DetailType, 'utf8');
  if (entry.Detail !== undefined) size += Buffer.byteLength(entry.Detail, 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

/** The PutEvents entry fields for an envelope (the caller adds EventBusName). */
export function toEntry(envelope: Envelope): { Source: string; DetailType: string; Detail: string } {
  return { Source: FASTIO_SOURCE, DetailType: envelope.detailType, Detail: JSON.stringify(envelope.detail) };
}

export function sha256Hex(rawBody: Uint8Array): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/** Where claim-checked bodies live in the bucket. */
export const BODY_KEY_PREFIX = 'bodies/sha256/';

/** Content-addressed, so a resend of the same delivery writes the same object. */
export function bodyObjectKey(sha256: string): string {
  return `${BODY_KEY_PREFIX}${sha256}`;
}

/** The reference to a raw body stored in `bucket` under its sha256. */
export function bodyRefOf(bucket: string, rawBody: Uint8Array): BodyRef {
  const sha256 = sha256Hex(rawBody);
  return { bucket, key: bodyObjectKey(sha256), sizeBytes: rawBody.byteLength, sha256 };
}

/**
 * The envelope with its body replaced by a reference: every normalized field stays, `payload`
 * (or a quarantined `body`) goes.
 */
export function claimChecked(envelope: Envelope, bodyRef: BodyRef): Envelope {
  const { detail } = envelope;
  if ('reason' in detail) {
    const { body: _body, ...rest } = detail;
    return { detailType: envelope.detailType, detail: { ...rest, bodyRef } };
  }
  const { payload: _payload, ...rest } = detail;
  return { detailType: envelope.detailType, detail: { ...rest, bodyRef } };
}

function own(record: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(record: JsonObject | undefined, key: string): JsonObject | undefined {
  if (record === undefined) return undefined;
  const value = own(record, key);
  return isObject(value) ? value : undefined;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A non-empty string without control characters (trimmed), or a non-negative safe integer as a string. */
function idValue(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > MAX_ID_CHARS || CONTROL.test(trimmed)) return undefined;
  return trimmed;
}

function stringField(record: JsonObject, key: string): string | undefined {
  const value = own(record, key);
  return typeof value === 'string' ? value : undefined;
}

function textValue(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** The first `max` characters (code points, so a surrogate pair is never split). */
function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (let count = 0; count < max && end < text.length; count += 1) end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1;
  return text.slice(0, end);
}

function firstOf<T>(...candidates: (() => T | undefined)[]): T | undefined {
  for (const candidate of candidates) {
    const value = candidate();
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A number, or a string of decimal digits only, that is a non-negative safe integer. */
export function toSizeBytes(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^[0-9]{1,16}$/.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** Lower-case extension without the dot: last path segment, after its last dot, letters and digits only. */
export function extensionOf(fileName: string): string | undefined {
  const base = fileName.split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || dot === base.length - 1) return undefined; // no dot, a dotfile such as ".env", or "name."
  const extension = base.slice(dot + 1).toLowerCase();
  return extension.length <= MAX_EXTENSION_CHARS && /^[\p{L}\p{N}]+$/u.test(extension) ? extension : undefined;
}

/** ISO 8601 (UTC) from an ISO-like string, or from Unix seconds / milliseconds (number or digit string). */
export function toIsoTime(value: JsonValue | undefined): string | undefined {
  let millis: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^[0-9]{1,16}(\.[0-9]+)?$/.test(value))) {
    const numeric = Number(value);
    millis = numeric < 1e11 ? numeric * 1000 : numeric; // seconds until year 5138, else milliseconds
  } else if (typeof value === 'string') {
    const match = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|z|[+-]\d{2}:?\d{2})?)?$/.exec(value.trim());
    if (!match) return undefined;
    const [, date, time, zone] = match;
    // A time without a zone is taken as UTC (Date.parse would use the machine's local zone).
    millis = Date.parse(time === undefined ? `${date}` : `${date}T${time}${zone === undefined ? 'Z' : zone.toUpperCase()}`);
  } else {
    return undefined;
  }
  // Date's range ends at ±8.64e15 ms; toISOString throws outside it, so check before calling it.
  if (!Number.isFinite(millis) || millis < 0 || millis > 253402300799999) return undefined;
  return new Date(millis).toISOString();
}

/**
 * The acting agent, first match wins: top-level `agent_id`; `agent` as a string or `{ id }`;
 * `actor { type: "agent", id }`; `user { id }` with `type: "agent"` or `is_agent: true`;
 * `metadata.agent_id`. Absent when none applies (a person acted).
 */
export function agentIdOf(payload: JsonObject): string | undefined {
  const isAgentType = (record: JsonObject): boolean => {
    const type = own(record, 'type');
    return typeof type === 'string' && type.trim().toLowerCase() === 'agent';
  };
  const agent = own(payload, 'agent');
  const actor = child(payload, 'actor');
  const user = child(payload, 'user');
  return firstOf(
    () => idValue(own(payload, 'agent_id')),
    () => (typeof agent === 'string' ? idValue(agent) : isObject(agent) ? idValue(own(agent, 'id')) : undefined),
    () => (actor && isAgentType(actor) ? idValue(own(actor, 'id')) : undefined),
    () => (user && (isAgentType(user) || own(user, 'is_agent') === true) ? idValue(own(user, 'id')) : undefined),
    () => idValue(own(child(payload, 'metadata') ?? {}, 'agent_id')),
  );
}

/**
 * The resource that is a file: `resource` when its `type` is "file" (any case), or when it has no
 * `type` and the event type starts with "file."; otherwise a top-level `file` object.
 */
function fileResourceOf(payload: JsonObject, eventType: string): JsonObject | undefined {
  const resource = child(payload, 'resource');
  if (resource) {
    const type = own(resource, 'type');
    if (typeof type === 'string' ? type.trim().toLowerCase() === 'file' : eventType.startsWith('file.')) return resource;
  }
  return child(payload, 'file');
}

/** Depth of the deepest array/object nesting, scanning the text (stops counting past `limit`). */
function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}

function decodeUtf8(rawBody: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(rawBody);
  } catch {
    return undefined;
  }
}

function quarantine(rawBody: Uint8Array, reason: QuarantineReason, text: string | undefined): Envelope {
  const detail: QuarantineDetail =
    text === undefined
      ? { eventId: sha256Hex(rawBody), reason, body: Buffer.from(rawBody).toString('base64'), bodyEncoding: 'base64' }
      : { eventId: sha256Hex(rawBody), reason, body: text, bodyEncoding: 'utf8' };
  return { detailType: QUARANTINE_DETAIL_TYPE, detail };
}

function eventTypeProblem(eventType: string): boolean {
  return (
    eventType.trim() !== eventType ||
    eventType === '' ||
    [...eventType].length > MAX_DETAIL_TYPE_CHARS ||
    CONTROL.test(eventType) ||
    eventType === QUARANTINE_DETAIL_TYPE
  );
}

/**
 * Maps the exact bytes of an authentic delivery to the detail-type and detail to publish.
 * Never throws: anything that is not a Fast.io-shaped event becomes a quarantine envelope.
 */
export function toEnvelope(rawBody: Buffer): Envelope {
  const text = decodeUtf8(rawBody);
  if (text === undefined) return quarantine(rawBody, QUARANTINE_REASONS.notJson, undefined);
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (exceedsDepth(json, MAX_JSON_DEPTH)) return quarantine(rawBody, QUARANTINE_REASONS.tooDeep, text);

  let parsed: JsonValue;
  try {
    parsed = JSON.parse(json) as JsonValue;
  } catch {
    return quarantine(rawBody, QUARANTINE_REASONS.notJson, text);
  }
  if (!isObject(parsed)) return quarantine(rawBody, QUARANTINE_REASONS.notAnObject, text);

  const payload = parsed;
  const rawType = firstOf(() => stringField(payload, 'event_type'), () => stringField(payload, 'type'));
  if (rawType === undefined) return quarantine(rawBody, QUARANTINE_REASONS.noEventType, text);
  if (eventTypeProblem(rawType)) return quarantine(rawBody, QUARANTINE_REASONS.badEventType, text);
  const eventType = rawType;

  const file = fileResourceOf(payload, eventType);
  const fullFileName = file ? textValue(own(file, 'name')) : undefined;
  const fileName = fullFileName === undefined ? undefined : truncateChars(fullFileName, MAX_FILE_NAME_CHARS);
  const eventId = firstOf(() => idValue(own(payload, 'event_id')), () => idValue(own(payload, 'id'))) ?? sha256Hex(rawBody);
  const occurredAt = firstOf(
    () => toIsoTime(own(payload, 'created_at')),
    () => toIsoTime(own(payload, 'occurred_at')),
    () => toIsoTime(own(payload, 'timestamp')),
  );
  const workspaceId = firstOf(
    () => idValue(own(payload, 'workspace_id')),
    () => idValue(own(child(payload, 'workspace') ?? {}, 'id')),
  );
  const fileId = file ? idValue(own(file, 'id')) : undefined;
  const extension = fullFileName === undefined ? undefined : extensionOf(fullFileName);
  const sizeBytes = file ? firstOf(() => toSizeBytes(own(file, 'size')), () => toSizeBytes(own(file, 'size_bytes'))) : undefined;
  const agentId = agentIdOf(payload);

  // Absent fields are left out (not `undefined`), and the verbatim payload comes last.
  const detail: FastioEventDetail = {
    eventId,
    eventType,
    ...(occurredAt === undefined ? {} : { occurredAt }),
    ...(workspaceId === undefined ? {} : { workspaceId }),
    ...(fileId === undefined ? {} : { fileId }),
    ...(fileName === undefined ? {} : { fileName }),
    ...(fileName !== undefined && fileName !== fullFileName ? { fileNameTruncated: true as const } : {}),
    ...(extension === undefined ? {} : { extension }),
    ...(sizeBytes === undefined ? {} : { sizeBytes, sizeMiB: Math.floor(sizeBytes / BYTES_PER_MIB) }),
    ...(agentId === undefined ? {} : { agentId }),
    payload,
  };
  return { detailType: eventType, detail };
}
