/**
 * Reliability: 20,000 signed webhooks through the local pipeline, 24 in flight, with light
 * transient faults that retries must absorb (PutEvents throttled → 503 → resent; catalog and audit
 * writes and the workflow's SNS publish throttled → SQS, Lambda and Step Functions retries), one
 * webhook in 50 whose 202 is lost and resent with the same body, and, halfway, a replay of the last
 * seconds to every route while traffic goes on. Then the conservation check by effects: every
 * accepted webhook had each route's effect exactly once or waits in a DLQ; after a redrive of
 * whatever a burst dead-lettered, every effect happened exactly once.
 *
 * The HTTP API's stage throttling is off here, so the figures measure the pipeline alone; the
 * throttle itself is exercised by pipeline-faults and test/cost/capacity.
 * Measured on the 2-core dev machine: 70-90 s (alone or within npm test); the 8 min timeout leaves room for slower CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDeadLetterQueues, localRedrive, localReplay } from '../../lib/local/control-client';
import { FAN_OUT_MIX, WebhookClient, acceptances, accepted, checkConservation, deliverAll, formatCounts, loseFirstAnswer, makeMix, publishedEventIds, quiesce, type Delivery, type RunningPipeline } from '../../lib/local/load-driver';
import { startFanOutPipeline } from './fan-out-pipeline';

const WEBHOOKS = 20_000;
const IN_FLIGHT = 24;
/** Seconds of event time the overlapping replay re-sends. */
const REPLAY_SECONDS = 3;

let running: RunningPipeline;
let client: WebhookClient;
beforeAll(async () => {
  running = await startFanOutPipeline({ timeScale: 1000, apiThrottle: false });
  client = new WebhookClient(running.pipeline.webhookUrl, running.secret, IN_FLIGHT);
  // Synthesizing the fan-out app takes half a minute on a quiet machine.
}, 300_000);
afterAll(async () => {
  client?.close();
  await running?.stop();
});

describe(`${WEBHOOKS.toLocaleString('en-US')} webhooks under load`, () => {
  it('every one is accepted and has each of its routes’ targets’ effects exactly once, through lost 202s and an overlapping replay', { timeout: 480_000 }, async () => {
    const { pipeline } = running;
    const webhooks = makeMix('load', WEBHOOKS, 0, FAN_OUT_MIX);
    pipeline.faults.add({ service: 'events', operation: 'PutEvents', errorCode: 'ThrottlingException', message: 'Rate exceeded', times: 20 });
    pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', errorCode: 'ProvisionedThroughputExceededException', message: 'Throughput exceeded', times: 12 });
    pipeline.faults.add({ service: 'dynamodb', operation: 'PutItem', table: 'audit', errorCode: 'ProvisionedThroughputExceededException', message: 'Throughput exceeded', times: 8 });
    pipeline.faults.add({ service: 'sns', operation: 'Publish', errorCode: 'ThrottledException', message: 'Rate exceeded', times: 4 });

    const answerLost = new Set(webhooks.filter((_webhook, i) => i % 50 === 17).map((webhook) => webhook.eventId));

    const rejectedButPublished: string[] = [];
    const started = performance.now();
    const delivering = deliverAll(client, webhooks, {
      concurrency: IN_FLIGHT,
      retryDelayMs: 100,
      maxRounds: 20,
      afterRound: (_round, rejected) => {
        const onBus = publishedEventIds(pipeline);
        for (const delivery of rejected) if (onBus.has(delivery.webhook.eventId)) rejectedButPublished.push(delivery.webhook.eventId);
      },
      loseAnswer: loseFirstAnswer(answerLost),
    });
    // Halfway, an operator replays the last seconds to every route while Fast.io keeps sending.
    while (pipeline.bus.published.length < WEBHOOKS / 2) await new Promise((resolve) => setTimeout(resolve, 20));
    const replay = await localReplay({ from: new Date(Date.now() - REPLAY_SECONDS * 1000), to: new Date(Date.now() + 60_000), allRoutes: true, name: 'load-overlap' }, { url: pipeline.url });
    const deliveries: Delivery[] = await delivering;
    const ingested = performance.now();
    await quiesce(pipeline, 300_000);
    const consumed = performance.now();

    expect(deliveries.every(accepted)).toBe(true);
    expect(rejectedButPublished).toEqual([]);
    expect(pipeline.faults.list()).toEqual([]);
    expect(deliveries.filter((delivery) => acceptances(delivery) > 1).length).toBe(answerLost.size);
    expect(replay.eventsReplayed).toBeGreaterThan(0);
    expect(pipeline.bus.published.length).toBeGreaterThan(WEBHOOKS / 2 + replay.eventsReplayed);
    // One copy of an event can complete while another waits in a DLQ: not exclusive here.
    const first = checkConservation(running, deliveries, { exclusiveDeadLetters: false });
    expect(first.problems).toEqual([]);
    expect(first.pending).toBe(0);

    // A burst of throttling can outlast a retry budget (the workflow's retries are time-scaled, the
    // SDK's backoff inside the handlers is not): what it dead-lettered is redriven, as an operator would.
    const redriven: Record<string, number> = {};
    for (const queue of await localDeadLetterQueues({ url: pipeline.url })) {
      if (queue.depth === 0) continue;
      redriven[queue.name] = (await localRedrive(queue.name, {}, { url: pipeline.url })).moved;
    }
    expect(redriven).toEqual(first.deadLettered);
    await quiesce(pipeline);
    const report = checkConservation(running, deliveries, { requireCompleted: true, exclusiveDeadLetters: false });
    expect(report.problems).toEqual([]);
    // Every deployed target of every route, the fan-out route's http target included.
    expect(Object.keys(report.completed).sort()).toEqual(pipeline.model.rules.map((rule) => `${rule.route}/${rule.target}`).sort());
    for (const handle of Object.keys(report.completed)) {
      const route = handle.split('/')[0] ?? '';
      expect(report.completed[handle], handle).toBe(webhooks.filter((webhook) => webhook.routes.includes(route)).length);
    }
    const checked = performance.now();

    const resent = deliveries.filter((delivery) => delivery.statuses.some((status) => status >= 500)).length;
    process.stderr.write(
      `pipeline-load tally: ${report.accepted} accepted (${resent} after a 503, ${answerLost.size} resent after a lost 202) in ${((ingested - started) / 1000).toFixed(1)} s, ` +
        `replayed while sending: ${replay.eventsReplayed} events (${formatCounts(replay.delivered)}), ` +
        `all consumed after ${((consumed - started) / 1000).toFixed(1)} s (${Math.round(WEBHOOKS / ((consumed - started) / 1000))} webhooks/s end to end), ` +
        `checks and redrive ${((checked - consumed) / 1000).toFixed(1)} s; completed: ${formatCounts(report.completed)}; dead-lettered then redriven: ${formatCounts(redriven)}\n`,
    );
  });
});
