/**
 * `defineEventConsumer(fn)`: the Lambda handler EventBridge invokes asynchronously with one event,
 * from a function of that Fast.io event. It resolves to `fn`'s result.
 *
 * - Any failure is thrown: Lambda retries the async invocation, then hands the original event to the
 *   function's on-failure destination (the route's DLQ).
 * - An event that is not a Fast.io event, or lacks a field the consumer `requires`, is rejected with
 *   one log line naming the field and a `FastioEventError`; it never reaches the idempotency table.
 * - `fn` runs once per `detail.eventId`: a duplicate or replay of a completed event does nothing,
 *   a failed attempt is not recorded and the retry redoes it.
 */
import type { Context } from 'aws-lambda';
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

export type EventConsumerHandler<R> = (event: unknown, context: Context) => Promise<R>;

export function defineEventConsumer<R, K extends RequiredDetailField = never>(
  fn: ConsumerFunction<K, R>,
  options: ConsumerOptions<K> = {},
): EventConsumerHandler<R> {
  const consumer = consumerRunner(fn, options, 'Lambda will retry the event');

  return async (input, lambdaContext) => {
    startInvocation(lambdaContext);
    try {
      let event: FastioEventWith<K>;
      try {
        event = consumer.accept(input);
      } catch (error) {
        logger.error('Malformed event rejected; Lambda retries it, then sends it to the on-failure destination', {
          eventBridgeId: typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined,
          field: faultyField(error),
          error: errorSummary(error),
        });
        throw error;
      }
      return await consumer.run(event, lambdaContext, {});
    } finally {
      flushMetrics();
    }
  };
}
