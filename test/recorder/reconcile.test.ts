/**
 * The reconciliation rules on in-memory sources: which copies a route counts, and how each target's
 * outcome is decided (lib/recorder/reconcile.ts).
 */
import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../lib/domain/route-samples';
import type { Route } from '../../lib/domain/route-types';
import { reconcile, trace } from '../../lib/recorder/reconcile';
import { toRecordedEvent, type RecordedEvent } from '../../lib/recorder/recorded-event';
import type { Completion, DeadLetter, DeliveryRecord, InFlightQueue, RecorderDeadLetters, RecorderSources, TrackedTarget } from '../../lib/recorder/sources';

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

const REVIEW: Route = {
  name: 'review',
  description: 'the review workflow',
  pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'] },
  targets: [{ kind: 'workflow', workflow: 'review' }],
  samples: { matching: [], notMatching: [] },
};

/** Past every target's retry horizon at NOW (the longest, a function's, is 3 h 15 min). */
const SETTLED = '2026-11-22T08:00:00Z';

function copy(fastioEventId: string, extra: Record<string, unknown> = {}): RecordedEvent {
  const event = { version: '0', id: `eb-${fastioEventId}`, 'detail-type': 'file.uploaded', source: 'fastio', time: SETTLED, detail: { eventId: fastioEventId }, ...extra };
  return toRecordedEvent(event) as RecordedEvent;
}

function success(fastioEventId: string, extra: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return { route: 'notify', target: 'slack', eventId: `eb-${fastioEventId}`, status: 'succeeded', at: '2026-11-22T08:00:02.000Z', attempt: 1, ...extra };
}

interface Extra {
  readonly deliveries?: DeliveryRecord[];
  readonly inFlight?: InFlightQueue[];
  readonly recorderDlq?: RecorderDeadLetters;
  readonly reviewGuardExpiryDays?: number;
}

function sources(recorded: RecordedEvent[], completed: Record<string, string[]>, deadLetters: DeadLetter[] = [], extra: Extra = {}): RecorderSources {
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
    deadLetters: { deadLetters: async () => ({ letters: deadLetters, inFlight: extra.inFlight ?? [] }) },
    deliveries: { deliveries: async () => extra.deliveries ?? [] },
    ...(extra.recorderDlq === undefined ? {} : { recorderInput: { recorderDeadLetters: async () => extra.recorderDlq as RecorderDeadLetters } }),
    completionExpiryDays: 7,
    ...(extra.reviewGuardExpiryDays === undefined ? {} : { reviewGuardExpiryDays: extra.reviewGuardExpiryDays }),
  };
}

describe('reconcile', () => {
  it('a route that refuses replays counts neither the replay copy of an event nor an event recorded only as a replay', async () => {
    const recorded = [copy('e1'), copy('e1', { id: 'eb-e1-r', 'replay-name': 'r-1' }), copy('e2', { id: 'eb-e2-r', 'replay-name': 'r-1' })];
    const deliveries = [success('e1', { eventId: 'eb-e1-r' }), success('e2', { eventId: 'eb-e2-r' })];
    const { report } = await reconcile(WINDOW, [FRESH_ONLY, NOTIFY], sources(recorded, { 'fresh-only/queue': ['e1'] }, [], { deliveries }), { now: NOW });
    expect(report.routes.map((route) => [route.route, route.events])).toEqual([
      ['fresh-only', 1],
      ['notify', 2],
    ]);
    expect(report.clean).toBe(true);
  });

  it("a target outside the project is confirmed by EventBridge's success record for the event, found by its EventBridge id", async () => {
    const letter: DeadLetter = { queue: 'notify/slack/target-dlq', route: 'notify', target: 'slack', role: 'target-dlq', messageId: 'm-1', fastioEventId: 'e2', reason: '429: Too Many Requests' };
    const { report, work } = await reconcile(WINDOW, [NOTIFY], sources([copy('e1'), copy('e2')], {}, [letter], { deliveries: [success('e1')] }), { now: NOW });
    expect(report.routes[0]?.targets[0]?.counts).toMatchObject({ confirmed: 1, 'dead-lettered': 1, missing: 0, unconfirmed: 0 });
    expect(work.deadLetters).toEqual([letter]);
    expect(report.exitCode).toBe(1);
  });

  it('a target outside the project with no record at all is unconfirmed past its horizon, counted on its own, exit 3, not re-delivered', async () => {
    const { report, work } = await reconcile(WINDOW, [NOTIFY], sources([copy('e1')], {}), { now: NOW });
    expect(report.routes[0]?.targets[0]).toMatchObject({ unconfirmed: ['e1'], counts: expect.objectContaining({ unconfirmed: 1, confirmed: 0 }) });
    expect(report).toMatchObject({ unconfirmed: 1, verdict: 'not-yet', exitCode: 3, clean: false });
    expect(work.missing).toEqual([]);
  });

  it('a target outside the project without evidence is pending while the event is younger than its horizon, with the time to run again', async () => {
    const young = copy('e1', { time: '2026-11-22T11:50:00Z' });
    const retrying = success('e1', { status: 'retrying', reason: '503 ApiDestination: Service Unavailable', at: '2026-11-22T11:50:01.000Z' });
    const { report } = await reconcile(WINDOW, [NOTIFY], sources([young], {}, [], { deliveries: [retrying] }), { now: NOW });
    expect(report.routes[0]?.targets[0]?.pending).toEqual([
      { fastioEventId: 'e1', why: "within the target's retry horizon (last record retrying: 503 ApiDestination: Service Unavailable)", until: '2026-11-22T14:05:00.000Z' },
    ]);
    expect(report).toMatchObject({ pending: 1, verdict: 'not-yet', exitCode: 3, rerunAfter: '2026-11-22T14:05:00.000Z' });
  });

  it('an own target past its horizon is pending, not missing, while one of its dead-letter queues had messages in flight', async () => {
    const inFlight: InFlightQueue[] = [{ queue: 'fresh-only/queue/buffer-dlq', route: 'fresh-only', target: 'queue', inFlight: 2 }];
    const { report, work } = await reconcile(WINDOW, [FRESH_ONLY], sources([copy('e1')], {}, [], { inFlight }), { now: NOW });
    expect(report.routes[0]?.targets[0]?.pending).toEqual([{ fastioEventId: 'e1', why: '2 message(s) of fresh-only/queue/buffer-dlq in flight while read' }]);
    expect(report.exitCode).toBe(3);
    expect(work.missing).toEqual([]);
  });

  it('a target outside the project whose failure EventBridge logged, with no dead letter left, is missing', async () => {
    const dlq = success('e1', { status: 'dead-lettered', reason: '400 ApiDestination: Bad Request' });
    const { report, work } = await reconcile(WINDOW, [NOTIFY], sources([copy('e1')], {}, [], { deliveries: [dlq] }), { now: NOW });
    expect(report.routes[0]?.targets[0]?.missing).toEqual(['e1']);
    expect(work.missing.map((item) => item.event.fastioEventId)).toEqual(['e1']);
    expect(report.exitCode).toBe(1);
  });

  it('an expired review guard is unverifiable like an expired completion record; an event whose guard still lives and has none is missing', async () => {
    const old = copy('e-old', { time: '2026-11-10T10:00:00Z' });
    const { report } = await reconcile(WINDOW, [REVIEW], sources([old, copy('e-new')], {}, [], { reviewGuardExpiryDays: 11 }), { now: NOW });
    expect(report.routes[0]?.targets[0]).toMatchObject({ unverifiable: ['e-old'], missing: ['e-new'] });
  });

  it('a review guard without a TTL never makes its event unverifiable', async () => {
    const old = copy('e-old', { time: '2026-11-10T10:00:00Z' });
    const { report } = await reconcile(WINDOW, [REVIEW], sources([old], {}), { now: NOW });
    expect(report.routes[0]?.targets[0]).toMatchObject({ unverifiable: [], missing: ['e-old'] });
  });

  it("joins the recorder DLQ's events of the window to the reconciled set, and says the recorder input was incomplete (exit 1)", async () => {
    const unrecorded = copy('e-lost');
    const outside = copy('e-outside', { time: '2026-10-01T00:00:00Z' });
    const recorderDlq: RecorderDeadLetters = { events: [unrecorded, outside], messages: 2, inFlight: 0 };
    const { report, work } = await reconcile(WINDOW, [FRESH_ONLY], sources([copy('e1')], { 'fresh-only/queue': ['e1', 'e-lost'] }, [], { recorderDlq }), { now: NOW });
    expect(report.routes[0]?.targets[0]?.counts).toMatchObject({ completed: 2, missing: 0 });
    expect(report.recorderInput).toEqual({ checked: true, complete: false, deadLetters: 2, inFlight: 0, joined: 1 });
    expect(report).toMatchObject({ verdict: 'failed', exitCode: 1 });
    expect(work.unrecorded.map((event) => event.fastioEventId)).toEqual(['e-lost', 'e-outside']);
  });

  it('is clean (exit 0) when every event is completed or confirmed and the recorder DLQ is empty', async () => {
    const recorderDlq: RecorderDeadLetters = { events: [], messages: 0, inFlight: 0 };
    const { report } = await reconcile(WINDOW, [FRESH_ONLY, NOTIFY], sources([copy('e1')], { 'fresh-only/queue': ['e1'] }, [], { deliveries: [success('e1')], recorderDlq }), { now: NOW });
    expect(report).toMatchObject({ verdict: 'clean', exitCode: 0, clean: true, totals: expect.objectContaining({ completed: 1, confirmed: 1 }) });
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
      { route: 'notify', replays: ['r-1'], targets: [expect.objectContaining({ target: 'slack', status: 'unconfirmed' })] },
    ]);
    expect(report.received).toMatchObject({ id: 'eb-e1', quarantined: false, body: { store: 'inline' } });
  });
});
