/**
 * The local flight recorder: what the bus receives lands as JSON lines under recorder/dt=…/hour=…,
 * one event per line as the catch-all rule delivers it, replays marked by `replay-name`, readable
 * by another reader while it is written.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUARANTINE_DETAIL_TYPE } from '../../lib/domain/fastio-envelope';
import { Activity } from '../../lib/local/activity';
import { LocalArchive, type BusEvent } from '../../lib/local/archive';
import { createClock } from '../../lib/local/clock';
import { LocalEventBus } from '../../lib/local/event-bus';
import { FaultRegistry } from '../../lib/local/faults';
import { Flow } from '../../lib/local/flow';
import type { RuleDefinition } from '../../lib/local/model';
import { LocalRecorder, RECORDER_OBJECT_PREFIX, partitionOf, recorderDir } from '../../lib/local/recorder';

const BUS = 'dev-fastio-bus';
const T0 = Date.parse('2026-12-02T03:59:58.000Z');

let dir: string;
let now: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fastio-recorder-'));
  now = T0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const documentsRule: RuleDefinition = {
  logicalId: 'DocumentsRule',
  name: 'documents',
  arn: `arn:aws:events:us-east-1:000000000000:rule/${BUS}/documents`,
  route: 'documents',
  target: 'queue',
  pattern: { source: ['fastio'], detail: { extension: ['pdf'] } },
  enabled: true,
  targets: [],
};

function bus(recorder: LocalRecorder): LocalEventBus {
  const abort = new AbortController();
  return new LocalEventBus({
    name: BUS,
    arn: `arn:aws:events:us-east-1:000000000000:event-bus/${BUS}`,
    archive: new LocalArchive('archive', join(dir, 'archive.jsonl')),
    archivePattern: { source: ['fastio'] },
    recorder,
    rules: [documentsRule],
    deliver: () => 'delivered',
    queueByArn: () => undefined,
    faults: new FaultRegistry(),
    clock: createClock({ now: () => now }),
    flow: new Flow(),
    activity: new Activity(),
    signal: abort.signal,
  });
}

const entry = (detailType: string, detail: Record<string, unknown>, source = 'fastio') => ({ EventBusName: BUS, Source: source, DetailType: detailType, Detail: JSON.stringify(detail) });

/** Every line of every object of one partition directory, objects oldest first. */
function linesOf(partitionDir: string): BusEvent[] {
  return readdirSync(partitionDir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => readFileSync(join(partitionDir, name), 'utf8').trim().split('\n'))
    .map((line) => JSON.parse(line) as BusEvent);
}

describe('local flight recorder', () => {
  it('records every PutEvents entry, matched by a route or not, quarantined included, one EventBridge event per line in its UTC hour', () => {
    // GIVEN a bus with the recorder
    const recorder = new LocalRecorder(recorderDir(dir));
    const local = bus(recorder);

    // WHEN a routed event, an unrouted one and a quarantined one arrive
    const result = local.putEvents({
      Entries: [entry('file.uploaded', { eventId: 'evt_1', extension: 'pdf' }), entry('file.uploaded', { eventId: 'evt_2', extension: 'png' }), entry(QUARANTINE_DETAIL_TYPE, { reason: 'invalid-json' })],
    });

    // THEN each is one line of dt=2026-12-02/hour=03, the whole event as EventBridge delivers it
    const ids = (result.Entries as { EventId: string }[]).map((e) => e.EventId);
    const lines = linesOf(join(dir, 'recorder', 'dt=2026-12-02', 'hour=03'));
    expect(lines.map((event) => event.id)).toEqual(ids);
    expect(lines[0]).toEqual({
      version: '0',
      id: ids[0],
      'detail-type': 'file.uploaded',
      source: 'fastio',
      account: expect.any(String),
      time: '2026-12-02T03:59:58Z',
      region: expect.any(String),
      resources: [],
      detail: { eventId: 'evt_1', extension: 'pdf' },
    });
    expect(lines[2]?.['detail-type']).toBe(QUARANTINE_DETAIL_TYPE);
  });

  it('records replayed events again, marked with replay-name, in the hour of the replay', () => {
    // GIVEN an event received at 03:59:58
    const recorder = new LocalRecorder(recorderDir(dir));
    const local = bus(recorder);
    local.putEvents({ Entries: [entry('file.uploaded', { eventId: 'evt_r', extension: 'pdf' })] });

    // WHEN it is replayed five seconds later (04:00:03), to a route whose rule matches and to none
    now = T0 + 5_000;
    local.replay({ name: 'incident-1', from: new Date(T0 - 60_000), to: new Date(now), targets: ['documents/queue'] });
    local.replay({ name: 'incident-2', from: new Date(T0 - 60_000), to: new Date(now), targets: [] });

    // THEN the original stays in hour 03 and both replays are in hour 04, with their names
    expect(linesOf(join(dir, 'recorder', 'dt=2026-12-02', 'hour=03')).map((event) => event['replay-name'])).toEqual([undefined]);
    const replayed = linesOf(join(dir, 'recorder', 'dt=2026-12-02', 'hour=04'));
    expect(replayed.map((event) => [event['replay-name'], (event.detail as { eventId: string }).eventId, event.time])).toEqual([
      ['incident-1', 'evt_r', '2026-12-02T03:59:58Z'],
      ['incident-2', 'evt_r', '2026-12-02T03:59:58Z'],
    ]);
  });

  it('records only what the catch-all rule matches (source fastio)', () => {
    const recorder = new LocalRecorder(recorderDir(dir));
    bus(recorder).putEvents({ Entries: [entry('something', { a: 1 }, 'other.app')] });
    expect(recorder.partitions()).toEqual([]);
  });

  it('reads the partitions overlapping the window plus the arrival lag, skipping a torn last line', () => {
    // GIVEN events recorded at 01:10, 03:20 and 05:30, and a line being written in hour 03
    const recorder = new LocalRecorder(recorderDir(dir));
    const at = (iso: string) => Date.parse(`2026-12-02T${iso}:00.000Z`);
    const event = (id: string): BusEvent => ({ version: '0', id, 'detail-type': 'file.uploaded', source: 'fastio', account: '0', time: '2026-12-02T00:00:00Z', region: 'r', resources: [], detail: {} });
    recorder.record(event('a'), at('01:10'));
    recorder.record(event('b'), at('03:20'));
    recorder.record(event('c'), at('05:30'));
    writeFileSync(join(recorder.dir, partitionOf(at('03:20')), `${RECORDER_OBJECT_PREFIX}edited.jsonl`), '{"version":"0","id":"tor');

    // WHEN reading [03:20, 03:50) without and with a two-hour lag
    const window = { from: at('03:20'), to: at('03:50') };

    // THEN only whole lines of the overlapping hours come back
    expect(recorder.read(window).map((line) => [line.event.id, line.partition])).toEqual([['b', 'dt=2026-12-02/hour=03']]);
    expect(recorder.read(window, 2 * 3_600_000).map((line) => line.event.id)).toEqual(['b', 'c']);
    expect(recorder.partitions()).toEqual(['dt=2026-12-02/hour=01', 'dt=2026-12-02/hour=03', 'dt=2026-12-02/hour=05']);
  });

  it('buffers like Firehose: one object per interval, named and partitioned after its oldest record, unreadable until written', async () => {
    // GIVEN a recorder buffering 60 AWS seconds at time scale 1000 (60 ms)
    const recorder = new LocalRecorder(recorderDir(dir), undefined, { intervalMs: 60_000, scaled: (ms) => ms / 1000 });
    const event = (id: string, time: string): BusEvent => ({ version: '0', id, 'detail-type': 'file.uploaded', source: 'fastio', account: '0', time, region: 'r', resources: [], detail: {} });

    // WHEN one event arrives at 03:59:58 and the next at 04:00:01, in the same buffer window
    recorder.record(event('before', '2026-12-02T03:59:58Z'), T0);
    recorder.record(event('after', '2026-12-02T04:00:01Z'), T0 + 3_000);

    // THEN nothing is readable while buffered
    expect(recorder.buffered).toBe(2);
    expect(recorder.partitions()).toEqual([]);

    // AND once the interval ends both are in ONE object under hour 03, named after the oldest arrival
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(recorder.buffered).toBe(0);
    expect(recorder.partitions()).toEqual(['dt=2026-12-02/hour=03']);
    const objects = readdirSync(join(recorder.dir, 'dt=2026-12-02', 'hour=03'));
    expect(objects).toEqual([expect.stringMatching(/^fastio-recorder-2026-12-02T03-59-58\.000Z-\d+-1\.jsonl$/)]);

    // AND a reader of a window that starts at 04:00 still finds the 04:00:01 event (the scan starts a buffer interval earlier)
    const window = { from: Date.parse('2026-12-02T04:00:00Z'), to: Date.parse('2026-12-02T04:30:00Z') };
    expect(recorder.read(window).map((line) => [line.event.id, line.partition])).toEqual([
      ['before', 'dt=2026-12-02/hour=03'],
      ['after', 'dt=2026-12-02/hour=03'],
    ]);
    // (without the lead it would be lost: the hour-04 partition does not exist)
    expect(recorder.read(window, 0, 0)).toEqual([]);
  });

  it('flush writes what is buffered at once (the pipeline stopping)', () => {
    const recorder = new LocalRecorder(recorderDir(dir), undefined, { intervalMs: 900_000 });
    recorder.record({ version: '0', id: 'x', 'detail-type': 't', source: 'fastio', account: '0', time: '2026-12-02T03:59:58Z', region: 'r', resources: [], detail: {} }, T0);
    expect(recorder.partitions()).toEqual([]);
    recorder.flush();
    expect(linesOf(join(recorder.dir, partitionOf(T0))).map((event) => event.id)).toEqual(['x']);
  });
});
