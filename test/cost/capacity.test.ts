import { resolveRouteTable } from '../../lib/domain/route-validation';
/**
 * Default sizing: a burst of 5,000 signed deliveries within 10 s is admitted without a 429.
 *
 * The stage throttle is a token bucket (rate, burst) that API Gateway starts full. The figures come
 * from the synthesized ingest template; they drive the same Throttle the local HTTP API enforces,
 * first with a moved clock over several arrival patterns, then over real HTTP through the local
 * HTTP API (with a stub function: the real ingest runs one invocation at a time locally and serves
 * about 276 webhooks/s, so only the throttle's answer is measured there).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import assumptions from '../../lib/cost/assumptions.json';
import { capacityLines, DEFAULT_QUOTAS, estimateCapacity, readCapacityFacts, type CapacityFacts } from '../../lib/cost/capacity';
import { deployedRoutes } from '../../lib/cost/template-facts';
import type { CfnTemplate } from '../../lib/cost/template-facts';
import { Throttle } from '../../lib/local/api-gateway';
import { Flow } from '../../lib/local/flow';
import { HttpApi } from '../../lib/local/http-api';
import type { LocalModel } from '../../lib/local/model';
import { routeTable } from '../../lib/route-table';
import { synthesize } from '../infra/synthesize';

const BURST = 5_000;
const WINDOW_MS = 10_000;

/** How many of the arrivals (ms offsets, any order) the bucket refuses. */
function refusedBy(facts: CapacityFacts, arrivalsMs: readonly number[]): number {
  let now = 0;
  const throttle = new Throttle(facts.stageRateLimit, facts.stageBurstLimit, () => now);
  let refused = 0;
  for (const at of [...arrivalsMs].sort((a, b) => a - b)) {
    now = at;
    if (!throttle.take()) refused += 1;
  }
  return refused;
}

/** A deterministic spread of n arrivals within the window (a linear congruential generator). */
function scattered(n: number): number[] {
  let seed = 12_345;
  return Array.from({ length: n }, () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return (seed / 2 ** 31) * WINDOW_MS;
  });
}

const PATTERNS: Record<string, number[]> = {
  'all at once': Array.from({ length: BURST }, () => 0),
  'evenly over 10 s': Array.from({ length: BURST }, (_, i) => (i * WINDOW_MS) / BURST),
  '500 at the start of each second': Array.from({ length: BURST }, (_, i) => Math.floor(i / 500) * 1000),
  'scattered at random': scattered(BURST),
};

let defaults: CapacityFacts;
let templates: { ingest: CfnTemplate; stateful: CfnTemplate; routing: CfnTemplate };
beforeAll(() => {
  const synthesized = synthesize().templates;
  templates = {
    ingest: synthesized.ingest.toJSON() as CfnTemplate,
    stateful: synthesized.stateful.toJSON() as CfnTemplate,
    routing: synthesized.routing.toJSON() as CfnTemplate,
  };
  defaults = readCapacityFacts(templates.ingest);
});

describe('the default stage throttle (token-bucket figures from the synthesized template)', () => {
  it('is 1,000 requests/s with a bucket of 5,000, and the ingest reserves 100 executions', () => {
    expect(defaults).toEqual({ stageRateLimit: 1000, stageBurstLimit: 5000, ingestReservedConcurrency: 100 });
  });

  it.each(Object.keys(PATTERNS))('admits 5,000 deliveries within 10 s arriving %s', (pattern) => {
    expect(refusedBy(defaults, PATTERNS[pattern] as number[])).toBe(0);
  });

  it('the previous defaults (50/s, burst 100) refused most of such a burst', () => {
    const previous = { ...defaults, stageRateLimit: 50, stageBurstLimit: 100 };
    expect(refusedBy(previous, PATTERNS['evenly over 10 s'] as number[])).toBeGreaterThan(4_000);
  });

  it('a second full burst right after the first is throttled until the bucket refills', () => {
    const twoBursts = [...(PATTERNS['all at once'] as number[]), ...Array.from({ length: BURST }, () => 1_000)];
    // 1 s refills 1,000 tokens: 4,000 of the second burst are refused (and resent by Fast.io).
    expect(refusedBy(defaults, twoBursts)).toBe(4_000);
  });
});

describe('the capacity section of npm run cost', () => {
  it('states the burst, the sustained rate and which limit binds first as the rate grows', () => {
    // The table as cdk.json deploys it: the slack target's URL is not configured, so it is not there.
    const routes = resolveRouteTable(routeTable, { tryGetContext: () => undefined });
    const deployed = readCapacityFacts(templates.ingest, { ...templates, routes });
    const capacity = estimateCapacity(deployed, routes, { ingestDurationMs: assumptions.durationMs.value.ingest, routeShare: assumptions.routeShare.value });
    expect(capacity.admittedInBurstWindow).toBe(15_000);
    expect(capacity.ingestPerSecond).toBe(4_000);
    expect(capacity.sustainedPerSecond).toBe(1_000);
    expect(capacity.limits.map((limit) => [limit.webhooksPerSecond, limit.name.split(' (')[0]])).toEqual([
      [1_000, 'HTTP API stage throttle'],
      [4_000, 'ingest reserved concurrency'],
      [10_000, 'API Gateway account throttle'],
      [10_000, 'EventBridge PutEvents'],
      [171_428, 'Step Functions StartExecution, Express'],
    ]);
  });

  it('lists the flight recorder\'s Firehose quota, the lower of its requests and its bytes per second', () => {
    // GIVEN events of 2,368 bytes: 5 MiB/s is 2,214 of them, so the 2,000 requests/s bind first
    const shares = { ingestDurationMs: assumptions.durationMs.value.ingest, routeShare: assumptions.routeShare.value };
    const recorderLimit = (recordedEventBytes: number) =>
      estimateCapacity(defaults, routeTable, { ...shares, recordedEventBytes }).limits.find((limit) => limit.name.startsWith('Firehose Direct PUT'));
    expect(recorderLimit(2_368)?.webhooksPerSecond).toBe(2_000);
    // WHEN events are 4 KiB, THEN the bytes bind: 1,280 a second
    expect(recorderLimit(4_096)?.webhooksPerSecond).toBe(1_280);
    expect(recorderLimit(4_096)?.effect).toContain('recorder DLQ');
  });

  it('counts the rules on the bus from the templates, not the route table, and states them against the 300-per-bus quota', () => {
    // GIVEN a route that deploys two rules on the bus, the recorder's rule, and one rule on the default bus
    const bus = { Ref: 'EventBus7B8748AA' };
    const rule = (onBus: boolean) => ({ Type: 'AWS::Events::Rule', Properties: { ...(onBus ? { EventBusName: bus } : {}), State: 'ENABLED' } });
    const routing: CfnTemplate = { Resources: { RouteaTargetxRule: rule(true), RouteaTargetyRule: rule(true), Schedule: rule(false) } };
    const stateful: CfnTemplate = { Resources: { FlightRecorderRule: rule(true) } };
    const oneRoute = [routeTable[0] as (typeof routeTable)[number]];
    // WHEN the capacity facts are read
    const facts = readCapacityFacts(templates.ingest, { stateful, routing, routes: oneRoute });
    // THEN three rules count, whatever the number of routes
    expect(facts.busRules).toBe(3);
    const lines = capacityLines(estimateCapacity(facts, oneRoute, { ingestDurationMs: 25, routeShare: {} }));
    expect(lines).toContain(`  rules      3 rules on the bus (AWS::Events::Rule in the templates) of ${DEFAULT_QUOTAS.rulesPerBus} per bus (default quota): 297 left`);
  });

  it('counts at least one rule per deployed route plus the recorder in the synthesized templates', () => {
    const routes = deployedRoutes(templates.routing, routeTable);
    const facts = readCapacityFacts(templates.ingest, { ...templates, routes });
    expect(facts.busRules).toBeGreaterThanOrEqual(routes.length + 1);
  });

  it('throttles review starts by the Express StartExecution quota when the review workflows deploy as Express', () => {
    // GIVEN the synthesized routing template, whose review state machines are EXPRESS
    const routes = deployedRoutes(templates.routing, routeTable);
    const facts = readCapacityFacts(templates.ingest, { ...templates, routes });
    const workflows = routes.flatMap((route) => route.targets.filter((target) => target.kind === 'workflow').map(() => route.name));
    expect(workflows.length).toBeGreaterThan(0);
    expect(Object.values(facts.workflowTypes ?? {}).every((type) => type === 'express')).toBe(true);
    const routeShare = assumptions.routeShare.value as Record<string, number>;
    const reviewShare = workflows.reduce((sum, name) => sum + (routeShare[name] ?? 0), 0);
    // WHEN capacity is estimated
    const limits = estimateCapacity(facts, routes, { ingestDurationMs: 25, routeShare }).limits.filter((limit) => limit.name.startsWith('Step Functions StartExecution'));
    // THEN only the Express bucket is listed, at its refill divided by the share of webhooks that start a review
    expect(limits.map((limit) => [limit.name.split(' (')[0], limit.webhooksPerSecond])).toEqual([
      ['Step Functions StartExecution, Express', Math.floor(DEFAULT_QUOTAS.expressStartExecutionRefillPerSecond / reviewShare)],
    ]);
  });
});

async function startLocalApi(throttle: { rateLimit: number; burstLimit: number }): Promise<{ url: string; close: () => Promise<void> }> {
  const model = {
    webhookRoutes: [{ method: 'POST', path: '/webhooks/fastio', routeKey: 'POST /webhooks/fastio', functionName: 'ingest' }],
    throttle,
  } as unknown as LocalModel;
  const api = new HttpApi(model, {
    invoke: async (_name, event) => ({ requestId: event.requestContext.requestId, ok: true, payload: { statusCode: 202, body: '{}' }, logs: [], durationMs: 0 }),
    control: async () => ({ status: 404, body: {} }),
    flow: new Flow(Date.now),
    now: Date.now,
  });
  const server: Server = createServer((request, response) => void api.handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/fastio`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Posts `count` deliveries, 32 in flight; the statuses counted. */
async function postMany(url: string, count: number): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        next += 1;
        const response = await fetch(url, { method: 'POST', body: '{"event_type":"file.uploaded"}', headers: { 'content-type': 'application/json' } });
        await response.arrayBuffer();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

describe('through the local HTTP API, which enforces the stage throttle of the template', () => {
  it('answers 5,000 back-to-back deliveries without a 429 at the default figures', async () => {
    const api = await startLocalApi({ rateLimit: defaults.stageRateLimit, burstLimit: defaults.stageBurstLimit });
    const started = performance.now();
    try {
      const statuses = await postMany(api.url, BURST);
      const seconds = (performance.now() - started) / 1000;
      expect(statuses, `${BURST} requests in ${seconds.toFixed(1)} s`).toEqual({ 202: BURST });
    } finally {
      await api.close();
    }
  }, 90_000);

  it('answers 429 beyond the bucket at the previous figures (50/s, burst 100), so the check above can fail', async () => {
    const api = await startLocalApi({ rateLimit: 50, burstLimit: 100 });
    try {
      const statuses = await postMany(api.url, 600);
      expect(statuses[429] ?? 0).toBeGreaterThan(300);
    } finally {
      await api.close();
    }
  }, 60_000);
});
