import { describe, expect, it } from 'vitest';
import { eventLabel, Flow } from '../../lib/local/flow';

const texts = (flow: Flow) => flow.records.map((record) => record.text);

describe('Flow.hold', () => {
  it('puts the releasing line before what was emitted while it held', () => {
    const flow = new Flow(() => 0);
    const release = flow.hold();
    flow.emit('info', 'bus', 'routes matched');
    expect(texts(flow)).toEqual([]);
    release({ status: 'ok', source: 'ingest', text: '202 published' });
    expect(texts(flow)).toEqual(['202 published', 'routes matched']);
  });

  it('with overlapping holds, keeps everything back until the last one ends, then lets it out in order', () => {
    const flow = new Flow(() => 0);
    const first = flow.hold();
    const second = flow.hold();
    flow.emit('info', 'bus', 'A routed');
    flow.emit('info', 'bus', 'B routed');
    first({ status: 'ok', source: 'ingest', text: 'A 202' });
    expect(texts(flow)).toEqual([]);
    second({ status: 'ok', source: 'ingest', text: 'B 202' });
    flow.emit('info', 'bus', 'after');
    expect(texts(flow)).toEqual(['A 202', 'B 202', 'A routed', 'B routed', 'after']);
  });

  it('dates an answer when its hold began, so overlapping requests print in time order', () => {
    // GIVEN a clock that moves on: request A starts at 10, B at 20, A's event is routed at 30, B's at 40
    let now = 10;
    const flow = new Flow(() => now);
    const a = flow.hold();
    now = 20;
    const b = flow.hold();
    now = 30;
    flow.emit('info', 'bus', 'A routed');
    now = 40;
    flow.emit('info', 'bus', 'B routed');
    // WHEN B answers first, then A
    now = 50;
    b({ status: 'ok', source: 'ingest', text: 'B 202' });
    a({ status: 'ok', source: 'ingest', text: 'A 202' });
    // THEN the lines come out in time order, each answer at its request's start
    expect(flow.records.map((record) => [record.at, record.text])).toEqual([
      [10, 'A 202'],
      [20, 'B 202'],
      [30, 'A routed'],
      [40, 'B routed'],
    ]);
  });

  it('lets held lines out once a thousand piled up, in order', () => {
    const flow = new Flow(() => 0);
    flow.hold();
    for (let index = 0; index < 1_000; index += 1) flow.emit('info', 'bus', `line ${index}`);
    expect(flow.records).toHaveLength(1_000);
    expect(flow.records[999]?.text).toBe('line 999');
  });
});

describe('eventLabel', () => {
  it('shows the whole Fast.io event id, so the terminal line can be pasted into ops trace', () => {
    // GIVEN an event whose id is longer than a terminal column
    const eventId = 'evt-2f6c1a9e-8b7d-4c3e-9a1f-0d2b3c4e5f60';
    // WHEN it is labelled for the terminal
    const label = eventLabel({ 'detail-type': 'file.uploaded', detail: { eventId } });
    // THEN the id is there whole
    expect(label).toBe(`file.uploaded ${eventId}`);
  });

  it('names the replay a copy came from', () => {
    expect(eventLabel({ 'detail-type': 'file.deleted', 'replay-name': 'recovery-1', detail: { eventId: 'evt-1' } })).toBe('file.deleted evt-1 (replay recovery-1)');
  });
});
