import { beforeAll, describe, expect, it } from 'vitest';
import assumptions from '../../lib/cost/assumptions.json';
import prices from '../../lib/cost/aws-prices.json';
import { estimateDesign, estimateDirectWebhook, totalsByService, type Assumptions } from '../../lib/cost/cost-model';
import { readTemplateFacts, successPathTransitions, type CfnTemplate, type TemplateFacts } from '../../lib/cost/template-facts';
import { routeTable } from '../../lib/route-table';
import { synthesize } from '../infra/synthesize';

const line = (lines: readonly { item: string; perMillion: number }[], fragment: string) => {
  const found = lines.filter((candidate) => candidate.item.includes(fragment));
  if (found.length !== 1) throw new Error(`expected one cost line containing "${fragment}", found ${found.length}`);
  return found[0]?.perMillion ?? Number.NaN;
};

type Assumed = Exclude<keyof Assumptions, 'about'>;

function withAssumption<K extends Assumed>(key: K, value: Assumptions[K]['value']): Assumptions {
  return { ...assumptions, [key]: { why: assumptions[key].why, value } };
}

describe('cost model', () => {
  let facts: TemplateFacts;
  beforeAll(() => {
    const { app } = synthesize();
    const assembly = app.synth();
    const templateOf = (name: string) => assembly.getStackByName(name).template as CfnTemplate;
    facts = readTemplateFacts({ stateful: templateOf('dev-fastio-stateful'), ingest: templateOf('dev-fastio-ingest'), routing: templateOf('dev-fastio-routing') }, routeTable);
  });

  it('reads memory sizes, route kinds, workflow length and retention from the templates', () => {
    expect(facts.ingestMemoryMb).toBe(1024);
    expect(facts.archiveRetentionDays).toBe(30);
    expect(facts.routes.map((route) => [route.name, route.kind])).toEqual(routeTable.map((route) => [route.name, route.targets[0]?.kind]));
    expect(facts.routes.find((route) => route.name === 'large-media')?.workflowTransitions).toBe(10);
    expect(facts.routes.find((route) => route.name === 'documents')?.consumerMemoryMb).toBe(512);
    expect(facts.bufferQueues).toBe(1);
  });

  it('charges one HTTP API request and one custom event per webhook up to their size chunks', () => {
    const design = estimateDesign(facts, prices, assumptions);
    expect(line(design.variable, 'webhook requests')).toBeCloseTo(1.0, 10);
    expect(line(design.variable, 'custom events published')).toBeCloseTo(1.0, 10);
  });

  it('charges a 70 KB event as two EventBridge events (64 KB chunks)', () => {
    const design = estimateDesign(facts, prices, withAssumption('payloadBytes', 70 * 1024));
    expect(line(design.variable, 'custom events published')).toBeCloseTo(2.0, 10);
  });

  it('prices the ingest by requests and GB-seconds at its configured memory', () => {
    // 1024 MB for 25 ms = 0.025 GB-s; a million of them plus a million requests
    const design = estimateDesign(facts, prices, assumptions);
    expect(line(design.variable, 'ingest at 1024 MB')).toBeCloseTo(0.2 + 1_000_000 * 0.025 * 0.0000133334, 6);
  });

  it('prices a workflow route by its share and the transitions of its success path', () => {
    const design = estimateDesign(facts, prices, assumptions);
    // 3% of a million webhooks x 10 transitions at $0.025 per thousand
    expect(line(design.variable, 'route large-media (3% of webhooks): 10 transitions')).toBeCloseTo(0.03 * 10 * 1000 * 0.025, 10);
  });

  it('counts no cost for a route that matches nothing', () => {
    const design = estimateDesign(facts, prices, withAssumption('routeShare', { documents: 0, 'large-media': 0, 'agent-activity': 0, 'untrusted-agent-deletions': 0 }));
    expect(design.variable.filter((cost) => cost.item.startsWith('route ')).every((cost) => cost.perMillion === 0)).toBe(true);
  });

  it('scales variable cost with volume and keeps fixed cost flat', () => {
    const design = estimateDesign(facts, prices, assumptions);
    const secretsAtOneMillion = totalsByService(design, 1_000_000).find((total) => total.service === 'Secrets Manager');
    const secretsAtTenMillion = totalsByService(design, 10_000_000).find((total) => total.service === 'Secrets Manager');
    expect(secretsAtOneMillion?.perMonth).toBeCloseTo(secretsAtTenMillion?.perMonth ?? 0, 10);
    const apiAtTenMillion = totalsByService(design, 10_000_000).find((total) => total.service === 'API Gateway (HTTP API)');
    expect(apiAtTenMillion?.perMonth).toBeCloseTo(10, 10);
  });

  it('prices the direct inbound-webhook design without API, archive, routes or consumers', () => {
    const direct = estimateDirectWebhook(facts, prices, assumptions);
    expect(direct.variable.map((cost) => cost.service).sort()).toEqual(['CloudWatch', 'EventBridge', 'Lambda']);
  });

  it('walks a Choice through its first branch when counting transitions', () => {
    const definition = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Next: 'B' },
        B: { Type: 'Choice', Choices: [{ Next: 'C' }], Default: 'D' },
        C: { Type: 'Pass', Next: 'E' },
        D: { Type: 'Pass', Next: 'E' },
        E: { Type: 'Task', End: true },
      },
    };
    expect(successPathTransitions(definition)).toBe(4);
  });
});
