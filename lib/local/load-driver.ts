/**
 * Shared by the reliability suites (pipeline-faults, pipeline-load) and `npm run bench -- --only
 * pipeline`: start the local pipeline with an effect tap, generate a mix of signed Fast.io webhooks,
 * deliver them as Fast.io does (bounded concurrency, resending 429/5xx answers, and resending the
 * same body when a 202 was lost on the way back), wait until the pipeline is quiet, and check
 * conservation by effects: every accepted webhook had the effect of each target of each route it
 * matches exactly once (a catalog write, an audit record, a completed review with one notification,
 * one accepted call of an http target), or sits in a dead-letter queue of that target; nothing
 * rejected reached the bus.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractEvent } from './dead-letters';
import { startPipeline, type LocalPipeline, type LocalPipelineOptions } from './pipeline';
import { eventFromPayload, matchingRouteNames } from '../domain/route-samples';
import { consumerOf, findRoute, targetHandle, targetName, type RouteTarget } from '../route-table';
import { idempotencyRecordId } from '../domain/completion-records';
import { signWebhook, type SignatureScheme } from '../domain/webhook-signature';
import { samplePayload as fixturePayload } from '../domain/sample-payloads';

// ---- the pipeline and its effect tap -------------------------------------------------------------

/** Calls of one consumer effect for one Fast.io event id, as the DynamoDB stand-in answered them. */
export interface EffectCalls {
  ok: number;
  failed: number;
  /** performance.now() of the first successful call. */
  firstOkAt: number | undefined;
}

/**
 * The consumers' own writes, by Fast.io event id: the catalog consumer's conditional UpdateItem
 * (the only catalog write that sets `lastEventId`; the review workflow's updates do not) and the
 * agent audit's PutItem. Counted where the DynamoDB stand-in answers, so a write is counted once
 * whoever retried it.
 */
export interface EffectLog {
  readonly catalogWrites: Map<string, EffectCalls>;
  readonly auditPuts: Map<string, EffectCalls>;
  /** Powertools Idempotency records set COMPLETED, by record id (`<route>/<target>#<hash>`): a target's own completion evidence. */
  readonly completions: Map<string, number>;
}

/** One request an http target made to the loopback receiver. */
export interface HttpReceipt {
  /** `/<route>/<target>`: where the reliability assembly points each http target. */
  readonly path: string;
  /** The Idempotency-Key header: the Fast.io event id. */
  readonly idempotencyKey: string | undefined;
  readonly status: number;
  readonly body: string;
}

/**
 * A loopback receiver for the http targets of a reliability run: answers 200, or 503 for the event
 * ids in `failing` (the test heals it by clearing the set), and keeps every request.
 */
export interface LoopbackReceiver {
  readonly url: string;
  readonly receipts: HttpReceipt[];
  readonly failing: Set<string>;
  close(): Promise<void>;
}

export async function startLoopbackReceiver(): Promise<LoopbackReceiver> {
  const receipts: HttpReceipt[] = [];
  const failing = new Set<string>();
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const header = incoming.headers['idempotency-key'];
      const idempotencyKey = Array.isArray(header) ? header[0] : header;
      const status = idempotencyKey !== undefined && failing.has(idempotencyKey) ? 503 : 200;
      receipts.push({ path: incoming.url ?? '', idempotencyKey, status, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    receipts,
    failing,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface RunningPipeline {
  readonly pipeline: LocalPipeline;
  readonly secret: string;
  readonly effects: EffectLog;
  /** The receiver the http targets call, when the assembly has any. */
  readonly receiver?: LoopbackReceiver;
  stop(): Promise<void>;
}

function stringAttribute(value: unknown): string | undefined {
  const s = (value as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** Wraps the DynamoDB stand-in's dispatcher (used by the AWS endpoint and the workflow alike) to count consumer effects. */
function tapEffects(pipeline: LocalPipeline): EffectLog {
  const effects: EffectLog = { catalogWrites: new Map(), auditPuts: new Map(), completions: new Map() };
  const dynamodb = pipeline.dynamodb;
  const catalogTable = dynamodb.definition('catalog')?.name;
  const auditTable = dynamodb.definition('audit')?.name;
  const idempotencyTable = dynamodb.definition('idempotency')?.name;
  if (catalogTable === undefined || auditTable === undefined || idempotencyTable === undefined) throw new Error('the local pipeline has no catalog, audit or idempotency table');
  const handle = dynamodb.handle.bind(dynamodb);
  dynamodb.handle = (operation, input) => {
    if (operation === 'UpdateItem' && input.TableName === idempotencyTable && stringAttribute((input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':status']) === 'COMPLETED') {
      const id = stringAttribute((input.Key as Record<string, unknown> | undefined)?.id);
      const output = handle(operation, input);
      if (id !== undefined) bump(effects.completions, id);
      return output;
    }
    let log: Map<string, EffectCalls> | undefined;
    let eventId: string | undefined;
    if (operation === 'UpdateItem' && input.TableName === catalogTable && (input.ExpressionAttributeNames as Record<string, unknown> | undefined)?.['#lastEventId'] !== undefined) {
      log = effects.catalogWrites;
      eventId = stringAttribute((input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':eventId']);
    } else if (operation === 'PutItem' && input.TableName === auditTable) {
      log = effects.auditPuts;
      eventId = stringAttribute((input.Item as Record<string, unknown> | undefined)?.eventId);
    }
    if (log === undefined || eventId === undefined) return handle(operation, input);
    let calls = log.get(eventId);
    if (calls === undefined) {
      calls = { ok: 0, failed: 0, firstOkAt: undefined };
      log.set(eventId, calls);
    }
    try {
      const output = handle(operation, input);
      calls.ok += 1;
      calls.firstOkAt ??= performance.now();
      return output;
    } catch (error) {
      calls.failed += 1;
      throw error;
    }
  };
  return effects;
}

export interface ReliabilityPipelineOptions {
  /** Divides AWS-side waits; default 1000 (as the e2e tests). */
  readonly timeScale?: number;
  /** The template's stage throttling unless overridden; false = none. */
  readonly apiThrottle?: LocalPipelineOptions['apiThrottle'];
  /** A cloud assembly of the test's own (default: cdk.out), e.g. one with http targets pointed at `receiver`. */
  readonly assemblyDir?: string;
  readonly receiver?: LoopbackReceiver;
}

export async function startReliabilityPipeline(options: ReliabilityPipelineOptions = {}): Promise<RunningPipeline> {
  const stateDir = mkdtempSync(join(tmpdir(), 'fastio-reliability-'));
  const pipeline = await startPipeline({
    port: 0,
    stateDir,
    synth: 'if-missing',
    timeScale: options.timeScale ?? 1000,
    ...(options.apiThrottle === undefined ? {} : { apiThrottle: options.apiThrottle }),
    ...(options.assemblyDir === undefined ? {} : { assemblyDir: options.assemblyDir }),
  });
  return {
    pipeline,
    secret: readFileSync(pipeline.secretFile, 'utf8').trim(),
    effects: tapEffects(pipeline),
    ...(options.receiver === undefined ? {} : { receiver: options.receiver }),
    async stop() {
      await pipeline.stop();
      await options.receiver?.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

// ---- webhooks --------------------------------------------------------------------------------------

export type WebhookKind = 'document' | 'agent-action' | 'large-media' | 'untrusted-deletion' | 'small-image' | 'small-video';

/** The mix, in sending order: every route, several routes at once, and no route at all. */
export const MIX: readonly WebhookKind[] = ['document', 'agent-action', 'large-media', 'untrusted-deletion', 'small-image'];

/** MIX and a video for the fan-out route (catalog + an http target), for a pipeline that deploys its http target. */
export const FAN_OUT_MIX: readonly WebhookKind[] = [...MIX, 'small-video'];

/** What each kind is expected to reach (checked against the route table by the tests). */
export const EXPECTED_ROUTES: Readonly<Record<WebhookKind, readonly string[]>> = {
  document: ['documents'],
  'agent-action': ['documents', 'agent-activity'],
  'large-media': ['large-media'],
  'untrusted-deletion': ['documents', 'agent-activity', 'untrusted-agent-deletions'],
  'small-image': [],
  'small-video': ['video-uploads'],
};

const FIXTURE: Readonly<Record<WebhookKind, string>> = {
  document: 'document-uploaded',
  'agent-action': 'agent-file-created',
  'large-media': 'large-video-uploaded',
  'untrusted-deletion': 'file-deleted',
  'small-image': 'image-small',
  'small-video': 'document-uploaded',
};

/** Names a sender chose, hostile where they land (a chat message): a quote, a mention, a link. */
const FILE_NAME: Partial<Record<WebhookKind, string>> = { 'small-video': 'Bob "final" <!channel> <https://evil.example|cut>.mp4' };

export const ROGUE_AGENT = 'agt_rogue_7c41';

export interface Webhook {
  readonly kind: WebhookKind;
  readonly eventId: string;
  readonly fileId: string;
  readonly rawBody: Buffer;
  readonly scheme: SignatureScheme;
  /** Signed with a wrong secret: must finally be answered 401 (after any 503 awaiting a secret refresh) and never reach the bus. */
  readonly forged: boolean;
  /** Routes its event matches, as the bus will judge it (the ingest's normalization + the route table). */
  readonly routes: readonly string[];
}

export interface WebhookOptions {
  readonly agentId?: string;
  readonly forged?: boolean;
}

/** A webhook with unique event and file ids (`<runId>-<index>`), from the kind's fixture. */
export function makeWebhook(runId: string, index: number, kind: WebhookKind, options: WebhookOptions = {}): Webhook {
  const eventId = `evt-${runId}-${index}`;
  const fileId = `file-${runId}-${index}`;
  const agentId = options.agentId ?? (kind === 'untrusted-deletion' ? ROGUE_AGENT : undefined);
  const fileName = FILE_NAME[kind];
  const payload = fixturePayload(FIXTURE[kind], { eventId, fileId, ...(agentId === undefined ? {} : { agentId }), ...(fileName === undefined ? {} : { fileName }) });
  const rawBody = Buffer.from(JSON.stringify(payload));
  return {
    kind,
    eventId,
    fileId,
    rawBody,
    scheme: index % 2 === 0 ? 'body-hmac' : 'timestamped',
    forged: options.forged ?? false,
    routes: matchingRouteNames(eventFromPayload(rawBody).event),
  };
}

/** `count` webhooks cycling through `mix` (default MIX). */
export function makeMix(runId: string, count: number, first = 0, mix: readonly WebhookKind[] = MIX): Webhook[] {
  return Array.from({ length: count }, (_, i) => makeWebhook(runId, first + i, mix[(first + i) % mix.length] as WebhookKind));
}

// ---- delivery, as Fast.io does it ------------------------------------------------------------------

export const FORGED_SECRET = 'not-the-signing-secret-0123456789';

export interface PostResult {
  readonly status: number;
  /** performance.now() when the request was started and when its answer was complete. */
  readonly startedAt: number;
  readonly answeredAt: number;
}

/** POSTs signed webhooks over keep-alive connections (cheaper than fetch in the same process as the pipeline). */
export class WebhookClient {
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(
    webhookUrl: string,
    private readonly secret: string,
    maxSockets: number,
  ) {
    this.#agent = new Agent({ keepAlive: true, maxSockets });
    this.#url = new URL(webhookUrl);
  }

  post(webhook: Webhook): Promise<PostResult> {
    const startedAt = performance.now();
    // Signed at each attempt, as a sender does: a timestamped signature must be fresh.
    const headers = signWebhook({ rawBody: webhook.rawBody, secret: webhook.forged ? FORGED_SECRET : this.secret, scheme: webhook.scheme });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          path: this.#url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(webhook.rawBody.length), ...headers },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0, startedAt, answeredAt: performance.now() }));
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(webhook.rawBody);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface Delivery {
  readonly webhook: Webhook;
  /** Every answer, in order. */
  readonly statuses: number[];
  /** The first attempt's start, and the 2xx answer's start and end (performance.now()). */
  firstSentAt: number;
  acceptedStartedAt: number | undefined;
  acceptedAt: number | undefined;
}

export const accepted = (delivery: Delivery): boolean => delivery.acceptedAt !== undefined;

/** 2xx answers a delivery got, lost answers included: the first published the entry, a resend's is a duplicate. */
export const acceptances = (delivery: Delivery): number => delivery.statuses.filter((status) => status >= 200 && status < 300).length;

/** Fast.io retries 429 and 5xx; a 4xx such as 401 is final. */
export const isRetryable = (status: number): boolean => status === 429 || status >= 500;

export interface DeliverOptions {
  readonly concurrency: number;
  /** Pause between rounds of resends. */
  readonly retryDelayMs: number;
  readonly maxRounds: number;
  /** Called after each round with the deliveries answered 429/5xx in it, before any is resent. */
  readonly afterRound?: (round: number, rejected: readonly Delivery[]) => void;
  /**
   * Whether this 2xx answer is lost on its way back (a dropped connection after the ingest
   * answered): the sender cannot tell it from a failure and resends the same body next round.
   */
  readonly loseAnswer?: (delivery: Delivery) => boolean;
}

/** Loses the first 2xx answer of each chosen webhook, once. */
export function loseFirstAnswer(eventIds: ReadonlySet<string>): (delivery: Delivery) => boolean {
  return (delivery) => eventIds.has(delivery.webhook.eventId) && acceptances(delivery) === 1;
}

/** Sends every webhook with bounded concurrency, then resends those answered 429/5xx (or whose 2xx was lost), round after round. */
export async function deliverAll(client: WebhookClient, webhooks: readonly Webhook[], options: DeliverOptions): Promise<Delivery[]> {
  const deliveries = webhooks.map((webhook): Delivery => ({ webhook, statuses: [], firstSentAt: Number.NaN, acceptedStartedAt: undefined, acceptedAt: undefined }));
  let pending = deliveries;
  for (let round = 1; pending.length > 0; round += 1) {
    if (round > options.maxRounds) throw new Error(`${pending.length} webhook(s) still refused after ${options.maxRounds} rounds (last status ${pending[0]?.statuses.at(-1)})`);
    let next = 0;
    const batch = pending;
    const lost: Delivery[] = [];
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, batch.length) }, async () => {
        while (next < batch.length) {
          const delivery = batch[next++] as Delivery;
          const result = await client.post(delivery.webhook);
          if (delivery.statuses.length === 0) delivery.firstSentAt = result.startedAt;
          delivery.statuses.push(result.status);
          if (result.status >= 200 && result.status < 300) {
            delivery.acceptedStartedAt = result.startedAt;
            delivery.acceptedAt = result.answeredAt;
            if (options.loseAnswer?.(delivery)) lost.push(delivery);
          }
        }
      }),
    );
    const rejected = batch.filter((delivery) => isRetryable(delivery.statuses.at(-1) as number));
    options.afterRound?.(round, rejected);
    pending = [...rejected, ...lost];
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs));
  }
  return deliveries;
}

// ---- quiet and conservation ------------------------------------------------------------------------

/**
 * Waits until nothing is in flight: no delivery, invocation or execution running or waiting to
 * retry, and no message in a polled queue, visible or not (`settle()` alone does not wait for a
 * failed message to become visible again).
 */
export async function quiesce(pipeline: LocalPipeline, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    await pipeline.settle(Math.max(1, deadline - performance.now()));
    const busy = pipeline.activity.pending > 0 || pipeline.eventSources.some((source) => source.queue.snapshot().length > 0);
    if (!busy) return;
    if (performance.now() > deadline) throw new Error('the local pipeline did not become quiet in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function fastioEventId(event: unknown): string | undefined {
  const id = (event as { detail?: { eventId?: unknown } } | undefined)?.detail?.eventId;
  return typeof id === 'string' ? id : undefined;
}

/** Fast.io event ids of everything the bus published (not replays or redrives), counted. */
export function publishedEventIds(pipeline: LocalPipeline): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of pipeline.bus.published) {
    const id = fastioEventId(event);
    if (id !== undefined) bump(counts, id);
  }
  return counts;
}

export interface ConservationReport {
  readonly accepted: number;
  readonly rejected: number;
  /** Target events (accepted webhook × deployed target of each route it matches) neither completed nor dead-lettered yet. */
  readonly pending: number;
  /** Completed target events, by `<route>/<target>`. */
  readonly completed: Readonly<Record<string, number>>;
  /** Messages per dead-letter queue that belong to accepted webhooks. */
  readonly deadLettered: Readonly<Record<string, number>>;
  /** Event ids per dead-letter queue. */
  readonly deadLetteredIds: Readonly<Record<string, readonly string[]>>;
  /** Violations: duplicates, losses, strays, rejected deliveries on the bus. Empty when conservation holds. */
  readonly problems: readonly string[];
}

export interface ConservationOptions {
  /** Also read the tables' items, the reviewers' notifications and the archive file (slower; for final checks). Default true. */
  readonly thorough?: boolean;
  /** Every route event must have completed (after redrive); a dead letter is then a problem. */
  readonly requireCompleted?: boolean;
  /**
   * A route event is completed or dead-lettered, never both, and dead-lettered at most once.
   * Default true; false when the same event was sent more than once (a lost 202, a replay), where
   * one copy can complete while another waits in a DLQ (whose redrive then does nothing).
   */
  readonly exclusiveDeadLetters?: boolean;
}

/** A target the pipeline deploys: its rule's route and target, and the table entry that built it. */
interface DeployedTarget {
  readonly handle: string;
  readonly route: string;
  readonly target: string;
  readonly spec: RouteTarget;
  /** Where its rule delivers (a state machine's ARN for a workflow target). */
  readonly arns: readonly string[];
}

/** The targets the running pipeline has a rule for, by route: what an accepted event of that route must reach. */
function deployedTargets(pipeline: LocalPipeline): Map<string, DeployedTarget[]> {
  const byRoute = new Map<string, DeployedTarget[]>();
  for (const rule of pipeline.model.rules) {
    const spec = findRoute(rule.route)?.targets.find((target) => targetName(target) === rule.target);
    if (spec === undefined) throw new Error(`the pipeline has a rule for ${rule.route}/${rule.target}, which lib/route-table.ts does not`);
    const list = byRoute.get(rule.route) ?? [];
    list.push({ handle: targetHandle(rule.route, rule.target), route: rule.route, target: rule.target, spec, arns: rule.targets.map((target) => target.arn) });
    byRoute.set(rule.route, list);
  }
  return byRoute;
}

const isOwnWorkflow = (spec: RouteTarget): boolean => spec.kind === 'workflow' && 'workflow' in spec;

/** The review workflow's last state when it completed a review (lib/workflows/review-workflow.ts). */
const REVIEW_COMPLETED_STATE = 'MarkCompleted';

/**
 * The conservation check, by effects, per route target. For every webhook answered 2xx, every route
 * its event matches and every target the pipeline deploys for that route: the target completed it
 * exactly once, or it is held in a dead-letter message of that target. Completion is evidence, never
 * absence: an own queue or function target's Powertools record set COMPLETED once (and the
 * consumer's domain write at most once per such target: one catalog write carrying the event, one
 * audit record); an own workflow's execution that completed the review (one reviewer notification,
 * the catalog item REVIEWED for it); an http target's receiver answering 2xx once for its
 * Idempotency-Key; a target by ARN's recorded delivery. However many copies of the event arrived,
 * every accepted event is on the bus (and in the archive) once (the ingest recognises resends);
 * nothing else is, and no effect or dead letter belongs to anything else.
 */
export function checkConservation(running: RunningPipeline, deliveries: readonly Delivery[], options: ConservationOptions = {}): ConservationReport {
  const { pipeline, effects } = running;
  const thorough = options.thorough ?? true;
  const exclusive = options.exclusiveDeadLetters ?? true;
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
    else if (problems.length === 50) problems.push('… more problems not listed');
  };

  const acceptedRoutes = new Map<string, readonly string[]>();
  const publishes = new Map<string, number>();
  const fileOf = new Map<string, string>();
  let rejected = 0;
  for (const delivery of deliveries) {
    fileOf.set(delivery.webhook.eventId, delivery.webhook.fileId);
    publishes.set(delivery.webhook.eventId, accepted(delivery) ? 1 : 0);
    if (accepted(delivery)) acceptedRoutes.set(delivery.webhook.eventId, delivery.webhook.routes);
    else rejected += 1;
  }
  const ours = new Set(deliveries.map((delivery) => delivery.webhook.eventId));
  const expects = (eventId: string, route: string) => acceptedRoutes.get(eventId)?.includes(route) ?? false;

  // On the bus: accepted ones once (a resend is answered as a duplicate), nothing else of ours.
  const onBus = publishedEventIds(pipeline);
  for (const eventId of ours) {
    const count = onBus.get(eventId) ?? 0;
    const want = publishes.get(eventId) ?? 0;
    if (acceptedRoutes.has(eventId) && count !== want) problem(`${eventId}: accepted, published ${count} times (expected ${want})`);
    if (!acceptedRoutes.has(eventId) && count !== 0) problem(`${eventId}: rejected, yet published ${count} times`);
  }
  if (thorough) {
    const archived = new Map<string, number>();
    for (const record of pipeline.archive.records()) {
      const id = fastioEventId(record.event);
      if (id !== undefined && ours.has(id)) bump(archived, id);
    }
    for (const eventId of ours) {
      const count = archived.get(eventId) ?? 0;
      const want = publishes.get(eventId) ?? 0;
      if (count !== want) problem(`${eventId}: archived ${count} times, expected ${want}`);
    }
  }

  // Expected per target: every accepted event × every deployed target of every route it matches.
  const targetsOf = deployedTargets(pipeline);
  const expectedTargets = new Map<string, DeployedTarget[]>();
  for (const [eventId, routes] of acceptedRoutes) expectedTargets.set(eventId, routes.flatMap((route) => targetsOf.get(route) ?? []));
  const expectsConsumer = (eventId: string, consumer: string) => (expectedTargets.get(eventId) ?? []).filter((target) => consumerOf(target.spec) === consumer).length;

  // The consumers' domain writes: at most one per target that runs that consumer for the event.
  for (const [consumer, log, what] of [
    ['catalog-consumer', effects.catalogWrites, 'catalog writes by the consumer'],
    ['agent-audit', effects.auditPuts, 'audit writes'],
  ] as const) {
    for (const [eventId, calls] of log) {
      if (!ours.has(eventId)) continue;
      const want = expectsConsumer(eventId, consumer);
      if (calls.ok > 0 && want === 0) problem(`${eventId}: ${calls.ok} ${what}, but no accepted route target of it runs ${consumer}`);
      else if (calls.ok > want) problem(`${eventId}: ${calls.ok} successful ${what} (expected at most ${want})`);
    }
  }

  // Completion evidence per target (`<route>/<target>` → event ids).
  const done = new Map<string, Set<string>>();
  const markDone = (handle: string, eventId: string) => {
    let set = done.get(handle);
    if (set === undefined) done.set(handle, (set = new Set()));
    set.add(eventId);
  };
  // Own queue and function targets: their Powertools Idempotency record, set COMPLETED once.
  for (const [eventId, targets] of expectedTargets) {
    for (const target of targets) {
      if (consumerOf(target.spec) === undefined) continue;
      const count = effects.completions.get(idempotencyRecordId(target.route, target.target, eventId)) ?? 0;
      if (count > 1) problem(`${eventId}: ${target.handle} completed ${count} times`);
      if (count >= 1) markDone(target.handle, eventId);
    }
  }
  const notifications = new Map<string, number>();
  if (thorough) {
    for (const message of pipeline.published) {
      try {
        const id = (JSON.parse(message.message) as { eventId?: unknown }).eventId;
        if (typeof id === 'string' && ours.has(id)) bump(notifications, id);
      } catch {
        // not a review notification
      }
    }
  }
  // Own workflow targets: the execution that marked the review completed; the others of the same
  // event (a resend, a replay, a redrive) end SUCCEEDED having found it claimed or done.
  const allTargets = [...targetsOf.values()].flat();
  for (const machine of pipeline.stateMachines.values()) {
    const target = allTargets.find((candidate) => candidate.arns.includes(machine.definition.arn));
    if (target === undefined) continue;
    const reviewed = new Map<string, number>();
    for (const execution of machine.executions) {
      const id = fastioEventId(execution.input);
      if (id === undefined || !ours.has(id)) continue;
      if (!expects(id, target.route)) problem(`${id}: a ${target.handle} execution, but not an accepted ${target.route} event`);
      if (execution.status === 'SUCCEEDED' && execution.visited.at(-1) === REVIEW_COMPLETED_STATE) bump(reviewed, id);
    }
    for (const [id, count] of reviewed) {
      if (count > 1) problem(`${id}: reviewed ${count} times on ${target.handle}`);
      markDone(target.handle, id);
    }
  }
  for (const [id, count] of notifications) {
    const workflows = (expectedTargets.get(id) ?? []).filter((target) => isOwnWorkflow(target.spec)).length;
    if (count > workflows) problem(`${id}: reviewers notified ${count} times`);
  }
  // http targets: the receiver's 2xx answers, by path and Idempotency-Key (the Fast.io event id).
  if (running.receiver !== undefined) {
    const byPath = new Map(allTargets.map((target) => [`/${target.handle}`, target]));
    const accepted2xx = new Map<DeployedTarget, Map<string, number>>();
    for (const receipt of running.receiver.receipts) {
      const id = receipt.idempotencyKey;
      if (id === undefined || !ours.has(id)) continue;
      const target = byPath.get(receipt.path);
      if (target === undefined || !expects(id, target.route)) {
        problem(`${id}: posted to ${receipt.path}, which is no target of an accepted route of it`);
        continue;
      }
      if (receipt.status < 200 || receipt.status >= 300) continue;
      let counts = accepted2xx.get(target);
      if (counts === undefined) accepted2xx.set(target, (counts = new Map()));
      bump(counts, id);
    }
    for (const [target, counts] of accepted2xx) {
      for (const [id, count] of counts) {
        if (count > 1) problem(`${id}: ${target.handle} accepted it ${count} times`);
        markDone(target.handle, id);
      }
    }
  }
  // Targets by ARN (and other buses): EventBridge's delivery, recorded by the pipeline.
  const fastioIdOfBusEvent = new Map(pipeline.bus.published.map((event) => [event.id, fastioEventId(event)]));
  for (const delivery of pipeline.arnDeliveries) {
    const id = fastioIdOfBusEvent.get(delivery.eventId);
    if (id !== undefined && ours.has(id)) markDone(targetHandle(delivery.route, delivery.target), id);
  }

  let catalog: Map<string, Record<string, unknown>> | undefined;
  let auditItems: Map<string, number> | undefined;
  if (thorough) {
    catalog = new Map(pipeline.dynamodb.scan('catalog').map((item) => [String(item.fileId), item]));
    auditItems = new Map();
    for (const item of pipeline.dynamodb.scan('audit')) {
      const id = String(item.eventId);
      if (ours.has(id)) bump(auditItems, id);
    }
  }

  // Dead letters, per target.
  const deadLettered: Record<string, number> = {};
  const deadLetteredIds: Record<string, string[]> = {};
  const deadByTarget = new Map<string, Map<string, number>>();
  for (const ref of pipeline.model.deadLetterQueues) {
    const queue = pipeline.queues.get(ref.queueArn);
    if (queue === undefined) continue;
    for (const message of queue.snapshot()) {
      const extracted = extractEvent(ref.role, message.body);
      const id = extracted.ok ? fastioEventId(extracted.event) : undefined;
      if (id === undefined) {
        problem(`${ref.name}: a message without a Fast.io event (${extracted.ok ? 'no eventId' : extracted.reason})`);
        continue;
      }
      if (!ours.has(id)) continue;
      if (!expects(id, ref.route)) problem(`${id}: in ${ref.name}, but not an accepted ${ref.route} event`);
      deadLettered[ref.name] = (deadLettered[ref.name] ?? 0) + 1;
      (deadLetteredIds[ref.name] ??= []).push(id);
      const handle = targetHandle(ref.route, ref.target ?? '');
      let perTarget = deadByTarget.get(handle);
      if (perTarget === undefined) deadByTarget.set(handle, (perTarget = new Map()));
      bump(perTarget, id);
    }
  }

  // Every accepted event on every target it must reach: completed exactly once xor in exactly one dead letter.
  const completed: Record<string, number> = Object.fromEntries(allTargets.map((target) => [target.handle, 0]));
  let pending = 0;
  for (const [eventId, targets] of expectedTargets) {
    for (const target of targets) {
      const { handle } = target;
      const isDone = done.get(handle)?.has(eventId) ?? false;
      const dead = deadByTarget.get(handle)?.get(eventId) ?? 0;
      if (isDone) completed[handle] = (completed[handle] ?? 0) + 1;
      if (exclusive && isDone && dead > 0) problem(`${eventId}: ${handle} completed, and also dead-lettered`);
      if (exclusive && dead > 1) problem(`${eventId}: ${dead} dead letters for ${handle}`);
      if (options.requireCompleted && dead > 0) problem(`${eventId}: ${handle} still dead-lettered`);
      if (!isDone && dead === 0) pending += 1;
      if (isDone && catalog !== undefined && auditItems !== undefined) {
        const consumer = consumerOf(target.spec);
        const item = catalog.get(fileOf.get(eventId) ?? '');
        if (consumer === 'catalog-consumer' && item?.lastEventId !== eventId) problem(`${eventId}: ${handle} completed, but the catalog item does not hold it`);
        if (consumer === 'agent-audit' && auditItems.get(eventId) !== 1) problem(`${eventId}: ${auditItems.get(eventId) ?? 0} audit items`);
        if (isOwnWorkflow(target.spec)) {
          if (item?.reviewStatus !== 'REVIEWED' || item.reviewEventId !== eventId) problem(`${eventId}: ${handle} SUCCEEDED, but the catalog item is not REVIEWED for it`);
          if (notifications.get(eventId) !== 1) problem(`${eventId}: reviewers notified ${notifications.get(eventId) ?? 0} times`);
        }
      }
    }
  }
  if (options.requireCompleted && pending > 0) problem(`${pending} target event(s) neither completed nor dead-lettered`);
  return { accepted: acceptedRoutes.size, rejected, pending, completed, deadLettered, deadLetteredIds, problems };
}

/** Polls the (cheap) check until every accepted route event has completed or been dead-lettered. */
export async function waitForConservation(running: RunningPipeline, deliveries: readonly Delivery[], timeoutMs: number, pollMs = 25): Promise<ConservationReport> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const report = checkConservation(running, deliveries, { thorough: false });
    if (report.pending === 0 || report.problems.length > 0) return report;
    if (performance.now() > deadline) throw new Error(`${report.pending} route event(s) still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** `documents=12 agent-activity=4` (zeros left out unless all are). */
export function formatCounts(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? 'none' : entries.map(([name, n]) => `${name}=${n}`).join(' ');
}
