/**
 * Metric names emitted by the functions. The stacks alarm and chart on these exact names,
 * so both sides import them from here.
 */
export const METRICS_NAMESPACE = 'FastioEventBridge';

export const MetricName = {
  webhookAccepted: 'WebhookAccepted',
  webhookRejected: 'WebhookRejected',
  webhookQuarantined: 'WebhookQuarantined',
  publishFailed: 'PublishFailed',
  /** The claim-checked body could not be stored in S3; the delivery was answered 503. */
  bodyStoreFailed: 'BodyStoreFailed',
  /** The invocation deadline cut off an AWS call (the delivery was answered 503). */
  deadlineExceeded: 'DeadlineExceeded',
  /** A delivery's body went to S3 and the event carries a reference to it. */
  webhookClaimChecked: 'WebhookClaimChecked',
  /** A resend of an event already published within the dedupe window: answered 200, not published again. */
  webhookDuplicate: 'WebhookDuplicate',
  /**
   * A deliberate 503 with retry-after: another invocation holds a live claim on this Fast.io event id
   * (a concurrent resend). Fast.io resends after the lease: then a duplicate, or published if that publish failed.
   */
  resendInProgress: 'ResendInProgress',
  /** The dedupe table could not be written: before publishing (answered 503) or when marking after it (answered 202). */
  dedupeStoreFailed: 'DedupeStoreFailed',
  /** Published again after an earlier claim's lease ran out unmarked (a crash, or a failed mark): downstream idempotency covers it. */
  webhookRepublished: 'WebhookRepublished',
  catalogUpdated: 'CatalogUpdated',
  catalogStaleEventSkipped: 'CatalogStaleEventSkipped',
  agentActionRecorded: 'AgentActionRecorded',
} as const;
