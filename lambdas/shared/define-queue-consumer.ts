/**
 * `defineQueueConsumer(fn)`: the Lambda handler behind a route's SQS buffer, from a function of one
 * Fast.io event. Each SQS message body is the whole EventBridge event.
 *
 * - Partial batch responses (Powertools BatchProcessor): a message that fails is reported by id and
 *   only it is retried, then redriven to the buffer's DLQ; the rest of the batch succeeds.
 * - A message that is not a Fast.io event, or lacks a field the consumer `requires`, fails alone with
 *   one log line naming the field; it never reaches the idempotency table.
 * - `fn` runs once per `detail.eventId`: a duplicate or replay of a completed event does nothing,
 *   a failed attempt is not recorded and the next delivery redoes it.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseFastioEventJson } from './fastio-event';
import {
  consumerRunner,
  errorSummary,
  faultyField,
  flushMetrics,
  startInvocation,
  type ConsumerFunction,
  type ConsumerOptions,
  type FastioEventWith,
  type RequiredDetailField,
} from './fastio-consumer';
import { logger } from './powertools';

export type QueueConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function defineQueueConsumer<R, K extends RequiredDetailField = never>(
  fn: ConsumerFunction<K, R>,
  options: ConsumerOptions<K> = {},
): QueueConsumerHandler {
  const consumer = consumerRunner(fn, options, 'message will be retried');
  const processor = new BatchProcessor(EventType.SQS);

  const processRecord = async (record: SQSRecord, lambdaContext: Context): Promise<R> => {
    let event: FastioEventWith<K>;
    try {
      event = consumer.accept(parseFastioEventJson(record.body));
    } catch (error) {
      logger.error('Malformed message rejected; it will be retried and then land in the DLQ', {
        messageId: record.messageId,
        field: faultyField(error),
        error: errorSummary(error),
      });
      throw error;
    }
    return consumer.run(event, lambdaContext, { messageId: record.messageId });
  };

  return async (event, context) => {
    startInvocation(context);
    try {
      // Failed messages are reported by id and only they are retried. If every message failed, this
      // throws (Powertools' default) so the invocation counts as an error and the poller backs off.
      return await processPartialResponse(event, (record: SQSRecord) => processRecord(record, context), processor, { context });
    } finally {
      flushMetrics();
    }
  };
}
