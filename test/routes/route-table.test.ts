/**
 * The route table is data (DESIGN.md decision 6): every route must carry samples that match and samples
 * that do not, and the Fast.io fixtures have an explicit list of receivers. A route edit that changes who
 * receives what fails here, in a test that names the event and the routes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASTIO_SOURCE } from '../../lib/domain/fastio-envelope';
import { validatePattern } from '../../lib/domain/pattern-matcher';
import { PLACEHOLDERS, compiledRoutePattern, completeEvent, eventFromPayload, matchingRouteNames, type BusEvent } from '../../lib/domain/route-samples';
import { TRUSTED_AGENT_IDS, acceptsReplays, routeTable, type SampleEvent } from '../../lib/route-table';

const FIXTURES_DIR = join(import.meta.dirname, '..', 'fixtures', 'payloads');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES_DIR, name));
const fixtureJson = (name: string): Record<string, unknown> => JSON.parse(fixture(name).toString('utf8')) as Record<string, unknown>;
const asBody = (payload: unknown): Buffer => Buffer.from(JSON.stringify(payload));

const complete = (sample: SampleEvent): BusEvent => completeEvent(sample).event;
const describeSample = (sample: SampleEvent): string =>
  `${sample['detail-type']} ${JSON.stringify(sample.detail)}${sample['replay-name'] === undefined ? '' : ` replay-name=${sample['replay-name']}`}`;

describe('completing samples into full events', () => {
  it('adds source "fastio" and the envelope fields EventBridge sets, in envelope order, keeping replay-name', () => {
    const { event, filled } = completeEvent({ 'detail-type': 'file.deleted', 'replay-name': 'r-1', detail: { agentId: 'a' } });
    expect(event).toEqual({
      version: '0',
      id: PLACEHOLDERS.id,
      'detail-type': 'file.deleted',
      source: FASTIO_SOURCE,
      account: '123456789012',
      time: '1970-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: { agentId: 'a' },
      'replay-name': 'r-1',
    });
    expect(Object.keys(event)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail', 'replay-name']);
    expect(filled).toEqual(['version', 'id', 'source', 'account', 'time', 'region', 'resources']);
  });

  it('keeps the fields an event already has', () => {
    const { event, filled } = completeEvent({ 'detail-type': 'x', detail: {}, source: 'other', id: 'e-1', account: '210987654321' });
    expect(event).toMatchObject({ source: 'other', id: 'e-1', account: '210987654321' });
    expect(filled).toEqual(['version', 'time', 'region', 'resources']);
  });
});

describe('route table', () => {
  it('has at least one route', () => {
    expect(routeTable.length).toBeGreaterThan(0);
  });

  it('route names are unique kebab-case of at most 40 characters', () => {
    const names = routeTable.map((route) => route.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name, `route name "${name}"`).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(name.length, `route name "${name}"`).toBeLessThanOrEqual(40);
    }
  });

  describe.each(routeTable.map((route) => [route.name, route] as const))('%s', (_name, route) => {
    it('has a pattern EventBridge accepts (validated by the matcher), on source "fastio"', () => {
      expect(() => validatePattern(route.pattern)).not.toThrow();
      expect(route.pattern.source).toEqual([FASTIO_SOURCE]);
      expect(route.description.trim()).not.toBe('');
    });

    it('has samples that must match and samples that must not (a route change without samples fails)', () => {
      expect(route.samples.matching.length, 'samples.matching is empty').toBeGreaterThan(0);
      expect(route.samples.notMatching.length, 'samples.notMatching is empty').toBeGreaterThan(0);
    });

    it('matches every sample in samples.matching', () => {
      const pattern = compiledRoutePattern(route);
      for (const sample of route.samples.matching) {
        const failure = pattern.explain(complete(sample));
        expect(failure, `${route.name} must match ${describeSample(sample)}`).toBeUndefined();
        expect(pattern.matches(complete(sample))).toBe(true);
      }
    });

    it('matches no sample in samples.notMatching', () => {
      const pattern = compiledRoutePattern(route);
      for (const sample of route.samples.notMatching) {
        expect(pattern.matches(complete(sample)), `${route.name} must not match ${describeSample(sample)}`).toBe(false);
        expect(pattern.explain(complete(sample))).toBeDefined();
      }
    });

    it(acceptsReplays(route) ? 'delivers replayed events that match' : 'refuses replayed events, however well they match', () => {
      const pattern = compiledRoutePattern(route);
      for (const sample of route.samples.matching) {
        const replayed = complete({ ...sample, 'replay-name': 'recovery-test' });
        if (acceptsReplays(route)) {
          expect(pattern.matches(replayed)).toBe(true);
        } else {
          expect(pattern.explain(replayed)).toEqual({ path: 'replay-name', reason: 'field exists (value "recovery-test") but the pattern requires it to be absent' });
        }
      }
    });
  });
});

/**
 * Who receives each Fast.io fixture, as the ingest normalizes it. Every file in test/fixtures/payloads
 * must be listed here, so a new fixture comes with its expected receivers too.
 */
const FIXTURE_RECEIVERS: Record<string, readonly string[]> = {
  'document-uploaded.json': ['documents'],
  'large-video-uploaded.json': ['large-media'],
  'agent-file-created.json': ['documents', 'agent-activity'],
  'image-small.json': [],
  'file-deleted.json': ['documents'],
};

describe('Fast.io fixtures through the ingest normalization and the route table', () => {
  it('every fixture file has an explicit list of receivers', () => {
    const files = readdirSync(FIXTURES_DIR).filter((file) => file.endsWith('.json')).sort();
    expect(files).toEqual(Object.keys(FIXTURE_RECEIVERS).sort());
  });

  it.each(Object.entries(FIXTURE_RECEIVERS))('%s goes to %j', (file, receivers) => {
    const { event } = eventFromPayload(fixture(file));
    expect(event.source).toBe(FASTIO_SOURCE);
    expect(matchingRouteNames(event)).toEqual(receivers);
  });

  it('document-uploaded: "Q3 Board Report.PDF" is normalized to extension "pdf" (documents)', () => {
    const { event } = eventFromPayload(fixture('document-uploaded.json'));
    expect(event['detail-type']).toBe('file.uploaded');
    expect(event.detail).toMatchObject({ fileName: 'Q3 Board Report.PDF', extension: 'pdf', sizeBytes: 2483017 });
    expect(event.detail).not.toHaveProperty('agentId');
  });

  it('large-video-uploaded: size sent as the string "524288000" is normalized to the number 524288000 (large-media)', () => {
    const { event } = eventFromPayload(fixture('large-video-uploaded.json'));
    expect(fixtureJson('large-video-uploaded.json').resource).toMatchObject({ size: '524288000' });
    expect(event.detail).toMatchObject({ extension: 'mp4', sizeBytes: 524_288_000, sizeMiB: 500 });
    expect(typeof event.detail.sizeBytes).toBe('number');
    // The route relies on that normalization: the same event with the size as a string would be missed.
    const unnormalized = { ...event, detail: { ...event.detail, sizeBytes: '524288000', sizeMiB: '500' } };
    expect(matchingRouteNames(unnormalized)).toEqual([]);
  });

  it('agent-file-created: an agent created a .csv, so the audit trail and the catalog both receive it', () => {
    const { event } = eventFromPayload(fixture('agent-file-created.json'));
    expect(event.detail).toMatchObject({ agentId: 'agt_3e7b1d9f05', extension: 'csv' });
    const renamed = fixtureJson('agent-file-created.json');
    renamed.resource = { ...(renamed.resource as object), name: 'weekly-sales-summary.png' };
    expect(matchingRouteNames(eventFromPayload(asBody(renamed)).event)).toEqual(['agent-activity']);
  });

  it('image-small: a 2 MiB .png is below the large-media threshold and no route receives it', () => {
    const { event } = eventFromPayload(fixture('image-small.json'));
    expect(event.detail).toMatchObject({ extension: 'png', sizeBytes: 2_097_152 });
    const large = fixtureJson('image-small.json');
    large.resource = { ...(large.resource as object), size: 100 * 1024 * 1024 };
    expect(matchingRouteNames(eventFromPayload(asBody(large)).event)).toEqual(['large-media']);
  });

  describe('file-deleted: documents only, unless an untrusted agent deleted it', () => {
    const withAgent = (agentId: string): Buffer => asBody({ ...fixtureJson('file-deleted.json'), agent_id: agentId });

    it('a person deleted it: documents only', () => {
      const { event } = eventFromPayload(fixture('file-deleted.json'));
      expect(event.detail).not.toHaveProperty('agentId');
      expect(matchingRouteNames(event)).toEqual(['documents']);
    });

    it('an untrusted agent deleted it: documents, agent-activity and untrusted-agent-deletions', () => {
      expect(matchingRouteNames(eventFromPayload(withAgent('agt_unknown')).event)).toEqual(['documents', 'agent-activity', 'untrusted-agent-deletions']);
    });

    it.each(TRUSTED_AGENT_IDS)('trusted agent %s deleted it: documents and agent-activity, no review', (agentId) => {
      expect(matchingRouteNames(eventFromPayload(withAgent(agentId)).event)).toEqual(['documents', 'agent-activity']);
    });

    it('replayed deletion by an untrusted agent: every route receives it again, the review too', () => {
      const { event } = eventFromPayload(withAgent('agt_unknown'));
      expect(matchingRouteNames({ ...event, 'replay-name': 'recovery-1' })).toEqual(['documents', 'agent-activity', 'untrusted-agent-deletions']);
    });

    it('every route accepts replays, since every target redoes only unfinished work', () => {
      expect(routeTable.filter((route) => !acceptsReplays(route)).map((route) => route.name)).toEqual([]);
    });
  });

  it('a payload the ingest quarantines reaches no route', () => {
    const { event } = eventFromPayload(Buffer.from('{"no":"event type"}'));
    expect(event['detail-type']).toBe('fastio.quarantined');
    expect(matchingRouteNames(event)).toEqual([]);
  });
});
