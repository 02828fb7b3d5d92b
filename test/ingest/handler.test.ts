import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import {
  MAX_FILE_NAME_CHARS,
  QUARANTINE_DETAIL_TYPE,
  SMALLEST_TARGET_INPUT_BYTES,
  entrySizeBytes,
  toEnvelope,
  type FastioEventDetail,
} from '../../lib/domain/fastio-envelope';
import { signWebhook } from '../../lib/domain/webhook-signature';
import { REJECTION_REASONS } from '../../lambdas/ingest/reasons';
import {
  BODY_BUCKET,
  BUS_NAME,
  CURRENT_SECRET,
  NOW,
  NOW_SECONDS,
  PREVIOUS_SECRET,
  SECRET_ARN,
  apiEvent,
  bodyOf,
  captureOutput,
  fixture,
  lambdaContext,
  loadHandler,
  setEnv,
  type CapturedOutput,
  type Handler,
} from './support';

const secretsManager = mockClient(SecretsManagerClient);
const eventBridge = mockClient(EventBridgeClient);
const s3 = mockClient(S3Client);
// Every delivery here is a first one: claims always succeed (the dedupe's own tests are in resend-dedupe.test.ts).
const dynamoDb = mockClient(DynamoDBClient);

const HOUR = 3_600_000;
let output: CapturedOutput;

function mockSecret(options: { current?: string; currentCreated?: Date; previous?: string | null } = {}): void {
  secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({
    ARN: SECRET_ARN,
    Name: 'fastio-webhook-secret',
    VersionId: 'v-current',
    SecretString: options.current ?? CURRENT_SECRET,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: options.currentCreated ?? new Date(NOW.getTime() - 30 * 24 * HOUR),
  });
  if (options.previous === null || options.previous === undefined) {
    secretsManager
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS", $metadata: {} }));
  } else {
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves({
      ARN: SECRET_ARN,
      VersionId: 'v-previous',
      SecretString: options.previous,
      VersionStages: ['AWSPREVIOUS'],
      CreatedDate: new Date(NOW.getTime() - 60 * 24 * HOUR),
    });
  }
}

function mockPublishOk(): void {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-0001' }] });
}

function secretReads(stage?: 'AWSCURRENT' | 'AWSPREVIOUS'): number {
  return secretsManager.commandCalls(GetSecretValueCommand, stage ? { VersionStage: stage } : {}).length;
}

function putCalls() {
  return eventBridge.commandCalls(PutEventsCommand);
}

function signed(body: Buffer | string, options: { secret?: string; scheme?: 'body-hmac' | 'timestamped'; timestamp?: number; encoding?: 'hex' | 'base64' } = {}) {
  const rawBody = Buffer.from(body);
  return signWebhook({
    rawBody,
    secret: options.secret ?? CURRENT_SECRET,
    scheme: options.scheme ?? 'body-hmac',
    timestamp: options.timestamp ?? NOW_SECONDS,
    encoding: options.encoding ?? 'hex',
  });
}

function rejectedReasons(): string[] {
  return output.metrics('WebhookRejected').map((record) => String(record.Reason));
}

const DOCUMENT = fixture('document-uploaded.json');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  secretsManager.reset();
  eventBridge.reset();
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  dynamoDb.reset();
  dynamoDb.on(PutItemCommand).resolves({});
  dynamoDb.on(UpdateItemCommand).resolves({});
  setEnv();
  output = captureOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('accepting a delivery', () => {
  let handler: Handler;
  beforeEach(async () => {
    mockSecret();
    mockPublishOk();
    handler = await loadHandler();
  });

  it('publishes the normalized envelope and answers 202 with the EventBridge event id', async () => {
    const response = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext);
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toEqual({ fastioEventId: 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A', eventBridgeEventId: 'eb-0001' });
    expect(response.headers?.['content-type']).toBe('application/json');
    const entries = putCalls()[0]?.args[0].input.Entries ?? [];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ EventBusName: BUS_NAME, Source: 'fastio', DetailType: 'file.uploaded' });
    expect(JSON.parse(entries[0]?.Detail ?? '{}')).toMatchObject({
      eventId: 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A',
      extension: 'pdf',
      sizeBytes: 2483017,
      payload: JSON.parse(DOCUMENT.toString()),
    });
    expect(entries[0]).not.toHaveProperty('Time');
  });

  it('accepts the timestamped scheme in hex and base64', async () => {
    for (const encoding of ['hex', 'base64'] as const) {
      const headers = signed(DOCUMENT, { scheme: 'timestamped', encoding, timestamp: NOW_SECONDS - 120 });
      expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers }), lambdaContext)).statusCode).toBe(202);
    }
  });

  it('verifies the decoded bytes of a base64-encoded body', async () => {
    const binary = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7b]);
    const response = await handler(apiEvent({ body: binary, base64: true, headers: signed(binary) }), lambdaContext);
    expect(response.statusCode).toBe(202);
    const entry = putCalls()[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe(QUARANTINE_DETAIL_TYPE);
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({ reason: 'not-json', bodyEncoding: 'base64', body: binary.toString('base64') });

    const json = fixture('image-small.json');
    const jsonResponse = await handler(apiEvent({ body: json, base64: true, headers: signed(json) }), lambdaContext);
    expect(jsonResponse.statusCode).toBe(202);
    expect(putCalls()[1]?.args[0].input.Entries?.[0]?.DetailType).toBe('file.uploaded');
  });

  it('emits WebhookAccepted without extra dimensions and logs the outcome', async () => {
    await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext);
    const [accepted] = output.metrics('WebhookAccepted');
    expect(accepted).toMatchObject({ service: 'fastio-ingest', WebhookAccepted: 1 });
    expect(accepted).not.toHaveProperty('Reason');
    const log = output.records().find((record) => record.message === 'webhook accepted');
    expect(log).toMatchObject({ outcome: 'accepted', eventId: 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A', eventBridgeEventId: 'eb-0001', secretStage: 'AWSCURRENT' });
    expect(String(log?.deliveryId)).toMatch(/^req-/);
  });
});

describe('status corpus', () => {
  let handler: Handler;
  beforeEach(async () => {
    mockSecret();
    mockPublishOk();
    handler = await loadHandler();
  });

  const body = DOCUMENT.toString();
  const goodHex = signed(DOCUMENT)['X-Fastio-Signature'] ?? '';
  const stamped = (t: number) => signed(DOCUMENT, { scheme: 'timestamped', timestamp: t })['Fastio-Signature'] ?? '';
  const oneMbPlusOne = Buffer.alloc(1024 * 1024 + 1, 0x20);
  const overLambdaLimit = Buffer.alloc(6 * 1024 * 1024 + 1, 0x20);

  const cases: { name: string; event: () => ReturnType<typeof apiEvent>; status: number; reason?: string; quarantine?: string }[] = [
    { name: 'no signature header', event: () => apiEvent({ body }), status: 401, reason: 'missing-signature' },
    { name: 'empty X-Fastio-Signature', event: () => apiEvent({ body, headers: { 'X-Fastio-Signature': '' } }), status: 401, reason: 'malformed-signature' },
    { name: 'empty Fastio-Signature', event: () => apiEvent({ body, headers: { 'Fastio-Signature': '' } }), status: 401, reason: 'malformed-signature' },
    { name: 'non-hex', event: () => apiEvent({ body, headers: { 'X-Fastio-Signature': 'z'.repeat(64) } }), status: 401, reason: 'malformed-signature' },
    { name: 'wrong length', event: () => apiEvent({ body, headers: { 'X-Fastio-Signature': goodHex.slice(0, 62) } }), status: 401, reason: 'malformed-signature' },
    { name: 'wrong signature', event: () => apiEvent({ body, headers: { 'X-Fastio-Signature': 'ab'.repeat(32) } }), status: 401, reason: 'bad-signature' },
    { name: 'signature of another body', event: () => apiEvent({ body: `${body} `, headers: { 'X-Fastio-Signature': goodHex } }), status: 401, reason: 'bad-signature' },
    { name: 'duplicated header (joined)', event: () => apiEvent({ body, headers: { 'X-Fastio-Signature': `${'ab'.repeat(32)},${goodHex}` } }), status: 202 },
    { name: 'stale timestamp', event: () => apiEvent({ body, headers: { 'Fastio-Signature': stamped(NOW_SECONDS - 301) } }), status: 401, reason: 'stale-timestamp' },
    { name: 'future timestamp', event: () => apiEvent({ body, headers: { 'Fastio-Signature': stamped(NOW_SECONDS + 301) } }), status: 401, reason: 'stale-timestamp' },
    {
      name: 'timestamped MAC replayed as body-hmac over "<t>.<body>"',
      event: () => {
        const t = NOW_SECONDS - 3600;
        const mac = (stamped(t).split('v1=')[1] ?? '');
        return apiEvent({ body: `${t}.${body}`, headers: { 'X-Fastio-Signature': mac } });
      },
      status: 401,
      reason: 'bad-signature',
    },
    { name: 'timestamp at the edge', event: () => apiEvent({ body, headers: { 'Fastio-Signature': stamped(NOW_SECONDS - 300) } }), status: 202 },
    { name: 'non-JSON body', event: () => apiEvent({ body: 'hello', headers: signed('hello') }), status: 202, quarantine: 'not-json' },
    { name: 'JSON array', event: () => apiEvent({ body: '[1,2]', headers: signed('[1,2]') }), status: 202, quarantine: 'not-an-object' },
    { name: 'JSON null', event: () => apiEvent({ body: 'null', headers: signed('null') }), status: 202, quarantine: 'not-an-object' },
    { name: 'JSON number', event: () => apiEvent({ body: '42', headers: signed('42') }), status: 202, quarantine: 'not-an-object' },
    { name: 'no event type', event: () => apiEvent({ body: '{"a":1}', headers: signed('{"a":1}') }), status: 202, quarantine: 'no-event-type' },
    { name: 'no body at all', event: () => apiEvent({ headers: signed('') }), status: 202, quarantine: 'not-json' },
    {
      name: 'deep nesting',
      event: () => {
        const deep = `{"event_type":"file.created","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
        return apiEvent({ body: deep, headers: signed(deep) });
      },
      status: 202,
      quarantine: 'too-deep',
    },
    {
      name: '__proto__ keys',
      event: () => {
        const raw = '{"event_type":"file.created","__proto__":{"polluted":true},"resource":{"type":"file","name":"a.TXT"}}';
        return apiEvent({ body: raw, headers: signed(raw) });
      },
      status: 202,
    },
    // Claim-checked (body in S3, a reference on the bus) instead of 413: Fast.io does not retry a 4xx.
    { name: '1 MB + 1 byte, correctly signed', event: () => apiEvent({ body: oneMbPlusOne.toString(), headers: signed(oneMbPlusOne) }), status: 202, quarantine: 'not-json' },
    { name: '1 MB + 1 byte, unsigned', event: () => apiEvent({ body: oneMbPlusOne.toString() }), status: 401, reason: 'missing-signature' },
    {
      name: 'body under 1 MB whose entry is over it',
      event: () => {
        const raw = `{"event_type":"file.created","pad":"${'x'.repeat(1024 * 1024 - 60)}"}`;
        return apiEvent({ body: raw, headers: signed(raw) });
      },
      status: 202,
    },
    // Only a direct invocation can carry more than Lambda's 6 MB request limit.
    { name: '6 MiB + 1 byte, correctly signed', event: () => apiEvent({ body: overLambdaLimit.toString(), headers: signed(overLambdaLimit) }), status: 413, reason: 'body-too-large' },
    { name: 'GET', event: () => apiEvent({ method: 'GET' }), status: 405, reason: 'method-not-allowed' },
  ];

  it.each(cases)('$name → $status', async ({ event, status, reason, quarantine }) => {
    const response = await handler(event(), lambdaContext);
    expect(response.statusCode).toBe(status);
    expect(response.body ?? '').not.toMatch(/stack|Error|at /);
    if (reason) expect(rejectedReasons()).toEqual([reason]);
    if (status === 202) {
      expect(putCalls()).toHaveLength(1);
      const entry = putCalls()[0]?.args[0].input.Entries?.[0];
      if (quarantine) {
        expect(entry?.DetailType).toBe(QUARANTINE_DETAIL_TYPE);
        expect(JSON.parse(entry?.Detail ?? '{}').reason).toBe(quarantine);
        expect(output.metrics('WebhookQuarantined')).toHaveLength(1);
      }
    } else {
      expect(putCalls()).toHaveLength(0);
      expect(output.metrics('WebhookAccepted')).toHaveLength(0);
    }
  });

  it('answers one identical 401 for missing, malformed, wrong and stale signatures', async () => {
    const bodies = new Set<string>();
    const attempts: Record<string, string>[] = [{}, { 'X-Fastio-Signature': 'nope' }, { 'X-Fastio-Signature': 'ab'.repeat(32) }, { 'Fastio-Signature': stamped(NOW_SECONDS - 999) }];
    for (const headers of attempts) {
      const response = await handler(apiEvent({ body, headers }), lambdaContext);
      expect(response.statusCode).toBe(401);
      bodies.add(JSON.stringify([response.body, response.headers]));
    }
    expect(bodies.size).toBe(1);
  });

  it('lists every reason it emits in REJECTION_REASONS', () => {
    const known: string[] = Object.values(REJECTION_REASONS);
    for (const { reason } of cases) if (reason) expect(known).toContain(reason);
  });

  it('did not pollute Object.prototype', () => {
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('arbitrary headers and bodies never throw and never publish', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('x-fastio-signature', 'fastio-signature', 'X-FASTIO-SIGNATURE', 'content-type'), fc.string({ maxLength: 120 })),
        fc.oneof(fc.string({ maxLength: 300 }), fc.json()),
        fc.boolean(),
        async (headers, text, base64) => {
          const response = await handler(apiEvent({ body: text, headers, base64 }), lambdaContext);
          expect([401, 413]).toContain(response.statusCode);
        },
      ),
      { numRuns: 200 },
    );
    expect(putCalls()).toHaveLength(0);
  });
});

describe('claim-check: bodies too large for every target travel by reference', () => {
  let handler: Handler;
  beforeEach(async () => {
    mockSecret();
    mockPublishOk();
    handler = await loadHandler();
  });

  const KiB = 1024;
  const MiB = 1024 * KiB;

  /** A Fast.io-shaped upload whose raw body is exactly `bytes` long. */
  function uploadOf(bytes: number): Buffer {
    const payload = {
      event_id: `evt_big_${bytes}`,
      event_type: 'file.uploaded',
      created_at: '2025-11-18T11:59:30Z',
      workspace_id: 'ws_7f3a',
      resource: { id: `file_${bytes}`, type: 'file', name: 'Board Pack.MP4', size: 734003200 },
      agent_id: 'agt_ingest',
      metadata: { pad: '' },
    };
    const base = Buffer.byteLength(JSON.stringify(payload));
    payload.metadata.pad = 'x'.repeat(bytes - base);
    const raw = Buffer.from(JSON.stringify(payload));
    expect(raw.length).toBe(bytes);
    return raw;
  }

  /** The event a target receives for an entry (what EventBridge adds around the detail), as JSON bytes. */
  function targetInputBytes(entry: { Source?: string; DetailType?: string; Detail?: string }): number {
    const event = {
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: '123456789012',
      time: '2025-11-18T12:00:00Z',
      region: 'ap-southeast-3',
      resources: [],
      detail: JSON.parse(entry.Detail ?? '{}'),
      'replay-name': 'r'.repeat(64),
    };
    return Buffer.byteLength(JSON.stringify(event));
  }

  function publishedEntry() {
    const entry = putCalls()[0]?.args[0].input.Entries?.[0];
    if (entry === undefined) throw new Error('nothing was published');
    return entry;
  }

  function storedObjects() {
    return s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
  }

  it('keeps a 150 KiB body inline and stores nothing', async () => {
    const raw = uploadOf(150 * KiB);
    const response = await handler(apiEvent({ body: raw.toString(), headers: signed(raw) }), lambdaContext);
    expect(response.statusCode).toBe(202);
    expect(storedObjects()).toHaveLength(0);
    const detail = JSON.parse(publishedEntry().Detail ?? '{}');
    expect(detail.payload).toEqual(JSON.parse(raw.toString()));
    expect(detail).not.toHaveProperty('bodyRef');
    expect(targetInputBytes(publishedEntry())).toBeLessThanOrEqual(SMALLEST_TARGET_INPUT_BYTES);
  });

  it.each([
    { size: 900 * KiB, base64: false },
    { size: 900 * KiB, base64: true },
    { size: 1.5 * MiB, base64: false },
    { size: 1.5 * MiB, base64: true },
    { size: 5.5 * MiB, base64: false },
  ])('stores a $size-byte body (base64 transport: $base64) in S3 and publishes a reference, 202', async ({ size, base64 }) => {
    // GIVEN an authentic delivery far over the Step Functions input limit
    const raw = uploadOf(size);
    const sha256 = createHash('sha256').update(raw).digest('hex');
    // WHEN it arrives
    const response = await handler(apiEvent({ body: base64 ? raw : raw.toString(), base64, headers: signed(raw) }), lambdaContext);
    // THEN the exact raw bytes are stored under their sha256, with S3 checking that checksum
    expect(response.statusCode).toBe(202);
    const objects = storedObjects();
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ Bucket: BODY_BUCKET, Key: `bodies/sha256/${sha256}`, ChecksumSHA256: createHash('sha256').update(raw).digest('base64') });
    expect(Buffer.from(objects[0]?.Body as Uint8Array).equals(raw)).toBe(true);
    // AND the event keeps every normalized field, with the reference instead of the payload
    const entry = publishedEntry();
    const detail = JSON.parse(entry.Detail ?? '{}');
    const { payload: _payload, ...normalized } = toEnvelope(raw).detail as FastioEventDetail;
    expect(detail).toEqual({ ...normalized, bodyRef: { bucket: BODY_BUCKET, key: `bodies/sha256/${sha256}`, sizeBytes: size, sha256 } });
    expect(detail).toMatchObject({ eventId: `evt_big_${size}`, workspaceId: 'ws_7f3a', fileId: `file_${size}`, fileName: 'Board Pack.MP4', extension: 'mp4', sizeBytes: 734003200, sizeMiB: 700, agentId: 'agt_ingest', occurredAt: '2025-11-18T11:59:30.000Z' });
    // AND the entry fits the smallest target input (Step Functions, 256 KiB) with room to spare
    expect(entrySizeBytes(entry as Parameters<typeof entrySizeBytes>[0])).toBeLessThanOrEqual(4 * KiB);
    expect(targetInputBytes(entry)).toBeLessThanOrEqual(SMALLEST_TARGET_INPUT_BYTES);
    expect(output.metrics('WebhookClaimChecked')).toHaveLength(1);
    expect(output.records().find((record) => record.message === 'webhook accepted')).toMatchObject({ bodyKey: `bodies/sha256/${sha256}`, bodyBytes: size });
  });

  it('writes a resend of the same delivery to the same object', async () => {
    const raw = uploadOf(900 * KiB);
    await handler(apiEvent({ body: raw.toString(), headers: signed(raw) }), lambdaContext);
    await handler(apiEvent({ body: raw.toString(), headers: signed(raw, { scheme: 'timestamped' }) }), lambdaContext);
    const keys = storedObjects().map((object) => object.Key);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(1);
  });

  it('stays within the target limit for pathological payloads: every normalized field is bounded', async () => {
    // GIVEN a delivery whose file name alone is 3 MiB and whose ids are far too long to be ids
    const name = `${'é'.repeat(3 * MiB / 2)}.pdf`;
    const payload = {
      event_id: 'e'.repeat(10_000),
      event_type: 't'.repeat(128),
      workspace_id: 'w'.repeat(100_000),
      resource: { id: 'f'.repeat(100_000), type: 'file', name, size: '12' },
      agent: { id: 'a'.repeat(100_000) },
      metadata: { agent_id: '\u0001'.repeat(50_000) },
    };
    const raw = Buffer.from(JSON.stringify(payload));
    const response = await handler(apiEvent({ body: raw.toString(), headers: signed(raw) }), lambdaContext);
    expect(response.statusCode).toBe(202);
    const entry = publishedEntry();
    const detail = JSON.parse(entry.Detail ?? '{}');
    // THEN the name is cut (its extension still read from the whole name) and overlong ids are dropped
    expect(detail).toMatchObject({ fileName: 'é'.repeat(MAX_FILE_NAME_CHARS), fileNameTruncated: true, extension: 'pdf', sizeBytes: 12 });
    expect(detail).not.toHaveProperty('workspaceId');
    expect(detail).not.toHaveProperty('agentId');
    expect(detail.eventId).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(entrySizeBytes(entry as Parameters<typeof entrySizeBytes>[0])).toBeLessThanOrEqual(8 * KiB);
    expect(targetInputBytes(entry)).toBeLessThanOrEqual(SMALLEST_TARGET_INPUT_BYTES);
  });

  it('claim-checks a large quarantined body too, keeping its reason and encoding', async () => {
    const raw = Buffer.alloc(2 * MiB, 0xff); // not UTF-8: quarantined as base64, 2.7 MiB once encoded
    const response = await handler(apiEvent({ body: raw, base64: true, headers: signed(raw) }), lambdaContext);
    expect(response.statusCode).toBe(202);
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const entry = publishedEntry();
    expect(entry.DetailType).toBe(QUARANTINE_DETAIL_TYPE);
    expect(JSON.parse(entry.Detail ?? '{}')).toEqual({
      eventId: sha256,
      reason: 'not-json',
      bodyEncoding: 'base64',
      bodyRef: { bucket: BODY_BUCKET, key: `bodies/sha256/${sha256}`, sizeBytes: raw.length, sha256 },
    });
    expect(Buffer.from(storedObjects()[0]?.Body as Uint8Array).equals(raw)).toBe(true);
    expect(output.metrics('WebhookQuarantined')).toHaveLength(1);
  });

  it('answers 503 with retry-after, a log line and a metric when S3 fails, and publishes nothing', async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError' }));
    const raw = uploadOf(900 * KiB);
    const response = await handler(apiEvent({ body: raw.toString(), headers: signed(raw) }), lambdaContext);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('30');
    expect(putCalls()).toHaveLength(0);
    expect(output.metrics('BodyStoreFailed')).toHaveLength(1);
    expect(output.metrics('WebhookAccepted')).toHaveLength(0);
    expect(output.records().find((record) => record.outcome === 'body-store-failed')).toMatchObject({
      eventId: 'evt_big_921600',
      errorCode: 'InternalError',
      bodyBytes: 900 * KiB,
    });
  });

  it('answers 503 when PutEvents fails after the body was stored', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'denied' }] });
    const raw = uploadOf(900 * KiB);
    const response = await handler(apiEvent({ body: raw.toString(), headers: signed(raw) }), lambdaContext);
    expect(response.statusCode).toBe(503);
    expect(storedObjects()).toHaveLength(1);
    expect(output.metrics('PublishFailed')).toHaveLength(1);
  });
});

describe('pinned scheme', () => {
  it('SIGNATURE_SCHEME=timestamped rejects body-hmac deliveries', async () => {
    setEnv({ SIGNATURE_SCHEME: 'timestamped' });
    mockSecret();
    mockPublishOk();
    const handler = await loadHandler();
    expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext)).statusCode).toBe(401);
    const headers = signed(DOCUMENT, { scheme: 'timestamped' });
    expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers }), lambdaContext)).statusCode).toBe(202);
  });

  it('SIGNATURE_SCHEME=body-hmac rejects timestamped deliveries', async () => {
    setEnv({ SIGNATURE_SCHEME: 'body-hmac', SIGNATURE_TOLERANCE_SECONDS: '60' });
    mockSecret();
    mockPublishOk();
    const handler = await loadHandler();
    const headers = signed(DOCUMENT, { scheme: 'timestamped' });
    expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers }), lambdaContext)).statusCode).toBe(401);
    expect(rejectedReasons()).toEqual(['malformed-signature']);
  });
});

describe('configuration fails fast at cold start', () => {
  it.each([
    [{ EVENT_BUS_NAME: undefined }, /EVENT_BUS_NAME/],
    [{ SIGNING_SECRET_ARN: undefined }, /SIGNING_SECRET_ARN/],
    [{ SIGNATURE_SCHEME: 'hmac' }, /SIGNATURE_SCHEME/],
    [{ SIGNATURE_TOLERANCE_SECONDS: 'five' }, /SIGNATURE_TOLERANCE_SECONDS/],
    [{ SIGNATURE_TOLERANCE_SECONDS: '0' }, /SIGNATURE_TOLERANCE_SECONDS/],
    [{ ROTATION_GRACE_HOURS: '-1' }, /ROTATION_GRACE_HOURS/],
    [{ SECRET_REFRESH_INTERVAL_SECONDS: '0' }, /SECRET_REFRESH_INTERVAL_SECONDS/],
  ])('%j', async (overrides, message) => {
    setEnv(overrides);
    await expect(loadHandler()).rejects.toThrow(message);
  });

  it('defaults scheme, tolerance and grace', async () => {
    setEnv({ SIGNATURE_SCHEME: undefined, SIGNATURE_TOLERANCE_SECONDS: undefined, ROTATION_GRACE_HOURS: undefined });
    mockSecret();
    mockPublishOk();
    const handler = await loadHandler();
    const headers = signed(DOCUMENT, { scheme: 'timestamped', timestamp: NOW_SECONDS - 299 });
    expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers }), lambdaContext)).statusCode).toBe(202);
  });
});

describe('faults answer 503 and report nothing accepted', () => {
  async function deliver(handler: Handler) {
    return handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext);
  }

  it('Secrets Manager down', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    mockPublishOk();
    const handler = await loadHandler();
    const response = await deliver(handler);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('30');
    expect(putCalls()).toHaveLength(0);
    expect(output.metrics('WebhookAccepted')).toHaveLength(0);
    expect(output.records().find((record) => record.message === 'cannot read the signing secret')).toMatchObject({ outcome: 'secret-unavailable' });
  });

  it('Secrets Manager down: a burst costs one call, then retries after the backoff', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new Error('service unavailable'));
    const handler = await loadHandler();
    for (let i = 0; i < 50; i += 1) expect((await deliver(handler)).statusCode).toBe(503);
    expect(secretReads()).toBe(1);
    vi.setSystemTime(NOW.getTime() + 5_000);
    await deliver(handler);
    expect(secretReads()).toBe(2);
  });

  it('an empty secret fails closed with an error log', async () => {
    mockSecret({ current: '   ' });
    mockPublishOk();
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(503);
    expect(putCalls()).toHaveLength(0);
    expect(output.records().some((record) => record.level === 'ERROR' && String(record.message).includes('empty'))).toBe(true);
  });

  it('PutEvents throttled (the call throws)', async () => {
    mockSecret();
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const handler = await loadHandler();
    const response = await deliver(handler);
    expect(response.statusCode).toBe(503);
    expect(output.metrics('WebhookAccepted')).toHaveLength(0);
    expect(output.metrics('PublishFailed')).toHaveLength(1);
  });

  it('partial failure FailedEntryCount: 1 with a retryable code is retried once, then 503', async () => {
    mockSecret();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] });
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(503);
    expect(putCalls()).toHaveLength(2);
    expect(output.metrics('WebhookAccepted')).toHaveLength(0);
    expect(output.records().find((record) => record.message === 'publishing to EventBridge failed')).toMatchObject({
      outcome: 'publish-failed',
      errorCode: 'ThrottlingException',
      attempts: 2,
    });
  });

  it('a retryable entry failure that succeeds on the retry answers 202', async () => {
    mockSecret();
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'internal' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-retry' }] });
    const handler = await loadHandler();
    const response = await deliver(handler);
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toMatchObject({ eventBridgeEventId: 'eb-retry' });
    expect(putCalls()).toHaveLength(2);
  });

  it('a non-retryable entry failure is not retried', async () => {
    mockSecret();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'denied' }] });
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(503);
    expect(putCalls()).toHaveLength(1);
  });

  it('a response without an event id is not a success', async () => {
    mockSecret();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}] });
    const handler = await loadHandler();
    expect((await deliver(handler)).statusCode).toBe(503);
  });
});

describe('Secrets Manager calls', () => {
  it('one read serves many warm requests, and the cache expires after 5 minutes', async () => {
    mockSecret();
    mockPublishOk();
    const handler = await loadHandler();
    for (let i = 0; i < 100; i += 1) {
      vi.setSystemTime(NOW.getTime() + i * 1000);
      const headers = signed(DOCUMENT, { scheme: i % 2 === 0 ? 'body-hmac' : 'timestamped', timestamp: NOW_SECONDS + i });
      expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers }), lambdaContext)).statusCode).toBe(202);
    }
    expect(secretReads()).toBe(1);
    expect(secretReads('AWSPREVIOUS')).toBe(0); // current is 30 days old: outside the grace period
    vi.setSystemTime(NOW.getTime() + 301_000);
    await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext);
    expect(secretReads()).toBe(2);
  });

  it('malformed and stale deliveries never read the secret', async () => {
    mockSecret();
    const handler = await loadHandler();
    for (let i = 0; i < 100; i += 1) {
      await handler(apiEvent({ body: 'x', headers: { 'X-Fastio-Signature': `forged-${i}` } }), lambdaContext);
      await handler(apiEvent({ body: 'x', headers: { 'Fastio-Signature': `t=1,v1=${'ab'.repeat(32)}` } }), lambdaContext);
    }
    expect(secretReads()).toBe(0);
  });

  it('a flood of well-formed forgeries over 3 minutes costs at most one read of each version a minute', async () => {
    mockSecret({ currentCreated: new Date(NOW.getTime() - HOUR), previous: PREVIOUS_SECRET });
    const handler = await loadHandler();
    const statuses: number[] = [];
    // 3000 forgeries over 3 minutes, 16 per second.
    for (let i = 0; i < 3000; i += 1) {
      vi.setSystemTime(NOW.getTime() + i * 60);
      const forged = { 'X-Fastio-Signature': (i.toString(16).padStart(4, '0') + 'ab'.repeat(30)).slice(0, 64) };
      statuses.push((await handler(apiEvent({ body: DOCUMENT.toString(), headers: forged }), lambdaContext)).statusCode ?? 0);
    }
    // Cold read + one refresh per elapsed minute, each reading current and (inside the grace period) previous.
    expect(secretReads('AWSCURRENT')).toBeLessThanOrEqual(4);
    expect(secretReads('AWSPREVIOUS')).toBeLessThanOrEqual(4);
    // Final 401 only for a forgery checked against a read made for it; the rest may be retried.
    expect(statuses.filter((status) => status === 401)).toHaveLength(secretReads('AWSCURRENT'));
    expect(statuses.filter((status) => status !== 401 && status !== 503)).toEqual([]);
    expect(putCalls()).toHaveLength(0);
    expect(new Set(rejectedReasons())).toEqual(new Set(['bad-signature', 'awaiting-secret-refresh']));
  });
});

describe('rotation', () => {
  it('inside the grace period both the current and the previous secret verify', async () => {
    mockSecret({ currentCreated: new Date(NOW.getTime() - 2 * HOUR), previous: PREVIOUS_SECRET });
    mockPublishOk();
    const handler = await loadHandler();
    const withPrevious = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: PREVIOUS_SECRET }) }), lambdaContext);
    expect(withPrevious.statusCode).toBe(202);
    const withCurrent = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext);
    expect(withCurrent.statusCode).toBe(202);
    expect(output.records().filter((record) => record.message === 'webhook accepted').map((record) => record.secretStage)).toEqual(['AWSPREVIOUS', 'AWSCURRENT']);
    expect(secretReads('AWSCURRENT')).toBe(1);
    expect(secretReads('AWSPREVIOUS')).toBe(1);
  });

  it('outside the grace period the previous secret is rejected and not even read', async () => {
    mockSecret({ currentCreated: new Date(NOW.getTime() - 25 * HOUR), previous: PREVIOUS_SECRET });
    mockPublishOk();
    const handler = await loadHandler();
    const response = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: PREVIOUS_SECRET }) }), lambdaContext);
    expect(response.statusCode).toBe(401);
    expect(secretReads('AWSPREVIOUS')).toBe(0);
  });

  it('the grace period ends while the value is cached', async () => {
    mockSecret({ currentCreated: new Date(NOW.getTime() - 24 * HOUR + 30_000), previous: PREVIOUS_SECRET });
    mockPublishOk();
    const handler = await loadHandler();
    const deliverOld = () => handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: PREVIOUS_SECRET }) }), lambdaContext);
    expect((await deliverOld()).statusCode).toBe(202);
    vi.setSystemTime(NOW.getTime() + 31_000);
    expect((await deliverOld()).statusCode).toBe(401);
  });

  it('ROTATION_GRACE_HOURS=0 never accepts the previous secret', async () => {
    setEnv({ ROTATION_GRACE_HOURS: '0' });
    mockSecret({ currentCreated: new Date(NOW.getTime() - 1000), previous: PREVIOUS_SECRET });
    const handler = await loadHandler();
    const response = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: PREVIOUS_SECRET }) }), lambdaContext);
    expect(response.statusCode).toBe(401);
    expect(secretReads('AWSPREVIOUS')).toBe(0);
  });

  describe('put-secret-value while the ingest is warm', () => {
    let handler: Handler;
    const deliverNew = () => handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: CURRENT_SECRET }) }), lambdaContext);
    const deliverForgery = () => handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: 'attacker-guess' }) }), lambdaContext);

    beforeEach(async () => {
      // GIVEN a warm container that read the secret (then PREVIOUS_SECRET) at NOW
      mockSecret({ current: PREVIOUS_SECRET });
      mockPublishOk();
      handler = await loadHandler();
      expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: PREVIOUS_SECRET }) }), lambdaContext)).statusCode).toBe(202);
      // WHEN the new value becomes AWSCURRENT 10 s later
      secretsManager.reset();
      mockSecret({ current: CURRENT_SECRET, currentCreated: new Date(NOW.getTime() + 10_000), previous: PREVIOUS_SECRET });
      output.clear();
    });

    it('a delivery signed with the new secret inside the refresh window gets 503 with retry-after, not 401', async () => {
      vi.setSystemTime(NOW.getTime() + 30_000);
      const response = await deliverNew();
      expect(response.statusCode).toBe(503);
      expect(response.headers?.['retry-after']).toBe('30');
      expect(secretReads()).toBe(0);
      expect(rejectedReasons()).toEqual(['awaiting-secret-refresh']);
      const log = output.records().find((record) => record.outcome === 'awaiting-secret-refresh');
      expect(log).toMatchObject({ level: 'WARN', retryAfterSeconds: 30 });
      expect(output.records().some((record) => record.outcome === 'secret-unavailable')).toBe(false);
    });

    it('the same delivery, resent after the refresh window, gets 202 with one read of each version', async () => {
      vi.setSystemTime(NOW.getTime() + 30_000);
      expect((await deliverNew()).statusCode).toBe(503);
      vi.setSystemTime(NOW.getTime() + 60_000);
      expect((await deliverNew()).statusCode).toBe(202);
      expect(secretReads('AWSCURRENT')).toBe(1);
      expect(secretReads('AWSPREVIOUS')).toBe(1);
      // and the old secret keeps working (AWSPREVIOUS, inside the grace period) without another read
      expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: PREVIOUS_SECRET }) }), lambdaContext)).statusCode).toBe(202);
      expect(secretReads()).toBe(2);
    });

    it('a forgery right after a fresh read gets 401 and costs no second read', async () => {
      vi.setSystemTime(NOW.getTime() + 61_000);
      expect((await deliverForgery()).statusCode).toBe(401);
      expect(secretReads('AWSCURRENT')).toBe(1);
      expect(rejectedReasons()).toEqual(['bad-signature']);
      // the next forgery inside the window is only deferred, without a read
      vi.setSystemTime(NOW.getTime() + 62_000);
      const deferred = await deliverForgery();
      expect(deferred.statusCode).toBe(503);
      expect(deferred.headers?.['retry-after']).toBe('59');
      expect(secretReads('AWSCURRENT')).toBe(1);
    });
  });

  it('a delivery checked against the read made for it is final: 401 on a cold start', async () => {
    mockSecret({ current: PREVIOUS_SECRET });
    const handler = await loadHandler();
    const response = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT, { secret: CURRENT_SECRET }) }), lambdaContext);
    expect(response.statusCode).toBe(401);
    expect(secretReads('AWSCURRENT')).toBe(1);
  });

  it('no AWSPREVIOUS version (first secret, fresh) is fine', async () => {
    mockSecret({ currentCreated: new Date(NOW.getTime() - HOUR), previous: null });
    mockPublishOk();
    const handler = await loadHandler();
    expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext)).statusCode).toBe(202);
  });

  it('a failing AWSPREVIOUS read does not stop the current secret', async () => {
    mockSecret({ currentCreated: new Date(NOW.getTime() - HOUR) });
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(new Error('throttled'));
    mockPublishOk();
    const handler = await loadHandler();
    expect((await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext)).statusCode).toBe(202);
  });
});

describe('logs never contain the secret, the signature or the body', () => {
  it('across accepted, rejected, quarantined and failed deliveries', async () => {
    setEnv({ POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    mockSecret({ currentCreated: new Date(NOW.getTime() - HOUR), previous: PREVIOUS_SECRET });
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-2' }] })
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'internal' }] });
    const handler = await loadHandler();
    const marker = 'BODY-MARKER-7f3a9c';
    const raw = `{"event_type":"file.created","resource":{"type":"file","name":"${marker}.pdf"}}`;
    const notJson = `${marker} not json`;
    const signatures = [
      signed(raw),
      signed(notJson, { scheme: 'timestamped', encoding: 'base64' }),
      signed(raw, { secret: PREVIOUS_SECRET }),
      signed(raw, { secret: 'attacker-guess' }),
    ];
    await handler(apiEvent({ body: raw, headers: signatures[0] }), lambdaContext);
    await handler(apiEvent({ body: notJson, headers: signatures[1] }), lambdaContext);
    await handler(apiEvent({ body: raw, headers: signatures[2] }), lambdaContext);
    await handler(apiEvent({ body: raw, headers: signatures[3] }), lambdaContext);
    await handler(apiEvent({ body: raw, headers: { 'X-Fastio-Signature': 'short' } }), lambdaContext);

    const text = output.text();
    expect(text).toContain('webhook accepted');
    expect(text).toContain('webhook quarantined');
    expect(text).toContain('webhook rejected');
    expect(text).toContain('publishing to EventBridge failed');
    for (const secret of [CURRENT_SECRET, PREVIOUS_SECRET]) expect(text).not.toContain(secret);
    for (const headers of signatures) {
      for (const value of Object.values(headers)) {
        const mac = value.replace(/^t=\d+,v1=/, '');
        expect(text).not.toContain(mac);
      }
    }
    expect(text).not.toContain(marker);
  });
});

describe('unexpected errors', () => {
  it('answer 503 without a stack trace', async () => {
    mockSecret();
    eventBridge.on(PutEventsCommand).callsFake(() => {
      throw new TypeError('boom');
    });
    const handler = await loadHandler();
    const response = await handler(apiEvent({ body: DOCUMENT.toString(), headers: signed(DOCUMENT) }), lambdaContext);
    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('{"message":"Service Unavailable"}');
  });
});
