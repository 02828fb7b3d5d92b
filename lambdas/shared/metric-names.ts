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
  catalogUpdated: 'CatalogUpdated',
  catalogStaleEventSkipped: 'CatalogStaleEventSkipped',
  agentActionRecorded: 'AgentActionRecorded',
} as const;
