/**
 * Shared by the reliability suites (pipeline-faults, pipeline-load) and `npm run bench -- --only
 * pipeline`: start the local pipeline with an effect tap, generate a mix of signed Fast.io webhooks,
 * deliver them as Fast.io does (bounded concurrency, resending 429/5xx answers, and resending the
 * same body when a 202 was lost on the way back), wait until the pipeline is quiet, and check
 * conservation by effects: every accepted webhook had each effect of each route it matches exactly
 * once (a catalog write, an audit record, a completed review with one notification), or sits in
 * a dead-letter queue of that route; nothing rejected reached the bus.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractEvent } from './dead-letters';
import { startPipeline, type LocalPipeline, type LocalPipelineOptions } from './pipeline';
import { eventFromPayload, matchingRouteNames } from '../domain/route-samples';
import { routeTable, type TargetKind } from '../route-table';
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
}

export interface RunningPipeline {
  readonly pipeline: LocalPipeline;
  readonly secret: string;
  readonly effects: EffectLog;
  stop(): Promise<void>;
}

function stringAttribute(value: unknown): string | undefined {
  const s = (value as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** Wraps the DynamoDB stand-in's dispatcher (used by the AWS endpoint and the workflow alike) to count consumer effects. */
function tapEffects(pipeline: LocalPipeline): EffectLog {
  const effects: EffectLog = { catalogWrites: new Map(), auditPuts: new Map() };
  const dynamodb = pipeline.dynamodb;
  const catalogTable = dynamodb.definition('catalog')?.name;
  const auditTable = dynamodb.definition('audit')?.name;
  if (catalogTable === undefined || auditTable === undefined) throw new Error('the local pipeline has no catalog or audit table');
  const handle = dynamodb.handle.bind(dynamodb);
  dynamodb.handle = (operation, input) => {
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
}

export async function startReliabilityPipeline(options: ReliabilityPipelineOptions = {}): Promise<RunningPipeline> {
  const stateDir = mkdtempSync(join(tmpdir(), 'fastio-reliability-'));
  const pipeline = await startPipeline({
    port: 0,
    stateDir,
    synth: 'if-missing',
    timeScale: options.timeScale ?? 1000,
    ...(options.apiThrottle === undefined ? {} : { apiThrottle: options.apiThrottle }),
  });
  return {
    pipeline,
    secret: readFileSync(pipeline.secretFile, 'utf8').trim(),
    effects: tapEffects(pipeline),
    async stop() {
      await pipeline.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

// ---- webhooks --------------------------------------------------------------------------------------

export type WebhookKind = 'document' | 'agent-action' | 'large-media' | 'untrusted-deletion' | 'small-image';

/** The mix, in sending order: every route, several routes at once, and no route at all. */
export const MIX: readonly WebhookKind[] = ['document', 'agent-action', 'large-media', 'untrusted-deletion', 'small-image'];

/** What each kind is expected to reach (checked against the route table by the tests). */
export const EXPECTED_ROUTES: Readonly<Record<WebhookKind, readonly string[]>> = {
  document: ['documents'],
  'agent-action': ['documents', 'agent-activity'],
  'large-media': ['large-media'],
  'untrusted-deletion': ['documents', 'agent-activity', 'untrusted-agent-deletions'],
  'small-image': [],
};

const FIXTURE: Readonly<Record<WebhookKind, string>> = {
  document: 'document-uploaded',
  'agent-action': 'agent-file-created',
  'large-media': 'large-video-uploaded',
  'untrusted-deletion': 'file-deleted',
  'small-image': 'image-small',
};

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
  const payload = fixturePayload(FIXTURE[kind], { eventId, fileId, ...(agentId === undefined ? {} : { agentId }) });
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

/** `count` webhooks cycling through MIX. */
export function makeMix(runId: string, count: number, first = 0): Webhook[] {
  return Array.from({ length: count }, (_, i) => makeWebhook(runId, first + i, MIX[(first + i) % MIX.length] as WebhookKind));
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
  /** Route events (accepted webhook × route it matches) neither completed nor dead-lettered yet. */
  readonly pending: number;
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

const ROUTE_KIND: ReadonlyMap<string, TargetKind> = new Map(routeTable.map((route) => [route.name, route.targets[0]?.kind ?? 'queue']));

/** The review workflow's last state when it completed a review (lib/workflows/review-workflow.ts). */
const REVIEW_COMPLETED_STATE = 'MarkCompleted';

/**
 * The conservation check, by effects. For every webhook answered 2xx and every route its event
 * matches: its effect happened exactly once (queue: one successful catalog write by the consumer
 * and the catalog item carries the event; function: one audit PutItem and one audit item;
 * workflow: one execution that completed the review, one reviewer notification, the catalog item
 * REVIEWED for it), however many copies of the event arrived, or it is held in a dead-letter
 * message of that route. Every accepted event is on the bus (and in the archive) once, however many
 * 2xx answers it got (the ingest recognises resends); nothing else is, and no effect or dead letter belongs to anything else.
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

  // Effects per route.
  const done = new Map<string, Set<string>>(routeTable.map((route) => [route.name, new Set<string>()]));
  for (const [eventId, calls] of effects.catalogWrites) {
    if (!ours.has(eventId)) continue;
    if (!expects(eventId, 'documents')) problem(`${eventId}: written to the catalog by the consumer, but not an accepted documents event`);
    if (calls.ok > 1) problem(`${eventId}: ${calls.ok} successful catalog writes by the consumer`);
    if (calls.ok >= 1) done.get('documents')?.add(eventId);
  }
  for (const [eventId, calls] of effects.auditPuts) {
    if (!ours.has(eventId)) continue;
    if (!expects(eventId, 'agent-activity')) problem(`${eventId}: audited, but not an accepted agent-activity event`);
    if (calls.ok > 1) problem(`${eventId}: ${calls.ok} successful audit writes`);
    if (calls.ok >= 1) done.get('agent-activity')?.add(eventId);
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
  for (const machine of pipeline.stateMachines.values()) {
    const route = machine.definition.route;
    if (route === undefined) continue;
    // The review's effect is the execution that marked it completed; the others of the same event
    // (a resend, a replay, a redrive) end SUCCEEDED having found it claimed or done.
    const reviewed = new Map<string, number>();
    for (const execution of machine.executions) {
      const id = fastioEventId(execution.input);
      if (id === undefined || !ours.has(id)) continue;
      if (!expects(id, route)) problem(`${id}: a ${route} execution, but not an accepted ${route} event`);
      if (execution.status === 'SUCCEEDED' && execution.visited.at(-1) === REVIEW_COMPLETED_STATE) bump(reviewed, id);
    }
    for (const [id, count] of reviewed) {
      if (count > 1) problem(`${id}: reviewed ${count} times on ${route}`);
      done.get(route)?.add(id);
    }
  }
  for (const [id, count] of notifications) {
    const workflowRoutes = (acceptedRoutes.get(id) ?? []).filter((route) => ROUTE_KIND.get(route) === 'workflow').length;
    if (count > workflowRoutes) problem(`${id}: reviewers notified ${count} times`);
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

  // Dead letters.
  const deadLettered: Record<string, number> = {};
  const deadLetteredIds: Record<string, string[]> = {};
  const deadByRoute = new Map<string, Map<string, number>>();
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
      let perRoute = deadByRoute.get(ref.route);
      if (perRoute === undefined) deadByRoute.set(ref.route, (perRoute = new Map()));
      bump(perRoute, id);
    }
  }

  // Every accepted route event: completed exactly once xor in exactly one dead letter.
  const completed: Record<string, number> = Object.fromEntries(routeTable.map((route) => [route.name, 0]));
  let pending = 0;
  for (const [eventId, routes] of acceptedRoutes) {
    for (const route of routes) {
      const isDone = done.get(route)?.has(eventId) ?? false;
      const dead = deadByRoute.get(route)?.get(eventId) ?? 0;
      if (isDone) completed[route] = (completed[route] ?? 0) + 1;
      if (exclusive && isDone && dead > 0) problem(`${eventId}: ${route} completed, and also dead-lettered`);
      if (exclusive && dead > 1) problem(`${eventId}: ${dead} dead letters for ${route}`);
      if (options.requireCompleted && dead > 0) problem(`${eventId}: ${route} still dead-lettered`);
      if (!isDone && dead === 0) pending += 1;
      if (isDone && catalog !== undefined && auditItems !== undefined) {
        const kind = ROUTE_KIND.get(route);
        const item = catalog.get(fileOf.get(eventId) ?? '');
        if (kind === 'queue' && item?.lastEventId !== eventId) problem(`${eventId}: ${route} completed, but the catalog item does not hold it`);
        if (kind === 'function' && auditItems.get(eventId) !== 1) problem(`${eventId}: ${auditItems.get(eventId) ?? 0} audit items`);
        if (kind === 'workflow') {
          if (item?.reviewStatus !== 'REVIEWED' || item.reviewEventId !== eventId) problem(`${eventId}: ${route} SUCCEEDED, but the catalog item is not REVIEWED for it`);
          if (notifications.get(eventId) !== 1) problem(`${eventId}: reviewers notified ${notifications.get(eventId) ?? 0} times`);
        }
      }
    }
  }
  if (options.requireCompleted && pending > 0) problem(`${pending} route event(s) neither completed nor dead-lettered`);
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
