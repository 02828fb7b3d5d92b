import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FASTIO_SOURCE,
  MAX_JSON_DEPTH,
  QUARANTINE_DETAIL_TYPE,
  entrySizeBytes,
  extensionOf,
  toEntry,
  toEnvelope,
  toIsoTime,
  toSizeBytes,
  type FastioEventDetail,
  type QuarantineDetail,
} from '../../lib/domain/fastio-envelope';
import { fixture } from './support';

function event(payload: unknown): { detailType: string; detail: FastioEventDetail } {
  const envelope = toEnvelope(Buffer.from(JSON.stringify(payload)));
  if ('reason' in envelope.detail) throw new Error(`quarantined: ${envelope.detail.reason}`);
  return { detailType: envelope.detailType, detail: envelope.detail };
}

function quarantined(raw: Buffer | string): QuarantineDetail {
  const envelope = toEnvelope(Buffer.from(raw));
  expect(envelope.detailType).toBe(QUARANTINE_DETAIL_TYPE);
  if (!('reason' in envelope.detail)) throw new Error('not quarantined');
  return envelope.detail;
}

const sha256 = (raw: Buffer | string) => createHash('sha256').update(raw).digest('hex');

describe('fixtures normalize as documented', () => {
  it('document-uploaded.json: upper-case .PDF becomes "pdf"', () => {
    const raw = fixture('document-uploaded.json');
    const { detailType, detail } = event(JSON.parse(raw.toString()));
    expect(detailType).toBe('file.uploaded');
    expect(detail).toEqual({
      eventId: 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A',
      eventType: 'file.uploaded',
      occurredAt: '2025-11-18T14:32:07.000Z',
      workspaceId: 'ws_7f3a9c2e41',
      fileId: 'file_2b8d4e6f10',
      fileName: 'Q3 Board Report.PDF',
      extension: 'pdf',
      sizeBytes: 2483017,
      sizeMiB: 2,
      payload: JSON.parse(raw.toString()),
    });
  });

  it('large-video-uploaded.json: size sent as a string becomes a number', () => {
    const { detail } = event(JSON.parse(fixture('large-video-uploaded.json').toString()));
    expect(detail.extension).toBe('mp4');
    expect(detail.sizeBytes).toBe(524288000);
    expect(detail.sizeMiB).toBe(500);
    expect(detail.payload?.resource).toMatchObject({ size: '524288000' }); // payload stays verbatim
    expect(detail.agentId).toBeUndefined();
  });

  it('agent-file-created.json: the acting agent is identified', () => {
    const { detailType, detail } = event(JSON.parse(fixture('agent-file-created.json').toString()));
    expect(detailType).toBe('file.created');
    expect(detail).toMatchObject({ extension: 'csv', agentId: 'agt_3e7b1d9f05', sizeBytes: 48213 });
  });

  it('image-small.json and file-deleted.json', () => {
    expect(event(JSON.parse(fixture('image-small.json').toString())).detail).toMatchObject({ extension: 'png', sizeBytes: 2097152 });
    const deleted = event(JSON.parse(fixture('file-deleted.json').toString()));
    expect(deleted.detailType).toBe('file.deleted');
    expect(deleted.detail).toMatchObject({ extension: 'docx', fileName: 'Contract Draft v2.docx' });
  });

  it('publishes under source "fastio" with the detail as JSON', () => {
    const raw = fixture('image-small.json');
    const entry = toEntry(toEnvelope(raw));
    expect(entry.Source).toBe(FASTIO_SOURCE);
    expect(entry.DetailType).toBe('file.uploaded');
    expect(JSON.parse(entry.Detail)).toMatchObject({ eventType: 'file.uploaded', payload: JSON.parse(raw.toString()) });
  });
});

describe('field mapping', () => {
  it('derives a deterministic event id (sha256 of the raw body) when event_id is missing', () => {
    const raw = '{"event_type":"file.updated","resource":{"type":"file","name":"a.txt"}}';
    const first = toEnvelope(Buffer.from(raw));
    expect(first.detail.eventId).toBe(sha256(raw));
    expect(toEnvelope(Buffer.from(raw)).detail.eventId).toBe(first.detail.eventId);
  });

  it('accepts "type" and "id" as fallbacks for event_type and event_id; numeric ids become strings', () => {
    expect(event({ type: 'agent.task.completed', id: 'evt_9' }).detail).toMatchObject({ eventType: 'agent.task.completed', eventId: 'evt_9' });
    expect(event({ event_type: 'file.created', event_id: 12345 }).detail.eventId).toBe('12345');
  });

  it.each([
    [2048, 2048],
    ['2048', 2048],
    ['0', 0],
    ['007', 7],
    ['524288000', 524288000],
    ['-1', undefined],
    ['1.5', undefined],
    ['1e6', undefined],
    [' 12', undefined],
    ['12 ', undefined],
    ['', undefined],
    ['12abc', undefined],
    ['9007199254740993', undefined],
    [1.5, undefined],
    [-1, undefined],
    [null, undefined],
    [true, undefined],
  ] as const)('size %j → %j', (size, expected) => {
    expect(toSizeBytes(size)).toBe(expected);
    const { detail } = event({ event_type: 'file.uploaded', resource: { type: 'file', name: 'x.bin', size } });
    if (expected === undefined) expect(detail).not.toHaveProperty('sizeBytes');
    else expect(detail.sizeBytes).toBe(expected);
    if (expected === undefined) expect(detail).not.toHaveProperty('sizeMiB');
    else expect(detail.sizeMiB).toBe(Math.floor(expected / 1_048_576));
  });

  it.each([
    ['report.PDF', 'pdf'],
    ['archive.tar.gz', 'gz'],
    ['PHOTO.JPEG', 'jpeg'],
    ['folder.v2/notes.Md', 'md'],
    ['.env', undefined],
    ['README', undefined],
    ['trailing.', undefined],
    ['folder.v2/README', undefined],
    ['weird.ext with space', undefined],
    ['long.abcdefghijklmnopq', undefined],
    ['Übersicht.ÄBC', 'äbc'],
  ])('extension of %j → %j', (name, expected) => {
    expect(extensionOf(name)).toBe(expected);
  });

  it('leaves extension out when the name has none, and never emits undefined keys', () => {
    const { detail } = event({ event_type: 'file.created', resource: { type: 'file', name: 'Makefile' } });
    expect(detail.fileName).toBe('Makefile');
    expect(Object.keys(detail)).not.toContain('extension');
    expect(Object.values(detail)).not.toContain(undefined);
  });

  it('takes file fields from resource only when it is a file', () => {
    expect(event({ event_type: 'folder.created', resource: { type: 'folder', id: 'fld_1', name: 'reports.2024' } }).detail).not.toHaveProperty('fileName');
    expect(event({ event_type: 'file.created', resource: { id: 'f1', name: 'a.CSV' } }).detail).toMatchObject({ fileId: 'f1', extension: 'csv' });
    expect(event({ event_type: 'comment.added', resource: { id: 'c1', name: 'x.txt' } }).detail).not.toHaveProperty('fileName');
    expect(event({ event_type: 'comment.added', file: { id: 'f2', name: 'y.txt', size: 3 } }).detail).toMatchObject({ fileId: 'f2', extension: 'txt', sizeBytes: 3 });
  });

  it.each([
    ['top-level agent_id', { agent_id: 'agt_1' }, 'agt_1'],
    ['agent as a string', { agent: 'agt_2' }, 'agt_2'],
    ['agent { id }', { agent: { id: 'agt_3', name: 'Summarizer' } }, 'agt_3'],
    ['actor { type: agent }', { actor: { type: 'Agent', id: 'agt_4' } }, 'agt_4'],
    ['actor { type: user }', { actor: { type: 'user', id: 'usr_1' } }, undefined],
    ['user { type: agent }', { user: { id: 'agt_5', type: 'agent' } }, 'agt_5'],
    ['user { is_agent: true }', { user: { id: 'agt_6', is_agent: true } }, 'agt_6'],
    ['user { is_agent: "true" } (not a boolean)', { user: { id: 'usr_7', is_agent: 'true' } }, undefined],
    ['a person', { user: { id: 'usr_8', email: 'a@example.com' } }, undefined],
    ['metadata.agent_id', { metadata: { agent_id: 'agt_9' } }, 'agt_9'],
    ['empty agent_id', { agent_id: '  ', user: { id: 'usr_9' } }, undefined],
    ['agent: null', { agent: null }, undefined],
  ])('agent id from %s', (_name, fields, expected) => {
    const { detail } = event({ event_type: 'file.created', ...fields });
    if (expected === undefined) expect(detail).not.toHaveProperty('agentId');
    else expect(detail.agentId).toBe(expected);
  });

  it.each([
    ['2025-11-18T14:32:07Z', '2025-11-18T14:32:07.000Z'],
    ['2025-11-18T16:32:07.123+02:00', '2025-11-18T14:32:07.123Z'],
    ['2025-11-18T14:32:07', '2025-11-18T14:32:07.000Z'],
    ['2025-11-18 14:32:07.5Z', '2025-11-18T14:32:07.500Z'],
    ['2025-11-18', '2025-11-18T00:00:00.000Z'],
    [1763476327, '2025-11-18T14:32:07.000Z'],
    [1763476327123, '2025-11-18T14:32:07.123Z'],
    ['1763476327', '2025-11-18T14:32:07.000Z'],
    ['2025-13-45T99:99:99Z', undefined],
    ['yesterday', undefined],
    [-5, undefined],
    [1e20, undefined],
    [null, undefined],
  ] as const)('created_at %j → occurredAt %j', (createdAt, expected) => {
    expect(toIsoTime(createdAt)).toBe(expected);
  });
});

describe('quarantine', () => {
  it('not JSON', () => {
    const detail = quarantined('event_type=file.created&name=a.pdf');
    expect(detail).toEqual({ eventId: sha256('event_type=file.created&name=a.pdf'), reason: 'not-json', body: 'event_type=file.created&name=a.pdf', bodyEncoding: 'utf8' });
  });

  it('invalid UTF-8 is kept as base64', () => {
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    expect(quarantined(raw)).toEqual({ eventId: sha256(raw), reason: 'not-json', body: raw.toString('base64'), bodyEncoding: 'base64' });
  });

  it('empty body', () => {
    expect(quarantined('')).toMatchObject({ reason: 'not-json', body: '', eventId: sha256('') });
  });

  it.each(['[]', '[{"event_type":"file.created"}]', 'null', '42', '"file.created"', 'true'])('JSON %s is not an object', (raw) => {
    expect(quarantined(raw)).toMatchObject({ reason: 'not-an-object', body: raw, bodyEncoding: 'utf8' });
  });

  it.each([
    ['{}', 'no-event-type'],
    ['{"event_type":null}', 'no-event-type'],
    ['{"event_type":42}', 'no-event-type'],
    ['{"event_type":""}', 'bad-event-type'],
    ['{"event_type":" file.created"}', 'bad-event-type'],
    ['{"event_type":"file\\ncreated"}', 'bad-event-type'],
    [`{"event_type":"${'x'.repeat(129)}"}`, 'bad-event-type'],
    [`{"event_type":"${QUARANTINE_DETAIL_TYPE}"}`, 'bad-event-type'],
  ])('%s → %s', (raw, reason) => {
    expect(quarantined(raw).reason).toBe(reason);
  });

  it('accepts an event type of exactly 128 characters', () => {
    expect(event({ event_type: 'x'.repeat(128) }).detailType).toHaveLength(128);
  });

  it('deep nesting is quarantined without being parsed', () => {
    const deep = `{"event_type":"file.created","x":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
    expect(quarantined(deep).reason).toBe('too-deep');
    const absurd = '['.repeat(500_000);
    expect(quarantined(absurd).reason).toBe('too-deep');
    const fine = `{"event_type":"file.created","x":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(toEnvelope(Buffer.from(fine)).detailType).toBe('file.created');
    // brackets inside strings do not count
    expect(toEnvelope(Buffer.from(`{"event_type":"file.created","s":"${'['.repeat(200)}\\"${'{'.repeat(200)}"}`)).detailType).toBe('file.created');
  });

  it('a UTF-8 byte order mark is tolerated', () => {
    expect(toEnvelope(Buffer.from('\ufeff{"event_type":"file.created"}')).detailType).toBe('file.created');
  });
});

describe('prototype pollution', () => {
  it('__proto__ and constructor keys stay verbatim data and never reach normalized fields or prototypes', () => {
    const raw =
      '{"__proto__":{"polluted":"yes","event_type":"evil"},"constructor":{"prototype":{"polluted":"yes"}},' +
      '"event_type":"file.created","resource":{"__proto__":{"name":"evil.exe","type":"file"},"id":"f1"},' +
      '"user":{"__proto__":{"type":"agent"},"id":"usr_1"}}';
    const envelope = toEnvelope(Buffer.from(raw));
    expect(envelope.detailType).toBe('file.created');
    const detail = envelope.detail as FastioEventDetail;
    expect(detail).not.toHaveProperty('fileName');
    expect(detail).not.toHaveProperty('agentId');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.hasOwn(detail.payload ?? {}, '__proto__')).toBe(true);
    expect(JSON.parse(toEntry(envelope).Detail).payload).toEqual(JSON.parse(raw));
  });

  it('a payload that only has event_type through __proto__ is quarantined', () => {
    expect(quarantined('{"__proto__":{"event_type":"file.created"}}').reason).toBe('no-event-type');
  });
});

describe('entry size', () => {
  it('counts Source, DetailType, Detail, Resources in UTF-8 bytes and Time as 14', () => {
    const entry = { Source: 'fastio', DetailType: 'file.created', Detail: '{"n":"é"}' };
    expect(entrySizeBytes(entry)).toBe(6 + 12 + 10);
    expect(entrySizeBytes({ ...entry, Time: new Date(), Resources: ['arn:a', 'ü'] })).toBe(6 + 12 + 10 + 14 + 5 + 2);
  });
});

describe('properties', () => {
  it('never throws, and always yields JSON-serializable detail of a known shape', () => {
    const jsonish = fc.oneof(
      fc.json({ depthSize: 'medium' }),
      fc.record({ event_type: fc.string(), resource: fc.record({ name: fc.string(), size: fc.oneof(fc.string(), fc.double(), fc.integer()) }) }).map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(fc.oneof(jsonish.map((text) => Buffer.from(text)), fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes))), (raw) => {
        const envelope = toEnvelope(raw);
        const entry = toEntry(envelope);
        expect(typeof entry.DetailType).toBe('string');
        const detail = JSON.parse(entry.Detail) as Record<string, unknown>;
        expect(typeof detail.eventId).toBe('string');
        if (envelope.detailType === QUARANTINE_DETAIL_TYPE) {
          expect(detail).toHaveProperty('reason');
          expect(detail.eventId).toBe(sha256(raw));
        } else {
          expect(detail.payload).toEqual(JSON.parse(raw.toString()));
          if ('sizeBytes' in detail) expect(Number.isSafeInteger(detail.sizeBytes)).toBe(true);
          if ('extension' in detail) expect(detail.extension).toBe(String(detail.extension).toLowerCase());
        }
      }),
      { numRuns: 500 },
    );
  });
});
