/**
 * Which targets of a route take replay copies (DESIGN decision 17), judged by running real events
 * through the pattern each target's rule gets: the same matcher the local pipeline runs.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../../lib/domain/pattern-matcher';
import { completeEvent } from '../../lib/domain/route-samples';
import {
  defaultReplayPolicy,
  findRoute,
  routeTable,
  takesReplaysWithoutIdempotency,
  targetAcceptsReplays,
  targetName,
  targetRulePattern,
  type Route,
  type RouteTarget,
  type SampleEvent,
} from '../../lib/route-table';

const upload: SampleEvent = {
  'detail-type': 'file.uploaded',
  detail: { eventId: 'evt-r1', workspaceId: 'ws-1', fileId: 'f-r1', fileName: 'demo.mp4', extension: 'mp4', sizeBytes: 1_048_576, sizeMiB: 1 },
};
const replayed: SampleEvent = { ...upload, 'replay-name': 'recovery-2026-12-07' };

const route = (targets: readonly RouteTarget[], pattern: Route['pattern'] = { source: ['fastio'], 'detail-type': ['file.uploaded'] }): Route => ({
  name: 'fan-out',
  description: 'A route the test builds.',
  pattern,
  targets,
  samples: { matching: [upload], notMatching: [] },
});

const http: RouteTarget = { name: 'hook', kind: 'http', url: 'https://example.com/hook', authorization: { type: 'api-key', headerName: 'X-Key', secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:k-AbCdEf' } };
const own: RouteTarget = { name: 'catalog', kind: 'queue', consumer: 'catalog-consumer' };
const topic: RouteTarget = { name: 'news', kind: 'topic' };
const bus: RouteTarget = { name: 'partner', kind: 'bus', eventBusArn: 'arn:aws:events:us-west-2:444455556666:event-bus/partner' };
const functionArn: RouteTarget = { name: 'transcribe', kind: 'function', functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:transcribe' };

const delivers = (r: Route, target: RouteTarget, sample: SampleEvent): boolean => compilePattern(targetRulePattern(r, target)).matches(completeEvent(sample).event);

describe('replay policy per target', () => {
  it('skips replay copies by default for http and topic targets only', () => {
    expect([own, http, topic, bus, functionArn].map((target) => [targetName(target), defaultReplayPolicy(target)])).toEqual([
      ['catalog', 'deliver'],
      ['hook', 'skip'],
      ['news', 'skip'],
      ['partner', 'deliver'],
      ['transcribe', 'deliver'],
    ]);
  });

  it('GIVEN a fan-out route WHEN a replay copy arrives THEN the own target rule matches it and the http target rule does not', () => {
    const fanOut = route([own, http]);
    expect(delivers(fanOut, own, replayed)).toBe(true);
    expect(delivers(fanOut, http, replayed)).toBe(false);
  });

  it('GIVEN a fan-out route WHEN the original event arrives THEN every target rule matches it', () => {
    const fanOut = route([own, http, topic, bus]);
    expect([own, http, topic, bus].map((target) => delivers(fanOut, target, upload))).toEqual([true, true, true, true]);
  });

  it('GIVEN a route whose pattern refuses replays THEN no target takes them and the pattern is kept as written', () => {
    const refusing = route([own, bus], { source: ['fastio'], 'detail-type': ['file.uploaded'], 'replay-name': [{ exists: false }] });
    expect(refusing.targets.map((target) => targetAcceptsReplays(refusing, target))).toEqual([false, false]);
    expect(targetRulePattern(refusing, own)).toBe(refusing.pattern);
    expect(delivers(refusing, own, replayed)).toBe(false);
  });

  it("GIVEN a target's own replays: 'skip' or 'deliver' THEN it overrides its kind's default", () => {
    const quietBus: RouteTarget = { ...bus, replays: 'skip' };
    const chattyHook: RouteTarget = { ...http, replays: 'deliver' };
    const mixed = route([quietBus, chattyHook]);
    expect(delivers(mixed, quietBus, replayed)).toBe(false);
    expect(delivers(mixed, chattyHook, replayed)).toBe(true);
    expect(delivers(mixed, quietBus, upload)).toBe(true);
  });

  it('warns only about ARN and bus targets that take replay copies', () => {
    const mixed = route([own, http, bus, functionArn]);
    expect(mixed.targets.filter((target) => takesReplaysWithoutIdempotency(mixed, target)).map(targetName)).toEqual(['partner', 'transcribe']);
  });

  it('the shipped video-uploads route replays to catalog and not to slack', () => {
    const videoUploads = findRoute('video-uploads', routeTable);
    expect(videoUploads).toBeDefined();
    if (videoUploads === undefined) return;
    expect(Object.fromEntries(videoUploads.targets.map((target) => [targetName(target), delivers(videoUploads, target, replayed)]))).toEqual({ catalog: true, slack: false });
  });
});
