/**
 * One event as the flight recorder holds it (DESIGN.md decision 14): every event on the bus,
 * quarantined ones, Fast.io resends and archive replays included. Pure: shared by the AWS sources
 * (Athena over S3), the local recorder (JSON lines under .local/) and `ops trace` / `ops reconcile`.
 */
import { QUARANTINE_DETAIL_TYPE, type BodyRef } from '../domain/fastio-envelope';
import type { BusEvent } from '../domain/route-samples';

/** Where the webhook's body is: in the event (`detail.payload` / `detail.body`) or claim-checked to S3. */
export type BodyStore = { readonly store: 'inline' } | { readonly store: 'claim-check'; readonly ref: BodyRef };

export interface RecordedEvent {
  /** EventBridge's event id: a resend and a replay each get a new one. */
  readonly id: string;
  /** Fast.io's event id (`detail.eventId`): the same for a resend and a replay of one webhook. */
  readonly fastioEventId: string;
  /** EventBridge's `time`, ISO 8601 UTC. */
  readonly time: string;
  readonly detailType: string;
  /** Set only on a copy an archive replay sent (`replay-name`). */
  readonly replayName?: string;
  /** Published under QUARANTINE_DETAIL_TYPE: authentic, but not a usable Fast.io event. */
  readonly quarantined: boolean;
  /** The file's size as Fast.io reported it (`detail.sizeBytes`), else the quarantined body's. */
  readonly sizeBytes?: number;
  readonly body: BodyStore;
  /**
   * The event as rules see it. A source may hold only its normalized fields (the Athena table has no
   * verbatim payload); RecorderSource.fullEvent gives the exact event for a re-delivery.
   */
  readonly event: BusEvent;
  /** Where the source found it (an S3 object, a local file), for fullEvent. */
  readonly location?: string;
  /**
   * Set on an event read from the recorder's own DLQ: EventBridge could not record it, so it is in
   * no recorded table, and `event` is the whole event as the bus delivered it.
   */
  readonly fromRecorderDlq?: true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBodyRef(value: unknown): value is BodyRef {
  return isRecord(value) && typeof value.bucket === 'string' && typeof value.key === 'string';
}

/**
 * Reads a bus event as a recorded event; undefined when it is no event of the ingest (no string
 * `detail.eventId`), which neither trace nor reconcile can follow.
 */
export function toRecordedEvent(event: unknown, location?: string): RecordedEvent | undefined {
  if (!isRecord(event) || !isRecord(event.detail) || typeof event['detail-type'] !== 'string') return undefined;
  const detail = event.detail;
  if (typeof detail.eventId !== 'string' || detail.eventId === '') return undefined;
  const detailType = event['detail-type'];
  const quarantined = detailType === QUARANTINE_DETAIL_TYPE;
  const bodyRef = isBodyRef(detail.bodyRef) ? detail.bodyRef : undefined;
  const sizeBytes =
    typeof detail.sizeBytes === 'number'
      ? detail.sizeBytes
      : quarantined
        ? (bodyRef?.sizeBytes ?? (typeof detail.body === 'string' ? Buffer.byteLength(detail.body, detail.bodyEncoding === 'base64' ? 'base64' : 'utf8') : undefined))
        : undefined;
  const replayName = typeof event['replay-name'] === 'string' ? event['replay-name'] : undefined;
  return {
    id: typeof event.id === 'string' ? event.id : '',
    fastioEventId: detail.eventId,
    time: typeof event.time === 'string' ? event.time : '',
    detailType,
    ...(replayName === undefined ? {} : { replayName }),
    quarantined,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    body: bodyRef === undefined ? { store: 'inline' } : { store: 'claim-check', ref: bodyRef },
    event: event as BusEvent,
    ...(location === undefined ? {} : { location }),
  };
}
