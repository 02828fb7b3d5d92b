import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ComparisonOperator, TreatMissingData, type Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  DefaultDashboardFactory,
  MonitoringFacade,
  SnsAlarmActionStrategy,
  type CustomAlarmThreshold,
  type CustomMetric,
  type CustomThreshold,
  type MetricWithAlarmSupport,
} from 'cdk-monitoring-constructs';
import type { Construct } from 'constructs';
import { REJECTION_REASONS } from '../../lambdas/ingest/reasons';
import { QUARANTINE_DETAIL_TYPE } from '../domain/fastio-envelope';
import { MetricName } from '../../lambdas/shared/metric-names';
import { stackNames, type AppConfig } from '../config';
import type { FlightRecorder } from '../constructs/flight-recorder';
import { AlarmTopic } from '../constructs/monitoring-alarm-topic';
import { OperatorPolicy } from '../constructs/operator-policy';
import {
  METRIC_PERIOD,
  SIGNATURE_REJECTION_REASONS,
  firehoseMetric,
  ingestMetric,
  ruleMetric,
  webhookRejectedMetric,
  webhookRejectionsTotal,
} from '../constructs/monitoring-metrics';
import { BUFFER_VISIBILITY_TIMEOUT, TARGET_RETRY_POLICY, type DeployedTarget, type RouteChain } from '../constructs/route-chain';
import { MAX_RECEIVE_COUNT, type DeadLetterRole } from '../constructs/secure-queue';
import { describeTarget, targetHandle } from '../domain/route-types';
import { OPS_COMMAND, targetAlarmName, type TargetAlarm } from '../domain/resource-names';
import { MonitoringOutput, targetDeadLetterQueueName } from '../stack-outputs';

export interface MonitoringStackProps extends StackProps {
  readonly config: AppConfig;
  /** The custom bus of the rules: its name is the EventBusName dimension of every rule metric. */
  readonly eventBus: events.IEventBus;
  /** The webhook API; its one stage gives the Stage dimension of the API metrics. */
  readonly httpApi: apigwv2.HttpApi;
  readonly ingestFunction: lambda.IFunction;
  readonly chains: readonly RouteChain[];
  /** For the operator policy: the archive replays read from and the secret `ops secret rotate` writes. */
  readonly archive: events.Archive;
  readonly signingSecret: secretsmanager.ISecret;
  /** The flight recorder: its rule, stream and DLQ are alarmed like a route's. */
  readonly recorder: FlightRecorder;
  /** For the operator policy: the completion records `ops trace` and `ops reconcile` read. */
  readonly idempotencyTable: dynamodb.ITableV2;
}

/** Where the alarm descriptions send an operator: README's recovery runbook (ops dlq / replay). */
export const RUNBOOK_LINK = 'README.md#incident-recovery';

/** The disambiguator of every alarm here: each one pages, there is no warning tier. */
export const SEVERITY = 'Critical';

/**
 * Buffered messages older than this mean the consumer is not draining its queue. A message that
 * keeps failing is redelivered every visibility timeout and moved to the DLQ after
 * MAX_RECEIVE_COUNT receives (3 min × 5 = 15 min); a message older than that is in a queue nobody
 * is consuming (event source mapping disabled, consumer throttled, concurrency too low).
 */
export const BUFFER_MAX_AGE_SECONDS = BUFFER_VISIBILITY_TIMEOUT.toSeconds() * MAX_RECEIVE_COUNT;

/**
 * Signature rejections per 5 minutes that page. One stray unsigned request is noise; a forger, or a
 * rotated Fast.io secret nobody copied into Secrets Manager (every real delivery then fails with 401,
 * and 401s never reach the bus or its archive), crosses five within minutes at any real traffic.
 */
export const SIGNATURE_REJECTIONS_THRESHOLD = 5;

/**
 * Consumer errors per 5 minutes that page. SQS redelivery and Lambda's async retries absorb a single
 * failure, and whatever finally fails already pages through the route's DLQ alarm; three in five
 * minutes is a consumer that keeps failing (an async event that fails outright is three errors).
 */
export const CONSUMER_ERRORS_THRESHOLD = 3;

/**
 * Age of the oldest record not yet in S3 that pages. The stream writes every 60 s; a quarter of an
 * hour means S3 writes keep failing (bucket policy, role), and Firehose drops what it could not
 * write within 24 h.
 */
export const RECORDER_MAX_FRESHNESS_SECONDS = 900;

/**
 * Alarms and a dashboard for the whole flow, so operators hear of trouble before Fast.io's retries
 * (for the edge) or the 14-day queue retention (behind the bus) run out.
 *
 * Everything cdk-monitoring-constructs knows how to watch goes through its facade: the HTTP API,
 * the functions, the queues with their DLQs and the state machines. Two kinds of metric it cannot
 * derive from a construct are built by hand in ./constructs/monitoring-metrics and handed to its
 * `monitorCustom`, so they share its alarm naming, SNS action and dashboard:
 * - the ingest function's Powertools metrics, whose dimensions (`service`, `Reason`) only the
 *   handler knows;
 * - rule metrics on a custom bus (EventBusName + RuleName): the facade has no EventBridge monitor
 *   and CDK's Rule exposes no metrics.
 *
 * Every alarm uses 5-minute periods and fires on the first breaching period; counts of failures
 * that should never happen treat missing data as not breaching, since their metrics are only
 * published (or, for queues, only non-empty) when something happens.
 */
export class MonitoringStack extends Stack {
  public readonly alarmTopic: sns.Topic;
  public readonly facade: MonitoringFacade;
  public readonly dashboard: Dashboard;
  /** What an operator attaches to run `npm run ops` against this deployment. */
  public readonly operatorPolicy: OperatorPolicy;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const alarmNamePrefix = `${props.config.stage}-fastio`;

    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { alarmNamePrefix, email: props.config.alarmEmail }).topic;

    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: `${alarmNamePrefix}-flow`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Monitoring', {
      metricFactoryDefaults: { period: METRIC_PERIOD },
      alarmFactoryDefaults: {
        alarmNamePrefix,
        actionsEnabled: true,
        // Tell operators when an alarm fires and when it clears.
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic, onOkTopic: this.alarmTopic }),
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
        runbookLink: RUNBOOK_LINK,
      },
      dashboardFactory: dashboards,
    });

    this.monitorIngest(props);
    this.monitorRoutes(props);
    this.monitorRecorder(props);

    const dashboard = dashboards.createdDashboard();
    if (!dashboard) throw new Error('the monitoring dashboard was not created');
    this.dashboard = dashboard;

    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboardName });

    const names = stackNames(props.config.stage);
    this.operatorPolicy = new OperatorPolicy(this, 'OperatorPolicy', {
      stage: props.config.stage,
      stackNames: [names.stateful, names.ingest, names.routing],
      archive: props.archive,
      eventBus: props.eventBus,
      signingSecret: props.signingSecret,
      chains: props.chains,
      recorder: props.recorder,
      completionTable: props.idempotencyTable,
    });
    new CfnOutput(this, MonitoringOutput.operatorPolicyArn, { value: this.operatorPolicy.policy.managedPolicyArn, description: 'Attach to the operators who run npm run ops' });
  }

  private monitorIngest(props: MonitoringStackProps): void {
    const facade = this.facade;
    facade.addLargeHeader('Ingest: Fast.io → HTTP API → signature check → bus');

    facade.monitorApiGatewayV2HttpApi({
      api: props.httpApi,
      apiStage: onlyStageOf(props.httpApi).stageName,
      alarmFriendlyName: 'webhook-api',
      humanReadableName: 'Webhook HTTP API',
    });

    const requests = props.httpApi.metricCount({ statistic: 'Sum', period: METRIC_PERIOD, label: 'requests' });
    const accepted = ingestMetric(MetricName.webhookAccepted, 'accepted (on the bus)');
    const quarantined = ingestMetric(MetricName.webhookQuarantined, 'quarantined (authentic, unexpected shape)');
    const rejected = webhookRejectionsTotal(Object.values(REJECTION_REASONS), 'rejected');
    const signatureRejections = webhookRejectionsTotal(SIGNATURE_REJECTION_REASONS, 'rejected signatures');
    const publishFailed = ingestMetric(MetricName.publishFailed, 'publish failed (answered 503)');
    const bodyStoreFailed = ingestMetric(MetricName.bodyStoreFailed, 'body store failed (answered 503)');
    const deadlineExceeded = ingestMetric(MetricName.deadlineExceeded, 'deadline exceeded (answered 503)');
    const faultAnswers = serverErrorsBeyondDeferrals(props.httpApi);

    facade.monitorCustom({
      alarmFriendlyName: 'ingest',
      humanReadableName: 'Webhook deliveries',
      metricGroups: [
        { title: 'Requests, accepted, quarantined, rejected', metrics: [requests, accepted, quarantined, rejected] },
        {
          title: '5xx answers that were not deliberate deferrals',
          metrics: [
            withAlarm(faultAnswers, 'Server-Errors', {
              ...pageOnRareFailure(
                `Fast.io received 5xx answers from the webhook API that the ingest did not give on purpose: the function crashed, timed out or was throttled, could not read the signing secret, S3 did not store a body, PutEvents failed, or a call ran out of time. Deferrals while the secret is re-read (${REJECTION_REASONS.awaitingSecretRefresh}: a minute after a rotation, or a forgery flood) are taken off. Fast.io retries for a limited time only. First: search the ingest logs for outcome "secret-unavailable", "publish-failed", "body-store-failed", "deadline-exceeded" or "error".`,
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ],
        },
        {
          title: 'Claim-check body store failures',
          metrics: [
            withAlarm(bodyStoreFailed, 'Body-Store-Failed', {
              ...pageOnRareFailure(
                'The ingest could not store a large (claim-checked) body in the body bucket; the delivery was answered 503 and Fast.io retries it for a limited time. First: check the errorCode of the "storing the body in S3 failed" log lines (permissions, KMS, throttling) and S3 service health.',
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ],
        },
        {
          title: 'AWS calls cut off by the invocation deadline',
          metrics: [
            withAlarm(deadlineExceeded, 'Deadline-Exceeded', {
              ...pageOnRareFailure(
                'An AWS call of the ingest (Secrets Manager, S3 or EventBridge) did not answer before the invocation deadline; the delivery was answered 503 and Fast.io retries it. First: the "deadline" ingest log lines name the call; check that service\'s health and latency in the region.',
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ],
        },
        {
          title: 'Quarantined deliveries',
          metrics: [
            withAlarm(quarantined, 'Quarantined', {
              ...pageOnRareFailure(
                `Authentic Fast.io deliveries could not be mapped (not JSON, not an object, no or bad event type, too deep) and were published as ${QUARANTINE_DETAIL_TYPE} with their raw body: Fast.io changed something, and no route matches them. Nothing is lost: they are on the bus and in the archive. First: read the reason of the "webhook quarantined" ingest log lines, adapt lib/domain/fastio-envelope.ts to the new shape and deploy, so new deliveries are routed again; the quarantined ones can be replayed from the archive to a rule that matches detail-type ${QUARANTINE_DETAIL_TYPE}.`,
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ],
        },
        { title: 'Rejected by reason', metrics: Object.values(REJECTION_REASONS).map(webhookRejectedMetric) },
        {
          title: 'Rejected signatures',
          metrics: [
            withAlarm(signatureRejections, 'Rejected-Signatures', {
              ...pageOnRareFailure(
                `At least ${SIGNATURE_REJECTIONS_THRESHOLD} webhook requests in 5 minutes failed the signature check (missing, malformed, wrong or stale signature). Either someone is forging deliveries, or Fast.io's signing secret was rotated and not copied into Secrets Manager, so every real delivery is now rejected and never reaches the bus or its archive. First: look at "Rejected by reason" and the ingest logs; if the requests come from Fast.io with reason bad-signature, update the secret with aws secretsmanager put-secret-value.`,
              ),
              threshold: SIGNATURE_REJECTIONS_THRESHOLD,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ],
        },
        {
          title: 'Publish failures',
          metrics: [
            withAlarm(publishFailed, 'Publish-Failed', {
              ...pageOnRareFailure(
                'PutEvents to the bus failed (after one retry) for a verified delivery; it was answered 503 and Fast.io will retry it. First: check the errorCode of the "publishing to EventBridge failed" log lines (throttling, permissions, bus deleted) and EventBridge service health.',
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ],
        },
      ],
    });

    facade.monitorLambdaFunction({
      lambdaFunction: props.ingestFunction,
      alarmFriendlyName: 'ingest-function',
      humanReadableName: 'Ingest function (verify and publish)',
      isIterator: false,
      addFaultCountAlarm: {
        [SEVERITY]: {
          ...pageOnRareFailure(
            'The ingest function failed an invocation. It answers its own errors with 503, so this is a crash at start-up or its 6-second timeout; each one is a delivery Fast.io has to retry. First: read the ingest function logs around the alarm time.',
          ),
          maxErrorCount: 1,
        },
      },
      addThrottlesCountAlarm: {
        [SEVERITY]: {
          ...pageOnRareFailure(
            'Lambda throttled the ingest function (account or function concurrency exhausted); API Gateway answered 5xx and Fast.io has to retry. First: check ConcurrentExecutions for the account and which functions use it.',
          ),
          maxErrorCount: 1,
        },
      },
    });
  }

  private monitorRoutes(props: MonitoringStackProps): void {
    const facade = this.facade;
    const { eventBus, chains } = props;
    facade.addLargeHeader('Routing: bus → rules → targets');

    const deployed = chains.flatMap((chain) => chain.targets);
    const label = (target: DeployedTarget) => targetHandle(target.route.name, target.name);
    const targetDlq = (target: DeployedTarget) => targetDeadLetterQueueName(target.route.name, target.name, 'target-dlq');
    const perRule = (metricName: string) => deployed.map((target) => ruleMetric(metricName, eventBus, target.rule, label(target)));
    facade.monitorCustom({
      alarmFriendlyName: 'rules',
      humanReadableName: 'Rules (one line per target: each target has its own rule)',
      metricGroups: [
        { title: 'Matched events', metrics: perRule('MatchedEvents') },
        { title: 'Target invocations', metrics: perRule('Invocations') },
        {
          title: 'Failed invocations (retries exhausted)',
          metrics: deployed.map((target) =>
            withAlarm(ruleMetric('FailedInvocations', eventBus, target.rule, label(target)), targetAlarmName(target.route.name, target.name, 'failed-invocations'), {
              ...pageOnRareFailure(
                `EventBridge gave up delivering events of route ${target.route.name} to target ${target.name} (${TARGET_RETRY_POLICY.retryAttempts} retries over up to ${TARGET_RETRY_POLICY.maxEventAge.toHumanString()}); they went to ${targetDlq(target)}. First: ${OPS_COMMAND} dlq peek ${targetDlq(target)} to read the error (permissions, deleted target, throttling, an HTTP endpoint answering 4xx/5xx), fix it, then ${OPS_COMMAND} dlq redrive the same queue: it re-delivers to that target alone.`,
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ),
        },
        { title: 'Sent to the target DLQ', metrics: perRule('InvocationsSentToDlq') },
        {
          title: 'Neither delivered nor dead-lettered',
          metrics: deployed.map((target) =>
            withAlarm(ruleMetric('InvocationsFailedToBeSentToDlq', eventBus, target.rule, label(target)), targetAlarmName(target.route.name, target.name, 'dlq-delivery-failed'), {
              ...pageOnRareFailure(
                `EventBridge could neither deliver events of route ${target.route.name} to target ${target.name} nor put them in ${targetDlq(target)}: they now exist only in the archive. First: fix the target DLQ (queue policy, queue deleted), then ${OPS_COMMAND} replay start --from <alarm start> --to <now> --route ${target.route.name} --target ${target.name}.`,
              ),
              threshold: 1,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
          ),
        },
      ],
    });

    for (const chain of chains) {
      for (const target of chain.targets) this.monitorTarget(target);
    }

    facade.addLargeHeader('Dead letters');
    facade.monitorCustom({
      alarmFriendlyName: 'dead-letters',
      humanReadableName: 'Messages waiting in dead-letter and failure queues (each alarms at 1)',
      metricGroups: [
        {
          title: 'Visible messages',
          metrics: chains.flatMap((chain) =>
            chain.targets.flatMap((target) =>
              deadLetterEntries(target).map(([role, queue]) =>
                queue.metricApproximateNumberOfMessagesVisible({ period: METRIC_PERIOD, label: targetDeadLetterQueueName(target.route.name, target.name, role) }),
              ),
            ),
          ),
        },
      ],
    });
  }

  private monitorRecorder({ eventBus, recorder }: MonitoringStackProps): void {
    const facade = this.facade;
    facade.addLargeHeader('Flight recorder: bus → Firehose → S3 (Athena)');
    const metric = (name: string, label: string) => ruleMetric(name, eventBus, recorder.rule, label);
    const stream = (name: string, statistic: string, label: string) => firehoseMetric(name, recorder.deliveryStream.ref, statistic, label);
    const onlyTheRecordIsMissing =
      'Their routes received them and the archive has them: only their record is missing, so ops trace and ops reconcile cannot see them.';
    const atLeastOne = { threshold: 1, comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD };
    facade.monitorCustom({
      alarmFriendlyName: 'recorder',
      humanReadableName: 'Flight recorder',
      metricGroups: [
        { title: 'Recorded events', metrics: [metric('Invocations', 'rule invocations'), stream('IncomingRecords', 'Sum', 'records into Firehose')] },
        {
          title: 'Recorder rule failures',
          metrics: [
            withAlarm(metric('FailedInvocations', 'failed invocations (to the recorder DLQ)'), 'Failed-Invocations', {
              ...pageOnRareFailure(
                `EventBridge gave up putting events on the recorder stream (${TARGET_RETRY_POLICY.retryAttempts} retries over up to ${TARGET_RETRY_POLICY.maxEventAge.toHumanString()}); they went to the recorder DLQ. ${onlyTheRecordIsMissing} First: read ERROR_CODE and ERROR_MESSAGE of a message in the RecorderDlqUrl queue (stream deleted, role, throttling), fix it, then replay the window to the recorder rule alone (aws events start-replay with FilterArns = RecorderRuleArn).`,
              ),
              ...atLeastOne,
            }),
            metric('InvocationsSentToDlq', 'sent to the recorder DLQ'),
            withAlarm(metric('InvocationsFailedToBeSentToDlq', 'neither recorded nor dead-lettered'), 'Dlq-Delivery-Failed', {
              ...pageOnRareFailure(
                `EventBridge could neither put events on the recorder stream nor in the recorder DLQ. ${onlyTheRecordIsMissing} First: fix the DLQ (queue policy, queue deleted) and the stream, then replay the window to the recorder rule alone (aws events start-replay with FilterArns = RecorderRuleArn).`,
              ),
              ...atLeastOne,
            }),
          ],
        },
        {
          title: 'Delivery to S3',
          metrics: [
            withAlarm(stream('DeliveryToS3.DataFreshness', 'Maximum', 'oldest record not yet in S3 (s)'), 'Data-Freshness', {
              ...pageOnRareFailure(
                `The oldest record of the recorder stream has waited ${RECORDER_MAX_FRESHNESS_SECONDS / 60} minutes or more for S3: Firehose cannot write the record bucket and retries for 24 h, then drops the records. First: read the S3Delivery log stream of the recorder's delivery log group (AccessDenied, bucket deleted) and fix the bucket or the delivery role.`,
              ),
              threshold: RECORDER_MAX_FRESHNESS_SECONDS,
              comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            }),
            withAlarm(stream('DeliveryToS3.Success', 'Minimum', 'successful S3 puts (ratio)'), 'Delivery-Failed', {
              ...pageOnRareFailure(
                "Firehose failed to write records of the recorder stream to S3 (it retries for 24 h, then drops them). First: read the S3Delivery log stream of the recorder's delivery log group and fix the bucket or the delivery role.",
              ),
              comparisonOperatorOverride: ComparisonOperator.LESS_THAN_THRESHOLD,
              threshold: 1,
              comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
            }),
          ],
        },
      ],
    });
    facade.monitorSqsQueue({
      queue: recorder.deadLetterQueue,
      alarmFriendlyName: 'recorder-dlq',
      humanReadableName: 'Flight recorder: target DLQ',
      addQueueMaxSizeAlarm: {
        [SEVERITY]: {
          ...pageOnRareFailure(
            `The recorder DLQ holds ${DEAD_LETTER_MEANING['recorder-dlq']} (kept 14 days). ${onlyTheRecordIsMissing} First: read ERROR_CODE and ERROR_MESSAGE of a message, fix the stream or its role, then replay the window to the recorder rule alone (aws events start-replay with FilterArns = RecorderRuleArn) and purge the queue.`,
          ),
          maxMessageCount: 1,
        },
      },
    });
  }

  /**
   * One target's queues, consumer and workflow. Targets delivered by EventBridge alone (queue,
   * function or state machine by ARN, topic, API destination, bus) have their target DLQ here;
   * their delivery failures are the rule's FailedInvocations above, which EventBridge publishes per rule.
   */
  private monitorTarget(target: DeployedTarget): void {
    const facade = this.facade;
    const routeName = target.route.name;
    // Alarm names and handles: <route>-<target>-…, <route>/<target>/<role>.
    const alarmName = (alarm: TargetAlarm) => targetAlarmName(routeName, target.name, alarm);
    const handle = (role: DeadLetterRole) => targetDeadLetterQueueName(routeName, target.name, role);
    facade.addMediumHeader(`Route ${routeName}, target ${target.name}: ${describeTarget(target.target)}`);

    const bufferDlq = target.deadLetterQueues['buffer-dlq'];
    if (target.bufferQueue && bufferDlq) {
      facade.monitorSqsQueueWithDlq({
        queue: target.bufferQueue,
        deadLetterQueue: bufferDlq,
        alarmFriendlyName: alarmName('buffer'),
        humanReadableName: `${routeName}/${target.name}: buffer queue`,
        addQueueMaxMessageAgeAlarm: {
          [SEVERITY]: {
            ...pageOnRareFailure(
              `The oldest message in the buffer queue of route ${routeName} target ${target.name} is ${BUFFER_MAX_AGE_SECONDS / 60} minutes old or more: the consumer is not draining it (event source mapping disabled, consumer throttled or failing, concurrency too low). Messages are kept 14 days. First: check the consumer's errors and throttles and the state of its SQS event source mapping.`,
            ),
            maxAgeInSeconds: BUFFER_MAX_AGE_SECONDS,
          },
        },
        addDeadLetterQueueMaxSizeAlarm: { [SEVERITY]: deadLetterAlarm(handle('buffer-dlq'), 'buffer-dlq') },
      });
    }
    for (const [role, queue] of deadLetterEntries(target)) {
      if (role === 'buffer-dlq') continue;
      facade.monitorSqsQueue({
        queue,
        alarmFriendlyName: alarmName(role),
        humanReadableName: handle(role),
        addQueueMaxSizeAlarm: { [SEVERITY]: deadLetterAlarm(handle(role), role) },
      });
    }

    if (target.consumerFunction) {
      facade.monitorLambdaFunction({
        lambdaFunction: target.consumerFunction,
        alarmFriendlyName: alarmName('consumer'),
        humanReadableName: `${routeName}/${target.name}: consumer function`,
        isIterator: false,
        addFaultCountAlarm: {
          [SEVERITY]: {
            ...pageOnRareFailure(
              `The consumer of route ${routeName} target ${target.name} failed ${CONSUMER_ERRORS_THRESHOLD} or more invocations in 5 minutes. Retries absorb single failures and what finally fails lands in the target's DLQ, so this is a consumer that keeps failing. First: read the consumer's logs.`,
            ),
            maxErrorCount: CONSUMER_ERRORS_THRESHOLD,
          },
        },
      });
    }

    if (target.stateMachine) {
      const failures = handle('workflow-failures');
      facade.monitorStepFunction({
        stateMachine: target.stateMachine,
        alarmFriendlyName: alarmName('workflow'),
        humanReadableName: `${routeName}/${target.name}: workflow`,
        addFailedExecutionCountAlarm: {
          [SEVERITY]: {
            ...pageOnRareFailure(
              `Executions of route ${routeName}'s workflow ${target.name} failed; each failure was caught into ${failures} with its error and original event. First: ${OPS_COMMAND} dlq peek ${failures}, fix the cause, then ${OPS_COMMAND} dlq redrive ${failures}.`,
            ),
            maxErrorCount: 1,
          },
        },
        addTimedOutExecutionCountAlarm: {
          [SEVERITY]: {
            ...pageOnRareFailure(
              `An execution of route ${routeName}'s workflow ${target.name} ran past its timeout. A timed-out execution is not caught into ${failures}. First: find it in the Step Functions console and start it again with the same input (or ${OPS_COMMAND} replay start … --route ${routeName} --target ${target.name}).`,
            ),
            maxErrorCount: 1,
          },
        },
      });
    }
  }
}

/**
 * What every alarm here shares: ≥ threshold on the first breaching 5-minute period, missing data
 * not breaching (the metric is absent while nothing fails), and a description that says what to do.
 */
/**
 * The API's 5xx answers minus the ingest's deliberate deferrals (WebhookRejected with reason
 * awaiting-secret-refresh, each answered 503): what is left is a fault. FILL makes a period without
 * either metric 0 rather than missing, and MAX keeps the difference from going below 0 when the two
 * metrics land in neighbouring periods.
 */
function serverErrorsBeyondDeferrals(httpApi: apigwv2.HttpApi): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'MAX([FILL(serverErrors, 0) - FILL(deferrals, 0), FILL(serverErrors, 0) * 0])',
    usingMetrics: {
      serverErrors: new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: '5xx',
        dimensionsMap: { ApiId: httpApi.apiId, Stage: onlyStageOf(httpApi).stageName },
        statistic: cloudwatch.Stats.SUM,
        period: METRIC_PERIOD,
      }),
      deferrals: webhookRejectedMetric(REJECTION_REASONS.awaitingSecretRefresh),
    },
    label: '5xx answers beyond deferrals',
    period: METRIC_PERIOD,
  });
}

function pageOnRareFailure(description: string): CustomAlarmThreshold {
  return {
    comparisonOperatorOverride: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
    datapointsToAlarm: 1,
    evaluationPeriods: 1,
    period: METRIC_PERIOD,
    alarmDescriptionOverride: description,
  };
}

const DEAD_LETTER_MEANING: Record<DeadLetterRole, string> = {
  'target-dlq': 'events EventBridge could not deliver to the target after its retries',
  'buffer-dlq': `messages the consumer failed ${MAX_RECEIVE_COUNT} times`,
  'on-failure': "events the function failed after Lambda's asynchronous retries",
  'workflow-failures': 'workflow executions that failed, with their error and original event',
  'subscription-dlq': 'messages SNS could not deliver to a subscription of the topic after its delivery retries',
  'recorder-dlq': 'events EventBridge could not put on the flight recorder stream after its retries',
};

/**
 * Any message in a dead-letter or failure queue (ApproximateNumberOfMessagesVisible, Maximum, ≥ 1).
 * SQS publishes no datapoints for an idle, empty queue, hence missing data is not breaching.
 */
function deadLetterAlarm(queueName: string, role: DeadLetterRole): CustomAlarmThreshold & { maxMessageCount: number } {
  return {
    ...pageOnRareFailure(
      `${queueName} holds ${DEAD_LETTER_MEANING[role]}. Nothing is lost yet (14-day retention). First: ${OPS_COMMAND} dlq peek ${queueName} to read the error, fix the cause, then ${OPS_COMMAND} dlq redrive ${queueName}.`,
    ),
    maxMessageCount: 1,
  };
}

function deadLetterEntries(target: DeployedTarget): [DeadLetterRole, sqs.Queue][] {
  return Object.entries(target.deadLetterQueues) as [DeadLetterRole, sqs.Queue][];
}

/** HTTP API metrics are per stage; the webhook API has exactly one ($default, auto-deployed). */
function onlyStageOf(api: apigwv2.HttpApi): apigwv2.HttpStage {
  const stages = api.node.children.filter((child): child is apigwv2.HttpStage => child instanceof apigwv2.HttpStage);
  if (stages.length !== 1) throw new Error(`expected the webhook API to have one stage, found ${stages.length}`);
  return stages[0] as apigwv2.HttpStage;
}

/** A dashboard metric that also pages, through the facade's custom alarm factory. */
function withAlarm(metric: MetricWithAlarmSupport, alarmFriendlyName: string, threshold: CustomThreshold): CustomMetric {
  return { metric, alarmFriendlyName, addAlarm: { [SEVERITY]: threshold } };
}
