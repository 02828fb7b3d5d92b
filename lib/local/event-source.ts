/**
 * The SQS event source mapping: polls a local queue and invokes the consumer with real SQS event
 * records (batch size and batching window from the template), then deletes what succeeded. With
 * ReportBatchItemFailures only the reported messages stay; an invocation error (or an invalid
 * report) leaves the whole batch, which reappears after the visibility timeout and, after
 * maxReceiveCount receives, moves to the DLQ.
 *
 * Not faithful: one poller and one invocation at a time (the template allows MaximumConcurrency);
 * Lambda runs up to that many batches in parallel.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Activity } from './activity';
import { LOCAL_REGION } from './assembly';
import { ALREADY_DONE_LOG_MESSAGE } from '../domain/completion-records';
import { describeWait, type Clock } from './clock';
import { eventLabel, type Flow } from './flow';
import { describeLogRecord, logRecords, type LocalFunction } from './lambda-runtime';
import type { EventSourceMappingDefinition } from './model';
import type { LocalQueue, ReceivedMessage } from './sqs';

export function toSqsRecord(message: ReceivedMessage, queue: LocalQueue): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.messageAttributes).map(([name, value]) => [name, { stringValue: value.StringValue, stringListValues: [], binaryListValues: [], dataType: value.DataType }]),
    ),
    md5OfBody: message.md5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: LOCAL_REGION,
  };
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function describeBody(body: string): string {
  const event = parseBody(body);
  return event === undefined ? 'message' : eventLabel(event);
}

/** The Fast.io event id in a message body (the consumers log it as `eventId`). */
function eventIdOf(body: string): string | undefined {
  const event = parseBody(body) as { detail?: { eventId?: unknown } } | undefined;
  return typeof event?.detail?.eventId === 'string' ? event.detail.eventId : undefined;
}

export class SqsEventSource {
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    readonly queue: LocalQueue,
    readonly fn: LocalFunction,
    readonly mapping: EventSourceMappingDefinition,
    private readonly deps: { clock: Clock; flow: Flow; activity: Activity; route: string },
  ) {}

  start(): void {
    this.#unsubscribe = this.queue.on((event) => {
      if (event.type !== 'dead-lettered') this.#wake?.();
    });
    this.#loop = this.run();
  }

  private waitForMessages(): Promise<void> {
    if (this.queue.visibleCount() > 0 || this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const done = () => {
        this.#wake = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves when a full batch is visible, the window (real ms) has passed, or the source stops. */
  private waitForBatch(windowMs: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, windowMs);
      this.#wake = () => {
        if (this.queue.visibleCount() >= this.mapping.batchSize) done();
      };
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async run(): Promise<void> {
    const { clock } = this.deps;
    while (!this.#abort.signal.aborted) {
      await this.waitForMessages();
      if (this.#abort.signal.aborted) return;
      // The batching window: gather up to a full batch for at most MaximumBatchingWindowInSeconds
      // (Lambda invokes as soon as the batch is full, or when the window ends).
      if (this.queue.visibleCount() < this.mapping.batchSize && this.mapping.maximumBatchingWindowSeconds > 0) {
        await this.waitForBatch(clock.scaled(this.mapping.maximumBatchingWindowSeconds * 1000));
        if (this.#abort.signal.aborted) return;
      }
      const messages = this.queue.receive(this.mapping.batchSize);
      if (messages.length === 0) continue;
      await this.deps.activity.track(this.deliver(messages));
    }
  }

  private async deliver(messages: ReceivedMessage[]): Promise<void> {
    const { flow, route } = this.deps;
    const label = this.fn.label;
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, this.queue)) };
    const outcome = await this.fn.invoke(event);
    const byId = new Map(messages.map((message) => [message.messageId, message]));
    const maxReceives = this.queue.definition.redrive?.maxReceiveCount;
    const visibility = this.queue.definition.visibilityTimeoutSeconds;
    const deadLetterQueue = this.queue.deadLetterQueue?.definition.label ?? `the dead-letter queue of ${route}`;
    const retryNote = (message: ReceivedMessage) =>
      maxReceives !== undefined && message.receiveCount >= maxReceives
        ? `receive ${message.receiveCount} of ${maxReceives}; next: ${deadLetterQueue}`
        : `receive ${message.receiveCount}${maxReceives !== undefined ? ` of ${maxReceives}` : ''}; visible again in ${describeWait(this.deps.clock, visibility * 1000)}`;
    const reasons = new Map<string, string>();
    const done = new Map<string, string>();
    for (const record of logRecords(outcome.logs)) {
      if (record.level === 'ERROR' && typeof record.messageId === 'string') reasons.set(record.messageId, describeLogRecord(record));
      if (record.level === 'INFO' && typeof record.eventId === 'string' && typeof record.message === 'string') done.set(record.eventId, record.message);
    }

    let failed: ReceivedMessage[];
    if (!outcome.ok) {
      // Every message of the batch stays; each gets its own line below.
      failed = messages;
    } else {
      const response = outcome.payload as Partial<SQSBatchResponse> | null;
      const reported = this.mapping.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
      const invalid = reported.some((failure) => typeof failure?.itemIdentifier !== 'string' || !byId.has(failure.itemIdentifier));
      if (invalid) {
        // Lambda treats a report naming no message of the batch as a failure of the whole batch.
        failed = messages;
        flow.emit('fail', label, `batch of ${messages.length}: invalid batchItemFailures ${JSON.stringify(reported)}; the whole batch is retried`);
      } else {
        failed = reported.map((failure) => byId.get(failure.itemIdentifier) as ReceivedMessage);
      }
    }
    for (const message of messages) {
      if (failed.includes(message)) {
        const reason = reasons.get(message.messageId) ?? (outcome.ok ? 'reported in batchItemFailures' : `the invocation failed: ${outcome.error?.errorType}: ${outcome.error?.errorMessage}`);
        flow.emit('fail', label, `${describeBody(message.body)}: ${reason} (${retryNote(message)})`, { messageId: message.messageId, receiveCount: message.receiveCount });
      } else {
        this.queue.delete(message.receiptHandle);
        const logged = done.get(eventIdOf(message.body) ?? '');
        const what = logged === ALREADY_DONE_LOG_MESSAGE ? 'already done, skipped (its work completed before: a duplicate delivery)' : `processed${logged ? ` (${logged})` : ''}`;
        flow.emit('ok', label, `${describeBody(message.body)}: ${what} (message ${message.messageId.slice(0, 8)}, receive ${message.receiveCount})`, { messageId: message.messageId });
      }
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#unsubscribe?.();
    await this.#loop;
  }
}
