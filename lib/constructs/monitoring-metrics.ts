import { Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import { REASON_DIMENSION, REJECTION_REASONS, type RejectionReason } from '../../lambdas/ingest/reasons';
import { METRICS_NAMESPACE, MetricName } from '../../lambdas/shared/metric-names';

/**
 * Metrics that no cdk-monitoring-constructs monitor can derive from a construct, built by hand with
 * exactly the namespace and dimensions their producer writes. A metric whose dimensions differ by
 * one name or value from what is published is a different metric: its alarm never fires.
 */

/** Every alarm and dashboard metric of the monitoring stack aggregates over five minutes. */
export const METRIC_PERIOD = Duration.minutes(5);

/**
 * Powertools Metrics adds a `service` dimension to every metric, its value POWERTOOLS_SERVICE_NAME
 * (`Metrics` sets it as a default dimension, and `singleMetric()` copies the default dimensions).
 * Verified in @aws-lambda-powertools/metrics 2.36: Metrics#setOptions and Metrics#singleMetric.
 */
export const SERVICE_DIMENSION = 'service';

/** POWERTOOLS_SERVICE_NAME of the ingest function (lib/stacks/ingest-stack.ts); a test holds the two together. */
export const INGEST_SERVICE_NAME = 'fastio-ingest';

/** Rejections that say nothing about the signature: an oversized body, a non-POST request. */
const NON_SIGNATURE_REASONS: ReadonlySet<RejectionReason> = new Set([REJECTION_REASONS.bodyTooLarge, REJECTION_REASONS.methodNotAllowed]);

/** Every `Reason` of WebhookRejected that means "this request did not carry a valid Fast.io signature". */
export const SIGNATURE_REJECTION_REASONS: readonly RejectionReason[] = Object.values(REJECTION_REASONS).filter(
  (reason) => !NON_SIGNATURE_REASONS.has(reason),
);

/**
 * A metric the ingest function publishes with Powertools (EMF): namespace FastioEventBridge,
 * dimensions `service` plus whatever the handler adds (WebhookRejected adds `Reason`).
 */
export function ingestMetric(metricName: string, label: string, extraDimensions: Record<string, string> = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [SERVICE_DIMENSION]: INGEST_SERVICE_NAME, ...extraDimensions },
    statistic: cloudwatch.Stats.SUM,
    period: METRIC_PERIOD,
    label,
  });
}

/** WebhookRejected for one reason: the handler's single-metric carries `service` and `Reason`. */
export function webhookRejectedMetric(reason: RejectionReason): cloudwatch.Metric {
  return ingestMetric(MetricName.webhookRejected, reason, { [REASON_DIMENSION]: reason });
}

/** Metric-math ids must start with a lower-case letter and hold only letters, digits and '_'. */
function expressionId(reason: string): string {
  return reason.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase()).replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * The sum of WebhookRejected over the given reasons. CloudWatch cannot alarm on a search
 * expression, and there is no per-function total without the `Reason` dimension, so the reasons
 * are listed and added up; SUM([...]) skips a reason that published nothing in a period.
 */
export function webhookRejectionsTotal(reasons: readonly RejectionReason[], label: string): cloudwatch.MathExpression {
  const usingMetrics = Object.fromEntries(reasons.map((reason) => [expressionId(reason), webhookRejectedMetric(reason)]));
  return new cloudwatch.MathExpression({
    expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
    usingMetrics,
    label,
    period: METRIC_PERIOD,
  });
}

/**
 * The rule's own name. CDK's `rule.ruleName` is the rule's `Ref`, which CloudFormation returns as
 * `<bus name>|<rule name>` for a rule on a custom bus (aws-cloudformation/cloudformation-coverage-roadmap#1131),
 * never a valid RuleName dimension. The rule's ARN on a custom bus is documented as
 * `arn:<partition>:events:<region>:<account>:rule/<bus name>/<rule name>`, so the name is its third
 * '/'-separated part (the bus name, `<stage>-fastio`, holds no '/').
 */
export function ruleNameOf(rule: events.IRule): string {
  return Fn.select(2, Fn.split('/', rule.ruleArn));
}

/**
 * An AWS/Events rule metric. On a custom bus EventBridge publishes rule metrics with BOTH
 * dimensions, EventBusName and RuleName ("Metrics that specify only the RuleName dimension refer to
 * the default event bus", EventBridge User Guide, Monitoring); CDK's canned rule metrics carry only
 * RuleName, which matches nothing on this bus.
 */
export function ruleMetric(metricName: string, eventBus: events.IEventBus, rule: events.IRule, label: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Events',
    metricName,
    dimensionsMap: { EventBusName: eventBus.eventBusName, RuleName: ruleNameOf(rule) },
    statistic: cloudwatch.Stats.SUM,
    period: METRIC_PERIOD,
    label,
  });
}

/** An AWS/Firehose metric of one delivery stream (dimension DeliveryStreamName). */
export function firehoseMetric(metricName: string, deliveryStreamName: string, statistic: string, label: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Firehose',
    metricName,
    dimensionsMap: { DeliveryStreamName: deliveryStreamName },
    statistic,
    period: METRIC_PERIOD,
    label,
  });
}
