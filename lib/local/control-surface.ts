/**
 * What the control endpoint (control.ts) needs of a running local pipeline, and the shapes it
 * answers with (shared with control-client.ts). It lives apart from pipeline.ts so that the
 * pipeline depends on the control endpoint and not the other way round.
 */
import type { LocalArchive } from './archive';
import type { Clock } from './clock';
import type { LocalDynamoDb } from './dynamodb';
import type { ReplayRequest, ReplayResult } from './event-bus';
import type { FaultRegistry } from './faults';
import type { LocalFunction } from './lambda-runtime';
import type { LocalModel } from './model';
import type { LocalRecorder } from './recorder';
import type { DeadLetterRole } from '../constructs/secure-queue';

export interface DeadLetterQueueStatus {
  readonly name: string;
  readonly route: string;
  readonly role: DeadLetterRole;
  readonly depth: number;
  readonly visible: number;
  readonly inFlight: number;
  /** Age of the oldest message in seconds; null when empty. */
  readonly oldestAgeSeconds: number | null;
}

export interface PeekedMessage {
  readonly messageId: string;
  readonly sentAt: string;
  readonly receiveCount: number;
  readonly event?: Record<string, unknown>;
  readonly problem?: string;
  readonly failure: Record<string, string | undefined>;
  readonly body: string;
}

export interface DeliverResult {
  readonly delivered: number;
  readonly failures: string[];
  /** Per event, in order: its Fast.io event id and whether it was delivered (for the recovery log). */
  readonly outcomes: { readonly fastioEventId?: string; readonly delivered: boolean; readonly reason?: string }[];
}

export interface RedriveResult {
  readonly queue: string;
  readonly destination: string;
  readonly moved: number;
  readonly failed: number;
  readonly left: number;
  readonly failures: { readonly messageId: string; readonly reason: string; readonly fastioEventId?: string; readonly sentAt?: string; readonly failure?: Record<string, string | undefined> }[];
  /** Each message moved, with its Fast.io event id when it held a readable event (for the recovery log). */
  readonly redriven: { readonly messageId: string; readonly fastioEventId?: string; readonly sentAt: string; readonly failure: Record<string, string | undefined> }[];
}

/** A finished local replay: local replays run synchronously, so every one is COMPLETED. */
export interface LocalReplay extends ReplayResult {
  readonly replayStartTime: string;
  readonly replayEndTime: string;
}

export interface PipelineFile {
  readonly url: string;
  readonly webhookUrl: string;
  readonly controlUrl: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly stateDir: string;
}

/**
 * A delivery to a target that exists outside this app (a queue, function, state machine, topic or
 * bus named by ARN, or a topic the stack creates): the real resource is elsewhere, so the local
 * pipeline records what EventBridge would have sent it.
 */
export interface ArnDelivery {
  readonly at: string;
  readonly route: string;
  /** The route table's name of the target (the template's target Id where it names none). */
  readonly target: string;
  readonly arn: string;
  readonly eventId: string;
  /** The exact body EventBridge would send (after the target's input transform). */
  readonly body: string;
}

export interface ControlledPipeline {
  readonly url: string;
  readonly webhookUrl: string;
  readonly awsEndpoint: string;
  readonly options: { readonly stateDir: string };
  readonly clock: Pick<Clock, 'now' | 'timeScale'>;
  readonly model: Pick<LocalModel, 'archive' | 'rules' | 'queues' | 'stateMachines'>;
  readonly functions: ReadonlyMap<string, Pick<LocalFunction, 'label' | 'name' | 'definition'>>;
  readonly dynamodb: Pick<LocalDynamoDb, 'tableNames' | 'definition' | 'scan'>;
  readonly archive: Pick<LocalArchive, 'count' | 'records'>;
  readonly recorder: Pick<LocalRecorder, 'bufferMs'>;
  readonly faults: Pick<FaultRegistry, 'add' | 'list' | 'remove'>;
  readonly replays: readonly LocalReplay[];
  readonly arnDeliveries: readonly ArnDelivery[];
  replay(request: ReplayRequest): ReplayResult;
  deadLetterQueues(): DeadLetterQueueStatus[];
  peek(name: string, max?: number): PeekedMessage[];
  redrive(name: string, options?: { max?: number; messageIds?: readonly string[] }): Promise<RedriveResult>;
  purge(name: string): { queue: string; purged: number };
  deliverToTarget(route: string, targetName: string | undefined, events: readonly Record<string, unknown>[]): Promise<DeliverResult>;
}
