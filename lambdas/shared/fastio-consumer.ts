/**
 * What `defineQueueConsumer` and `defineEventConsumer` share: accepting one Fast.io event (parse,
 * validate, reject with one log line), running the consumer's function once per Fast.io event id
 * (Powertools Idempotency), and the context the function gets (a logger keyed on the event, the
 * shared metrics, the claim-checked body read on demand).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { readPayload } from './fastio-body';
import { FastioEventError, parseFastioEvent, requireDetailField } from './fastio-event';
import type { FastioEvent, FastioEventDetail } from './fastio-event';
import { ALREADY_DONE_LOG_MESSAGE } from '../../lib/domain/completion-records';
import { idempotencyConfig, idempotencyKeyPrefix, persistenceStore } from './idempotency';
import { logger, loggedError, metrics, type LoggedError } from './powertools';

/** Detail fields that are optional in the envelope but that a consumer may declare it cannot work without. */
export type RequiredDetailField = Parameters<typeof requireDetailField>[1];

/** A Fast.io event whose required fields (`K`) are known to be present. */
export type FastioEventWith<K extends RequiredDetailField = never> = FastioEvent & {
  readonly detail: FastioEventDetail & { readonly [P in K]: string };
};

/** What a consumer's function gets beside its event. */
export interface ConsumerContext {
  /** The invocation's Lambda context (remaining time, request id). */
  readonly lambdaContext: Context;
  /** The shared logger with this event's id (and, for a queue consumer, the SQS message id) on every line. */
  readonly logger: Logger;
  /** The shared Metrics; the helper flushes it at the end of the invocation. */
  readonly metrics: Metrics;
  /**
   * The verbatim Fast.io payload: `detail.payload`, or the claim-checked body read back from S3 and
   * checked against its reference. Read on the first call only, so a consumer that needs only the
   * normalized fields never touches S3 (nor needs read access to the bodies bucket).
   */
  body(): Promise<Record<string, unknown>>;
}

/** The work for one event. Its resolved value is what the idempotency record stores and what a duplicate gets back. */
export type ConsumerFunction<K extends RequiredDetailField, R> = (event: FastioEventWith<K>, context: ConsumerContext) => Promise<R>;

export interface ConsumerOptions<K extends RequiredDetailField> {
  /**
   * Detail fields the consumer cannot work without. An event without one is rejected before the
   * idempotency layer, so an event that can never succeed is never recorded.
   * @default - none
   */
  readonly requires?: readonly K[];
  /**
   * What the consumer does, as the subject of its failure log line (`<action> failed; ...`).
   * @default 'Processing'
   */
  readonly action?: string;
}

/** An error as a log attribute: name, first line of the message, code; the stack only at debug level or with VERBOSE. */
export const errorSummary = (error: unknown): LoggedError => {
  const logged = loggedError(error);
  return { ...logged, message: logged.message.split('\n')[0] ?? '' };
};

/** Parses and checks one event, returning it typed; throws `FastioEventError` naming the field at fault. */
function acceptEvent<K extends RequiredDetailField>(input: unknown, requires: readonly K[]): FastioEventWith<K> {
  const event = parseFastioEvent(input);
  for (const field of requires) requireDetailField(event, field);
  return event as FastioEventWith<K>;
}

/** The field at fault of a rejected event, for the log line. */
export const faultyField = (error: unknown): string | undefined => (error instanceof FastioEventError ? error.field : undefined);

/** Per invocation: the logger and the idempotency in-progress expiry follow the Lambda context. */
export function startInvocation(context: Context): void {
  logger.addContext(context);
  idempotencyConfig.registerLambdaContext(context);
}

/** End of invocation: publish what the consumers added (an empty flush would only log a warning). */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** The context for one event; `body()` is read once, on demand. */
function consumerContext(event: FastioEvent, lambdaContext: Context, keys: Record<string, string>): ConsumerContext {
  let body: Promise<Record<string, unknown>> | undefined;
  return {
    lambdaContext,
    // A child per event, not appendKeys on the shared logger: the records of a batch run concurrently.
    logger: logger.createChild({ persistentKeys: { eventId: event.detail.eventId, ...keys } }),
    metrics,
    body: () => {
      body ??= readPayload(event.detail);
      return body;
    },
  };
}

/**
 * The function run once per `detail.eventId` (lambdas/shared/idempotency.ts): a completed event is
 * recorded with the function's result and a duplicate or replay gets that result without running
 * it; a failure deletes the in-progress record, so the next delivery redoes the work. The record key
 * is `<function name>#md5(eventId)`, as before the helpers existed, so records written by earlier
 * deployments still count.
 */
function runOncePerEvent<K extends RequiredDetailField, R>(fn: ConsumerFunction<K, R>): ConsumerFunction<K, R> {
  // The context is the second argument and has no getRemainingTimeInMillis, so Powertools hashes the event (argument 0).
  // Keyed `<route>/<target>#<hash>` so ops trace and reconcile find the completion by event id and route.
  return makeIdempotent(fn, { persistenceStore, config: idempotencyConfig, keyPrefix: idempotencyKeyPrefix });
}

/** Another invocation holds the in-progress record of this event: a retry will find it completed (or redo it). */
const isAlreadyInProgress = (error: unknown): boolean =>
  error instanceof Error && error.name === 'IdempotencyAlreadyInProgressError';

/** One kind's way of running a consumer function: check an input, then do the work once, logging a failure. */
export interface ConsumerRunner<K extends RequiredDetailField, R> {
  /** The input as a checked Fast.io event; throws `FastioEventError` naming the field at fault. */
  accept(input: unknown): FastioEventWith<K>;
  /** The work for one accepted event, once per event id; a failure is logged (no stack) and rethrown. */
  run(event: FastioEventWith<K>, lambdaContext: Context, logKeys: Record<string, string>): Promise<R>;
}

/** `retryNote` says what happens to a failed event in this kind, e.g. 'message will be retried'. */
export function consumerRunner<K extends RequiredDetailField, R>(
  fn: ConsumerFunction<K, R>,
  options: ConsumerOptions<K>,
  retryNote: string,
): ConsumerRunner<K, R> {
  const requires = options.requires ?? [];
  const action = options.action ?? 'Processing';
  // The contexts whose function really ran: Powertools answers a completed event from its record without calling it.
  const ran = new WeakSet<ConsumerContext>();
  const once = runOncePerEvent<K, R>((event, context) => {
    ran.add(context);
    return fn(event, context);
  });
  return {
    accept: (input) => acceptEvent(input, requires),
    async run(event, lambdaContext, logKeys) {
      const context = consumerContext(event, lambdaContext, logKeys);
      try {
        const result = await once(event, context);
        if (!ran.has(context)) context.logger.info(ALREADY_DONE_LOG_MESSAGE);
        return result;
      } catch (error) {
        if (isAlreadyInProgress(error)) {
          context.logger.warn(`Same event is in progress in another invocation; ${retryNote}`, { error: errorSummary(error) });
        } else {
          context.logger.error(`${action} failed; ${retryNote}`, { error: errorSummary(error) });
        }
        throw error;
      }
    },
  };
}
