/**
 * The handler `ops new consumer` writes to `lambdas/<name>/handler.ts`: a function of one Fast.io
 * event on the kind's helper, with the comments a newcomer needs to replace its body.
 */
import { OPS_COMMAND } from '../command';
import type { ConsumerKind } from './consumer-kind';

const DELIVERY: Record<ConsumerKind, string> = {
  queue: ` * Delivery: the route's rule ▶ an SQS buffer ▶ this function, in batches. defineQueueConsumer
 * (lambdas/shared/define-queue-consumer.ts) reports a failed message alone: it is retried, then lands
 * in the route's buffer DLQ (\`${OPS_COMMAND} dlq list\`), while the rest of the batch succeeds.`,
  function: ` * Delivery: EventBridge invokes this function asynchronously with one event. defineEventConsumer
 * (lambdas/shared/define-event-consumer.ts) throws any failure, so Lambda retries the event and then
 * hands it to the route's on-failure queue (\`${OPS_COMMAND} dlq list\`).`,
};

const HELPER: Record<ConsumerKind, string> = { queue: 'defineQueueConsumer', function: 'defineEventConsumer' };
const MODULE: Record<ConsumerKind, string> = { queue: 'define-queue-consumer', function: 'define-event-consumer' };

export function handlerSource(name: string, kind: ConsumerKind): string {
  const helper = HELPER[kind];
  return `/**
 * ${name}: a ${kind} consumer of Fast.io events (written by \`${OPS_COMMAND} new consumer\`; make it yours).
 *
${DELIVERY[kind]}
 *
 * The helper runs the function below once per Fast.io event id (\`detail.eventId\`): a duplicate
 * delivery or a replay of a completed event does nothing, a failed attempt is not recorded and is
 * redone. Still make the work safe to repeat (a conditional write, a create-only put): a replay
 * after the idempotency records expired (7 days) runs it again. An event that is not a Fast.io
 * event, or lacks a field listed in \`requires\`, is rejected with one log line before any work.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ${helper} } from '../shared/${MODULE[kind]}';

export const handler = ${helper}(
  async (event, { logger, metrics }) => {
    // event.detail holds the normalized fields (lambdas/shared/fastio-event.ts): eventId, eventType,
    // occurredAt, workspaceId, fileId, fileName, extension, sizeBytes, agentId (when an agent acted).
    // The verbatim Fast.io payload is \`await body()\` (add \`body\` next to \`logger\` above); it reads
    // S3 only when the ingest claim-checked a large body, and the route must then grant that read.
    logger.info('Fast.io event handled', { eventType: event.detail.eventType, fileName: event.detail.fileName });
    metrics.addMetric('FastioEventHandled', MetricUnit.Count, 1);
    // The result is stored with the idempotency record; a duplicate gets it back.
    return 'handled';
  },
  // Fields this consumer cannot work without, e.g. ['workspaceId', 'fileId'].
  { requires: [] },
);
`;
}
