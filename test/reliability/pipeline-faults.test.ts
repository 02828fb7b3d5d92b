/**
 * Reliability: faults at every hop of the local pipeline, then a conservation check.
 *
 * A mix of signed webhooks (documents, agent actions, large media, deletions by an untrusted agent,
 * small images that match nothing, and forgeries) goes through the HTTP API (with the template's
 * throttling) while the stand-ins fail: Secrets Manager down at cold start, PutEvents throttled,
 * a rule that cannot deliver, the catalog consumer's write and the agent audit's write failing for
 * chosen files and agents, the review workflow's SNS publish and DynamoDB update failing. The sender
 * behaves like Fast.io: 429 and 5xx answers are resent until accepted, 401 is final, and a 202 lost
 * on the way back is resent with the same body.
 *
 * Then, for every accepted webhook and every route it matches: its effect happened exactly once, or
 * it is in exactly one dead-letter queue of that route; nothing rejected reached the bus. Faults
 * removed, the whole window is replayed to every route while new webhooks arrive, and every DLQ is
 * redriven through the control client: every effect happened exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT } from '../../lib/constructs/secure-queue';
import { targetAcceptsReplays } from '../../lib/domain/route-types';
import { findRoute, targetName } from '../../lib/route-table';
import { TARGET_RETRY_POLICY } from '../../lib/targets/target-support';
import { startFanOutPipeline } from './fan-out-pipeline';
import { localDeadLetterQueues, localRedrive, localReplay } from '../../lib/local/control-client';
import {
  EXPECTED_ROUTES,
  FAN_OUT_MIX,
  MIX,
  WebhookClient,
  acceptances,
  accepted,
  checkConservation,
  deliverAll,
  formatCounts,
  isRetryable,
  loseFirstAnswer,
  makeMix,
  makeWebhook,
  publishedEventIds,
  quiesce,
  type Delivery,
  type RunningPipeline,
  type Webhook,
  type WebhookKind,
} from '../../lib/local/load-driver';

const RUN = 'faults';
const AUDIT_BROKEN_AGENT = 'agt_audit_broken';

let running: RunningPipeline;
let client: WebhookClient;
beforeAll(async () => {
  // A tight stage throttle (50 rps, burst 100; the defaults are far above what this pipeline serves)
  // makes the API answer 429s, which are resent like 503s.
  running = await startFanOutPipeline({ timeScale: 1000, apiThrottle: { rateLimit: 50, burstLimit: 100 } });
  client = new WebhookClient(running.pipeline.webhookUrl, running.secret, 16);
  // Synthesizing the fan-out app takes half a minute on a quiet machine.
}, 300_000);
afterAll(async () => {
  client?.close();
  await running?.stop();
});

/** The loopback receiver the fan-out pipeline's http target calls. */
const receiver = () => {
  if (running.receiver === undefined) throw new Error('the fan-out pipeline has no receiver');
  return running.receiver;
};
const ids = (webhooks: readonly Webhook[]) => webhooks.map((webhook) => webhook.eventId).sort();
const count503 = (deliveries: readonly Delivery[]) => deliveries.reduce((sum, delivery) => sum + delivery.statuses.filter((status) => status === 503).length, 0);
const count429 = (deliveries: readonly Delivery[]) => deliveries.reduce((sum, delivery) => sum + delivery.statuses.filter((status) => status === 429).length, 0);

describe('faults at every hop, then redrive', () => {
  it('every accepted webhook has each route’s effect exactly once or waits in a DLQ, through lost 202s, a replay over live traffic and a redrive', { timeout: 120_000 }, async () => {
    const { pipeline, effects } = running;
    const faults = pipeline.faults;
    const url = { url: pipeline.url };

    // The mix reaches what it claims to (the route table, as the bus applies it).
    for (const kind of FAN_OUT_MIX) expect(makeWebhook('probe', 0, kind).routes).toEqual(EXPECTED_ROUTES[kind]);

    // Rejected answers must never have published: checked after each round, before anything is resent.
    // A resend after a lost 202 may be throttled, but its event is on the bus from the first acceptance.
    const rejectedButPublished: string[] = [];
    const checkRejected = (rejected: readonly Delivery[]) => {
      const onBus = publishedEventIds(pipeline);
      for (const delivery of rejected) {
        if (acceptances(delivery) === 0 && onBus.has(delivery.webhook.eventId)) rejectedButPublished.push(delivery.webhook.eventId);
      }
    };

    // ---- 1. Secrets Manager down at cold start: 503 for all, nothing published; then Fast.io retries.
    const outage = faults.add({ service: 'secretsmanager', operation: 'GetSecretValue', errorCode: 'InternalServiceError', message: 'Secrets Manager is unavailable' });
    const firstRoundStatuses: number[] = [];
    const secretPhase = await deliverAll(client, makeMix(RUN, 40), {
      concurrency: 8,
      retryDelayMs: 500,
      maxRounds: 60,
      afterRound: (round, rejected) => {
        checkRejected(rejected);
        if (round !== 1) return;
        firstRoundStatuses.push(...rejected.map((delivery) => delivery.statuses[0] as number));
        // Secrets Manager recovers; the ingest backs off a failed read for 5 s, so some resends still get 503.
        faults.remove(outage.id);
      },
    });
    expect(outage.hits).toBeGreaterThanOrEqual(1);
    expect(firstRoundStatuses).toEqual(Array(40).fill(503));
    expect(secretPhase.every(accepted)).toBe(true);

    // ---- 2. Faults at the other hops, all at once.
    const phase: Webhook[] = [];
    const answerLost = new Set<string>();
    const catalogBroken: Webhook[] = [];
    const auditBroken: Webhook[] = [];
    const workflowBroken: Webhook[] = [];
    for (let index = 100; index < 400; index += 1) {
      const kind = MIX[index % MIX.length] as WebhookKind;
      const auditFails = (kind === 'agent-action' && [301, 306, 311].includes(index)) || (kind === 'untrusted-deletion' && index === 313);
      const webhook = makeWebhook(RUN, index, kind, auditFails ? { agentId: AUDIT_BROKEN_AGENT } : {});
      phase.push(webhook);
      if (auditFails) auditBroken.push(webhook);
      if ([300, 305, 310, 315, 321, 326, 323].includes(index)) catalogBroken.push(webhook);
      if ([302, 307, 323].includes(index)) workflowBroken.push(webhook);
      // Lost 202s, after the ones the faults pick: each kind's event published twice (Fast.io resends the same body).
      if (index >= 330 && index % 7 === 0) answerLost.add(webhook.eventId);
      // A forgery every 20 webhooks: finally 401, never resent, never on the bus.
      if (index % 20 === 0) phase.push(makeWebhook(RUN, 10_000 + index, kind, { forged: true }));
    }
    // Videos for the fan-out route: catalogued and posted to the http target; its receiver is down for
    // two of them for good (503 on every attempt → that target's DLQ; the catalog beside it unaffected).
    const videos = Array.from({ length: 12 }, (_, i) => makeWebhook(RUN, 2_000 + i, 'small-video'));
    phase.push(...videos);
    const receiverDown = videos.filter((_video, i) => i % 6 === 1);
    for (const video of receiverDown) receiver().failing.add(video.eventId);
    // PutEvents throttled: the SDK's two attempts fail for 5 deliveries, which the ingest answers 503.
    faults.add({ service: 'events', operation: 'PutEvents', errorCode: 'ThrottlingException', message: 'Rate exceeded', times: 10 });
    // A rule that cannot deliver (not retryable) → target DLQ; one that is throttled briefly → EventBridge retries.
    faults.add({ service: 'events', operation: 'Deliver', route: 'documents', errorCode: 'NO_PERMISSIONS', message: 'Access denied', times: 2 });
    faults.add({ service: 'events', operation: 'Deliver', route: 'agent-activity', errorCode: 'THROTTLING', message: 'Rate exceeded', times: 3 });
    // The catalog consumer's write fails for chosen files on every receive → buffer DLQ after maxReceiveCount.
    // (The same key fault also fails the review workflow's first update for the deletion and the two videos.)
    for (const webhook of new Set([...catalogBroken, ...workflowBroken])) {
      faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', key: { fileId: webhook.fileId }, errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    }
    // The agent audit's write fails for one agent → Lambda's retries → on-failure destination.
    faults.add({ service: 'dynamodb', operation: 'PutItem', table: 'audit', key: { agentId: AUDIT_BROKEN_AGENT }, errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    // The workflow's SNS publish: 3 permanent failures (caught → failure queue), then 3 transient ones (retried by the state machine).
    faults.add({ service: 'sns', operation: 'Publish', errorCode: 'AuthorizationErrorException', message: 'not authorized to publish', times: 3 });
    faults.add({ service: 'sns', operation: 'Publish', errorCode: 'ThrottledException', message: 'Rate exceeded', times: 3 });

    const faultPhase = await deliverAll(client, phase, {
      concurrency: 16,
      retryDelayMs: 200,
      maxRounds: 200,
      afterRound: (_round, rejected) => checkRejected(rejected),
      loseAnswer: loseFirstAnswer(answerLost),
    });
    const deliveries = [...secretPhase, ...faultPhase];
    await quiesce(pipeline);

    const forged = faultPhase.filter((delivery) => delivery.webhook.forged);
    // Forgeries: 401 once they get past the stage throttling and, while the ingest may not re-read the
    // secret yet, its 503 awaiting-secret-refresh (both resent), never accepted.
    expect(forged.map((delivery) => delivery.statuses.filter((status) => !isRetryable(status)))).toEqual(forged.map(() => [401]));
    expect(faultPhase.filter((delivery) => !delivery.webhook.forged).every(accepted)).toBe(true);
    expect(rejectedButPublished).toEqual([]);

    // ---- conservation with the persistent faults still in place
    const during = checkConservation(running, deliveries);
    expect(during.problems).toEqual([]);
    expect(during.pending).toBe(0);
    const dead = (name: string) => [...(during.deadLetteredIds[name] ?? [])].sort();
    // Two documents the rule could not deliver; the catalog-broken ones not among them wait in the buffer DLQ.
    expect(dead('documents/queue/target-dlq')).toHaveLength(2);
    expect(dead('documents/queue/buffer-dlq')).toEqual(ids(catalogBroken).filter((id) => !dead('documents/queue/target-dlq').includes(id)));
    for (const id of dead('documents/queue/buffer-dlq')) expect(effects.catalogWrites.get(id)).toMatchObject({ ok: 0, failed: MAX_RECEIVE_COUNT });
    expect(dead('agent-activity/function/on-failure')).toEqual(ids(auditBroken));
    for (const id of dead('agent-activity/function/on-failure')) expect(effects.auditPuts.get(id)).toMatchObject({ ok: 0, failed: 3 });
    expect(dead('agent-activity/function/target-dlq')).toEqual([]);
    // The workflows: the DynamoDB-broken ones, plus the three the permanent SNS fault failed.
    const workflowDead = [...dead('large-media/workflow/workflow-failures'), ...dead('untrusted-agent-deletions/workflow/workflow-failures')];
    expect(workflowDead).toHaveLength(workflowBroken.length + 3);
    expect(workflowDead).toEqual(expect.arrayContaining(ids(workflowBroken)));
    expect(faults.list().filter((fault) => fault.times !== undefined)).toEqual([]);
    // The http target's failures, in its own DLQ only; each tried once and retried per the retry policy.
    expect(dead('video-uploads/slack/target-dlq')).toEqual(ids(receiverDown));
    expect(dead('video-uploads/catalog/buffer-dlq')).toEqual([]);
    for (const video of receiverDown) {
      expect(receiver().receipts.filter((receipt) => receipt.idempotencyKey === video.eventId).map((receipt) => receipt.status)).toEqual(Array(1 + TARGET_RETRY_POLICY.retryAttempts).fill(503));
    }

    // Every lost 202 was resent and answered as a duplicate (2xx twice, published once, as the conservation check counts); effects once.
    expect(faultPhase.filter((delivery) => acceptances(delivery) === 2).map((delivery) => delivery.webhook.eventId).sort()).toEqual([...answerLost].sort());

    // ---- faults removed: new webhooks arrive (some 202s lost again) while the whole window is replayed to every route
    faults.remove();
    const live = makeMix(RUN, 100, 500);
    const liveLost = new Set(live.filter((_webhook, i) => i % 10 === 3).map((webhook) => webhook.eventId));
    const archivedBefore = pipeline.archive.count();
    const publishedBefore = pipeline.bus.published.length;
    const livePhase = deliverAll(client, live, { concurrency: 8, retryDelayMs: 100, maxRounds: 20, afterRound: (_round, rejected) => checkRejected(rejected), loseAnswer: loseFirstAnswer(liveLost) });
    while (pipeline.bus.published.length < publishedBefore + 40) await new Promise((resolve) => setTimeout(resolve, 5));
    const replay = await localReplay({ from: new Date(Date.now() - 10 * 60_000), to: new Date(Date.now() + 60_000), allRoutes: true, name: 'overlapping-live-traffic' }, url);
    const liveDeliveries = await livePhase;
    deliveries.push(...liveDeliveries);
    await quiesce(pipeline);
    expect(liveDeliveries.every(accepted)).toBe(true);
    // The replay re-sent the incident window and live events alike, to every route.
    expect(replay.eventsReplayed).toBeGreaterThan(archivedBefore);
    expect(replay.eventsReplayed).toBeLessThan(pipeline.archive.count());
    // Per target: each one that takes replays received copies, each one that skips them (the http one) none.
    for (const [handle, count] of Object.entries(during.completed)) {
      if (count === 0) continue;
      const [routeName = '', name = ''] = handle.split('/');
      const route = findRoute(routeName);
      const target = route?.targets.find((candidate) => targetName(candidate) === name);
      expect(target, handle).toBeDefined();
      if (route !== undefined && target !== undefined && targetAcceptsReplays(route, target)) expect(replay.delivered[handle], handle).toBeGreaterThan(0);
      else expect(replay.delivered[handle] ?? 0, handle).toBe(0);
    }

    // ---- every DLQ redriven through the control client (what `ops dlq redrive --local` calls), the receiver back up
    receiver().failing.clear();
    const redriven: Record<string, number> = {};
    for (const queue of await localDeadLetterQueues(url)) {
      if (queue.depth === 0) continue;
      const result = await localRedrive(queue.name, {}, url);
      expect(result).toMatchObject({ moved: queue.depth, failed: 0, left: 0 });
      redriven[queue.name] = result.moved;
    }
    expect(redriven).toEqual(during.deadLettered);
    await quiesce(pipeline);

    const after = checkConservation(running, deliveries, { requireCompleted: true, exclusiveDeadLetters: false });
    expect(after.problems).toEqual([]);
    expect((await localDeadLetterQueues(url)).filter((queue) => queue.depth > 0)).toEqual([]);
    const acceptedWebhooks = deliveries.filter(accepted).map((delivery) => delivery.webhook);
    for (const handle of Object.keys(after.completed)) {
      const route = handle.split('/')[0] ?? '';
      expect(after.completed[handle], handle).toBe(acceptedWebhooks.filter((webhook) => webhook.routes.includes(route)).length);
    }
    // The http target: every video accepted exactly once by the receiver, the dead-lettered ones after their redrive.
    const videoIds = acceptedWebhooks.filter((webhook) => webhook.kind === 'small-video').map((webhook) => webhook.eventId);
    expect(videoIds.length).toBeGreaterThanOrEqual(videos.length);
    for (const id of videoIds) expect(receiver().receipts.filter((receipt) => receipt.idempotencyKey === id && receipt.status === 200), id).toHaveLength(1);

    const resent = deliveries.filter((delivery) => delivery.statuses.length > 1);
    process.stderr.write(
      `pipeline-faults tally: accepted ${after.accepted} (forged → 401: ${forged.length}); ` +
        `503 then resent until accepted: ${resent.filter((d) => d.statuses.includes(503)).length} webhooks (${count503(deliveries)} answers: Secrets Manager ${count503(secretPhase)}, PutEvents ${count503(faultPhase)}); ` +
        `429 (stage throttling) answers: ${count429(deliveries)}; ` +
        `completed during faults: ${formatCounts(during.completed)}; dead-lettered: ${formatCounts(during.deadLettered)}; ` +
        `lost 202s resent: ${answerLost.size + liveLost.size}; replayed during live traffic: ${replay.eventsReplayed} events (${formatCounts(replay.delivered)}); ` +
        `redriven: ${formatCounts(redriven)}; completed after redrive: ${formatCounts(after.completed)}\n`,
    );
  });
});
