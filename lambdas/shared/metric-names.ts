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
  catalogUpdated: 'CatalogUpdated',
  catalogStaleEventSkipped: 'CatalogStaleEventSkipped',
  agentActionRecorded: 'AgentActionRecorded',
} as const;
