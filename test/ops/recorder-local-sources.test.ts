/**
 * The `--local` recorder sources against a stand-in control endpoint: which completion record
 * counts for which target, which queue belongs to which target, and what the recorder returns for
 * a window. (test/local/incident-drill.e2e.test.ts runs them against the real pipeline.)
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDEMPOTENCY_EXPIRY_DAYS, idempotencyRecordId, reviewGuardId } from '../../lib/domain/completion-records';
import { LocalRecorder, recorderDir } from '../../lib/local/recorder';
import type { BusEvent } from '../../lib/local/archive';
import { localRecorderSources } from '../../lib/ops/recorder-local-sources';
import { reconcile, RECONCILE_EXIT } from '../../lib/recorder/reconcile';
import { routeTable } from '../../lib/route-table';
import { trackedTargets, type TrackedTarget } from '../../lib/recorder/sources';

const DAY_S = 86_400;
const NOW = Date.parse('2026-12-02T04:00:00.000Z');

let dir: string;
let server: Server;
let url: string;
let tables: Record<string, unknown>[];
let queues: { name: string; route: string; role: string; depth: number }[];
let peeked: Record<string, unknown[]>;
let status: Record<string, unknown>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fastio-local-sources-'));
  tables = [];
  queues = [];
  peeked = {};
  status = { functions: [{ name: 'dev-catalog-consumer', route: 'documents' }, { name: 'dev-agent-audit', route: 'agent-activity' }] };
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x');
    const answer = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path.pathname === '/_local/status') answer(status);
    else if (path.pathname === '/_local/tables/idempotency') answer({ items: tables });
    else if (path.pathname === '/_local/dlq') answer({ queues });
    else if (path.pathname === '/_local/dlq/peek') answer({ messages: peeked[path.searchParams.get('name') ?? ''] ?? [] });
    else response.writeHead(404).end('{"message":"no"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({ url, startedAt: new Date(NOW - 3_600_000).toISOString() }));
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const sources = () => localRecorderSources({ url, stateDir: dir }, () => new Date(NOW));
const target = (route: string): TrackedTarget => trackedTargets(routeTable.find((candidate) => candidate.name === route) as (typeof routeTable)[number])[0] as TrackedTarget;

describe('local recorder sources', () => {
  it('a target completed an event when its COMPLETED record exists: <route>/<target> keys, the consumer function’s own prefix, and review guards', async () => {
    // GIVEN records: documents by route/target key, agent-activity by the function-name prefix, a review guard, and one still in progress
    const byFunction = idempotencyRecordId('agent-activity', 'function', 'evt_b').replace('agent-activity/function', 'dev-agent-audit');
    tables = [
      { id: idempotencyRecordId('documents', 'queue', 'evt_a'), status: 'COMPLETED', expiration: NOW / 1000 - 60 + 7 * DAY_S },
      { id: byFunction, status: 'COMPLETED', expiration: NOW / 1000 + 7 * DAY_S },
      { id: idempotencyRecordId('documents', 'queue', 'evt_c'), status: 'INPROGRESS', expiration: NOW / 1000 + 7 * DAY_S },
      { id: reviewGuardId('large-media', 'evt_d'), status: 'COMPLETED', completedAt: '2026-12-02T03:59:00Z' },
      { id: reviewGuardId('large-media', 'evt_e'), status: 'NOTIFIED' },
    ];
    const { completions } = await sources();

    // WHEN asked per target
    const documents = await completions.completions(target('documents'), ['evt_a', 'evt_b', 'evt_c']);
    const agent = await completions.completions(target('agent-activity'), ['evt_a', 'evt_b']);
    const media = await completions.completions(target('large-media'), ['evt_d', 'evt_e']);

    // THEN only completed records of that target count, dated by their expiry
    expect([...documents.entries()]).toEqual([['evt_a', { record: idempotencyRecordId('documents', 'queue', 'evt_a'), at: '2026-12-02T03:59:00.000Z' }]]);
    expect([...agent.keys()]).toEqual(['evt_b']);
    expect([...media.entries()]).toEqual([['evt_d', { record: reviewGuardId('large-media', 'evt_d'), at: '2026-12-02T03:59:00Z' }]]);
  });

  it('reads an expired review guard as gone, and says how long guards live from the archive retention', async () => {
    // GIVEN an archive of 30 days and two guards: one expired a minute ago, one live
    status = { ...status, archiveRetentionDays: 30 };
    tables = [
      { id: reviewGuardId('large-media', 'evt_old'), status: 'COMPLETED', completedAt: '2026-10-19T04:00:00Z', expiration: NOW / 1000 - 60 },
      { id: reviewGuardId('large-media', 'evt_new'), status: 'COMPLETED', completedAt: '2026-12-02T03:00:00Z', expiration: NOW / 1000 + 44 * DAY_S },
    ];
    // WHEN
    const local = await sources();
    const media = await local.completions.completions(target('large-media'), ['evt_old', 'evt_new']);
    // THEN only the live guard counts, and guards live 30 + 14 days
    expect([...media.keys()]).toEqual(['evt_new']);
    expect(local.reviewGuardExpiryDays).toBe(44);
  });

  it('dead letters belong to the target their queue names, two-part and three-part handles alike, and are only peeked', async () => {
    queues = [
      { name: 'documents/buffer-dlq', route: 'documents', role: 'buffer-dlq', depth: 1 },
      { name: 'agent-activity/function/on-failure', route: 'agent-activity', role: 'on-failure', depth: 1 },
      { name: 'large-media/workflow-failures', route: 'large-media', role: 'workflow-failures', depth: 0 },
    ];
    peeked = {
      'documents/buffer-dlq': [{ messageId: 'm1', sentAt: '2026-12-02T03:00:00.000Z', receiveCount: 0, event: { detail: { eventId: 'evt_a' } }, failure: { reason: 'the consumer failed it on every receive' } }],
      'agent-activity/function/on-failure': [{ messageId: 'm2', sentAt: '2026-12-02T03:01:00.000Z', receiveCount: 0, event: { detail: { eventId: 'evt_b' } }, failure: { condition: 'RetriesExhausted', errorType: 'ResourceNotFoundException', errorMessage: 'not found' } }],
    };
    const { letters, inFlight } = await (await sources()).deadLetters.deadLetters([target('documents'), target('agent-activity')]);
    expect(inFlight).toEqual([]);
    expect(letters).toEqual([
      { queue: 'documents/buffer-dlq', route: 'documents', target: 'queue', role: 'buffer-dlq', messageId: 'm1', fastioEventId: 'evt_a', reason: 'the consumer failed it on every receive', sentAt: '2026-12-02T03:00:00.000Z', receiveCount: 0 },
      { queue: 'agent-activity/function/on-failure', route: 'agent-activity', target: 'function', role: 'on-failure', messageId: 'm2', fastioEventId: 'evt_b', reason: 'ResourceNotFoundException: not found', sentAt: '2026-12-02T03:01:00.000Z', receiveCount: 0 },
    ]);
  });

  it('the recorder gives every copy whose event time is in the window, replay copies recorded later included; evidence dates from the pipeline start', async () => {
    const recorder = new LocalRecorder(recorderDir(dir));
    const event = (id: string, time: string, replayName?: string): BusEvent => ({
      version: '0', id, 'detail-type': 'file.uploaded', source: 'fastio', account: '0', time, region: 'r', resources: [], detail: { eventId: `fastio-${id}` }, ...(replayName ? { 'replay-name': replayName } : {}),
    });
    recorder.record(event('before', '2026-12-02T02:59:59Z'), Date.parse('2026-12-02T02:59:59Z'));
    recorder.record(event('in', '2026-12-02T03:10:00Z'), Date.parse('2026-12-02T03:10:00Z'));
    recorder.record(event('replayed', '2026-12-02T03:10:00Z', 'r1'), Date.parse('2026-12-02T05:30:00Z'));
    const built = await sources();
    const window = { from: new Date('2026-12-02T03:00:00Z'), to: new Date('2026-12-02T03:30:00Z') };
    expect((await built.recorder.events(window)).map((copy) => [copy.id, copy.replayName])).toEqual([['in', undefined], ['replayed', 'r1']]);
    expect((await built.recorder.eventsOf('fastio-in', window)).map((copy) => copy.id)).toEqual(['in']);
    // Evidence (completion records, dead letters) exists only since the pipeline started, to the
    // second as event times are: older events are "recorded before this pipeline started", never
    // unverifiable (issue 19 finding 7); completion records keep their real expiry.
    expect(built.evidenceSince?.toISOString()).toBe(new Date(Math.floor((NOW - 3_600_000) / 1000) * 1000).toISOString());
    expect(built.completionExpiryDays).toBe(DEFAULT_IDEMPOTENCY_EXPIRY_DAYS);
  });

  it("is not clean while the window ends within the local recorder's buffer, which hides its last event; clean once it is written", async () => {
    // GIVEN a pipeline at 1/100 whose recorder buffers 60 AWS s (600 ms) and holds an event that arrived just now
    status = { ...status, timeScale: 100, recorderBufferMs: 600 };
    const recorder = new LocalRecorder(recorderDir(dir), undefined, { intervalMs: 60_000, scaled: (ms) => ms / 100 });
    const arrived = Date.now();
    recorder.record(
      { version: '0', id: 'eb-png', 'detail-type': 'file.uploaded', source: 'fastio', account: '0', time: new Date(arrived).toISOString(), region: 'r', resources: [], detail: { eventId: 'fastio-png', extension: 'png' } },
      arrived,
    );
    const built = await sources();
    const window = { from: new Date(arrived - 600_000), to: new Date(arrived + 1) };
    // WHEN reconciled at once
    const early = await reconcile(window, routeTable, built, { now: new Date(arrived + 1) });
    // THEN the event is not readable yet, and the report says why instead of calling 0 events clean
    expect(built.recorderBufferMs).toBe(600);
    expect({ events: early.report.events, exitCode: early.report.exitCode, buffer: early.report.recorderBuffer?.bufferMs }).toEqual({ events: 0, exitCode: RECONCILE_EXIT.notYet, buffer: 600 });
    // WHEN reconciled after the buffer was written
    recorder.flush();
    const late = await reconcile(window, routeTable, built, { now: new Date(arrived + 601) });
    // THEN
    expect({ events: late.report.events, exitCode: late.report.exitCode, buffer: late.report.recorderBuffer }).toEqual({ events: 1, exitCode: RECONCILE_EXIT.clean, buffer: undefined });
  });

  it("assumes Firehose's largest buffer, time-scaled, from a pipeline that does not say how long it buffers", async () => {
    status = { ...status, timeScale: 100 };
    expect((await sources()).recorderBufferMs).toBe(9_000);
  });
});
