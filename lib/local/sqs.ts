/**
 * A local SQS standard queue: visibility timeout, receive counts, message attributes and the
 * redrive policy (a message received more than maxReceiveCount times moves to the dead-letter
 * queue on its next receive, keeping its message id and original SentTimestamp), all from the
 * template. Not emulated: 14-day retention, delay seconds, the 256 KB message limit, FIFO.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from './clock';

export interface MessageAttributeValue {
  readonly DataType: 'String' | 'Number';
  readonly StringValue: string;
}

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly sentTimestamp: number;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  receiveCount: number;
  firstReceiveTimestamp: number | undefined;
  /** Monotonic ms when the message is visible again; 0 = visible. */
  visibleAt: number;
  receiptHandle: string | undefined;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly receiveCount: number;
  readonly sentTimestamp: number;
  readonly firstReceiveTimestamp: number;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
}

export interface QueueDefinition {
  readonly logicalId: string;
  /** For people: `documents/queue/buffer-dlq`, `documents/BufferQueue`, or the logical id. */
  readonly label: string;
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly redrive?: { readonly deadLetterArn: string; readonly maxReceiveCount: number };
}

export type QueueListener = (event: { type: 'sent' | 'visible' | 'dead-lettered'; queue: LocalQueue; message: QueueMessage }) => void;

export class LocalQueue {
  readonly #messages: QueueMessage[] = [];
  readonly #listeners = new Set<QueueListener>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  deadLetterQueue: LocalQueue | undefined;

  constructor(
    readonly definition: QueueDefinition,
    private readonly clock: Clock,
  ) {}

  get name(): string {
    return this.definition.name;
  }

  get arn(): string {
    return this.definition.arn;
  }

  on(listener: QueueListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  private emit(type: 'sent' | 'visible' | 'dead-lettered', message: QueueMessage): void {
    for (const listener of this.#listeners) listener({ type, queue: this, message });
  }

  send(body: string, options: { messageAttributes?: Record<string, MessageAttributeValue>; keep?: Pick<QueueMessage, 'messageId' | 'sentTimestamp'> } = {}): QueueMessage {
    const message: QueueMessage = {
      messageId: options.keep?.messageId ?? randomUUID(),
      body,
      md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
      sentTimestamp: options.keep?.sentTimestamp ?? this.clock.now(),
      messageAttributes: options.messageAttributes ?? {},
      receiveCount: 0,
      firstReceiveTimestamp: undefined,
      visibleAt: 0,
      receiptHandle: undefined,
    };
    this.#messages.push(message);
    this.emit('sent', message);
    return message;
  }

  private isVisible(message: QueueMessage): boolean {
    return message.visibleAt <= this.clock.monotonic();
  }

  /**
   * Receives up to `max` visible messages and hides them for the visibility timeout (the queue's,
   * unless given). Messages already received maxReceiveCount times move to the DLQ instead.
   */
  receive(max: number, visibilityTimeoutSeconds = this.definition.visibilityTimeoutSeconds): ReceivedMessage[] {
    const received: ReceivedMessage[] = [];
    for (const message of [...this.#messages]) {
      if (received.length >= max) break;
      if (!this.isVisible(message)) continue;
      const redrive = this.definition.redrive;
      if (redrive && this.deadLetterQueue && message.receiveCount >= redrive.maxReceiveCount) {
        this.#messages.splice(this.#messages.indexOf(message), 1);
        const moved = this.deadLetterQueue.send(message.body, {
          messageAttributes: { ...message.messageAttributes },
          keep: { messageId: message.messageId, sentTimestamp: message.sentTimestamp },
        });
        moved.receiveCount = 0;
        this.emit('dead-lettered', { ...message });
        continue;
      }
      const now = this.clock.now();
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.receiptHandle = `${message.messageId}#${randomUUID()}`;
      this.hide(message, visibilityTimeoutSeconds);
      received.push({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        md5OfBody: message.md5OfBody,
        receiveCount: message.receiveCount,
        sentTimestamp: message.sentTimestamp,
        firstReceiveTimestamp: message.firstReceiveTimestamp,
        messageAttributes: message.messageAttributes,
      });
    }
    return received;
  }

  private hide(message: QueueMessage, seconds: number): void {
    const delay = this.clock.scaled(seconds * 1000);
    message.visibleAt = this.clock.monotonic() + delay;
    if (delay <= 0) {
      message.visibleAt = 0;
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#messages.includes(message) && this.isVisible(message)) this.emit('visible', message);
    }, delay + 1);
    this.#timers.add(timer);
  }

  private byReceipt(receiptHandle: string): QueueMessage | undefined {
    return this.#messages.find((message) => message.receiptHandle === receiptHandle);
  }

  /** Deletes by receipt handle; false when the handle is not the message's latest one. */
  delete(receiptHandle: string): boolean {
    const message = this.byReceipt(receiptHandle);
    if (message === undefined) return false;
    this.#messages.splice(this.#messages.indexOf(message), 1);
    return true;
  }

  changeVisibility(receiptHandle: string, seconds: number): boolean {
    const message = this.byReceipt(receiptHandle);
    if (message === undefined) return false;
    if (seconds === 0) {
      message.visibleAt = 0;
      this.emit('visible', message);
    } else {
      this.hide(message, seconds);
    }
    return true;
  }

  /** PurgeQueue: deletes every message, visible or in flight; returns how many. */
  purge(): number {
    const count = this.#messages.length;
    this.#messages.length = 0;
    return count;
  }

  visibleCount(): number {
    return this.#messages.filter((message) => this.isVisible(message)).length;
  }

  depth(): { visible: number; inFlight: number } {
    const visible = this.visibleCount();
    return { visible, inFlight: this.#messages.length - visible };
  }

  /** A copy of every message, oldest first (for inspection; nothing is received). */
  snapshot(): QueueMessage[] {
    return this.#messages.map((message) => ({ ...message }));
  }

  oldestSentTimestamp(): number | undefined {
    return this.#messages.reduce<number | undefined>((oldest, message) => (oldest === undefined || message.sentTimestamp < oldest ? message.sentTimestamp : oldest), undefined);
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#listeners.clear();
  }
}
