/**
 * The reconciliation rules on in-memory sources: which copies a route counts, and how each target's
 * outcome is decided (lib/recorder/reconcile.ts).
 */
import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../lib/domain/route-samples';
import type { Route } from '../../lib/domain/route-types';
import { reconcile, trace } from '../../lib/recorder/reconcile';
import { toRecordedEvent, type RecordedEvent } from '../../lib/recorder/recorded-event';
import type { Completion, DeadLetter, RecorderSources, TrackedTarget } from '../../lib/recorder/sources';

const NOW = new Date('2026-11-22T12:00:00Z');
const WINDOW = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-22T11:00:00Z') };

const FRESH_ONLY: Route = {
  name: 'fresh-only',
  description: 'refuses replays',
  pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'], 'replay-name': [{ exists: false }] },
  targets: [{ kind: 'queue', consumer: 'catalog-consumer' }],
  samples: { matching: [], notMatching: [] },
};
const NOTIFY: Route = {
  name: 'notify',
  description: 'an HTTPS endpoint outside the project',
  pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'] },
  targets: [{ kind: 'http', name: 'slack', url: 'https://hooks.example.com/x', authorization: { type: 'api-key', headerName: 'x-key', secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k' } }],
  samples: { matching: [], notMatching: [] },
};

function copy(fastioEventId: string, extra: Record<string, unknown> = {}): RecordedEvent {
  const event = { version: '0', id: `eb-${fastioEventId}`, 'detail-type': 'file.uploaded', source: 'fastio', time: '2026-11-22T10:00:00Z', detail: { eventId: fastioEventId }, ...extra };
  return toRecordedEvent(event) as RecordedEvent;
}

function sources(recorded: RecordedEvent[], completed: Record<string, string[]>, deadLetters: DeadLetter[] = []): RecorderSources {
  return {
    recorder: {
      events: async () => recorded,
      eventsOf: async (id) => recorded.filter((event) => event.fastioEventId === id),
      fullEvent: async (event) => event.event as BusEvent,
    },
    completions: {
      completions: async (target: TrackedTarget, ids) =>
        new Map(ids.filter((id) => completed[`${target.route.name}/${target.name}`]?.includes(id)).map((id): [string, Completion] => [id, { record: id, at: '2026-11-22T10:01:00Z', attempt: 2 }])),
    },
    deadLetters: { deadLetters: async () => deadLetters },
    completionExpiryDays: 7,
  };
}

describe('reconcile', () => {
  it('a route that refuses replays counts neither the replay copy of an event nor an event recorded only as a replay', async () => {
    const recorded = [copy('e1'), copy('e1', { id: 'eb-e1-r', 'replay-name': 'r-1' }), copy('e2', { id: 'eb-e2-r', 'replay-name': 'r-1' })];
    const { report } = await reconcile(WINDOW, [FRESH_ONLY, NOTIFY], sources(recorded, { 'fresh-only/queue': ['e1'] }), { now: NOW });
    expect(report.routes.map((route) => [route.route, route.events])).toEqual([
      ['fresh-only', 1],
      ['notify', 2],
    ]);
    expect(report.clean).toBe(true);
  });

  it('a target outside the project is delivered unless a dead letter holds the event', async () => {
    const letter: DeadLetter = { queue: 'notify/slack/target-dlq', route: 'notify', target: 'slack', role: 'target-dlq', messageId: 'm-1', fastioEventId: 'e2', reason: '429: Too Many Requests' };
    const { report, work } = await reconcile(WINDOW, [NOTIFY], sources([copy('e1'), copy('e2')], {}, [letter]), { now: NOW });
    expect(report.routes[0]?.targets[0]?.counts).toMatchObject({ delivered: 1, 'dead-lettered': 1, missing: 0 });
    expect(work.deadLetters).toEqual([letter]);
  });

  it('an own consumer event older than its completion records live is unverifiable, not missing, and not re-delivered', async () => {
    const old = copy('e-old', { time: '2026-11-10T10:00:00Z' });
    const { report, work } = await reconcile(WINDOW, [FRESH_ONLY], sources([old, copy('e-new')], {}), { now: NOW });
    expect(report.routes[0]?.targets[0]).toMatchObject({ missing: ['e-new'], unverifiable: ['e-old'] });
    expect(work.missing.map((item) => item.event.fastioEventId)).toEqual(['e-new']);
    expect(report.clean).toBe(false);
  });

  it('a completion record wins over a stale dead letter of the same event', async () => {
    const letter: DeadLetter = { queue: 'fresh-only/queue/buffer-dlq', route: 'fresh-only', target: 'queue', role: 'buffer-dlq', messageId: 'm-1', fastioEventId: 'e1', reason: 'failed' };
    const { report } = await reconcile(WINDOW, [FRESH_ONLY], sources([copy('e1')], { 'fresh-only/queue': ['e1'] }, [letter]), { now: NOW });
    expect(report.routes[0]?.targets[0]?.counts).toMatchObject({ completed: 1, 'dead-lettered': 0 });
  });

  it('leaves out a target the deployment lacks (its config was not set) and names it', async () => {
    const notDeployed = { ...sources([copy('e1')], { 'fresh-only/queue': ['e1'] }), deployed: (target: TrackedTarget) => target.route.name !== 'notify' };
    const { report } = await reconcile(WINDOW, [FRESH_ONLY, NOTIFY], notDeployed, { now: NOW });
    expect(report.notDeployed).toEqual(['notify/slack']);
    expect(report.routes[1]?.targets).toEqual([]);
  });
});

describe('trace', () => {
  it('names the replays that covered a route, and each target completed with its attempt', async () => {
    const recorded = [copy('e1'), copy('e1', { id: 'eb-e1-r', 'replay-name': 'r-1' })];
    const report = await trace('e1', WINDOW, [FRESH_ONLY, NOTIFY], sources(recorded, { 'fresh-only/queue': ['e1'] }), NOW);
    expect(report.routes).toEqual([
      { route: 'fresh-only', replays: [], targets: [expect.objectContaining({ target: 'queue', status: 'completed', completed: { record: 'e1', at: '2026-11-22T10:01:00Z', attempt: 2 } })] },
      { route: 'notify', replays: ['r-1'], targets: [expect.objectContaining({ target: 'slack', status: 'delivered' })] },
    ]);
    expect(report.received).toMatchObject({ id: 'eb-e1', quarantined: false, body: { store: 'inline' } });
  });
});
