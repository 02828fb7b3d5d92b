/**
 * The shared reader of claim-checked bodies: inline payloads pass through, referenced ones come from
 * S3 and are trusted only when their size and sha256 match the reference.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { bodyRefOf } from '../../lib/domain/fastio-envelope';
import { FastioBodyError, readBody, readPayload } from '../../lambdas/shared/fastio-body';
import { parseFastioEvent } from '../../lambdas/shared/fastio-event';

const s3 = mockClient(S3Client);
const BUCKET = 'dev-fastio-bodies-123456789012-us-east-1';
const RAW = Buffer.from(JSON.stringify({ event_id: 'evt-1', event_type: 'file.uploaded', resource: { name: 'a.pdf' }, pad: 'x'.repeat(300_000) }));

/** A GetObject answer holding `bytes`, with the one stream method the reader uses. */
const objectHolding = (bytes: Buffer) => ({ Body: { transformToByteArray: async () => new Uint8Array(bytes) } }) as never;

beforeEach(() => {
  s3.reset();
});

describe('readPayload', () => {
  it('returns an inline payload without calling S3', async () => {
    const payload = { event_id: 'evt-1' };
    await expect(readPayload({ payload })).resolves.toBe(payload);
    expect(s3.calls()).toHaveLength(0);
  });

  it('reads a claim-checked body from S3 and parses it as the ingest did', async () => {
    const ref = bodyRefOf(BUCKET, RAW);
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: ref.key }).resolves(objectHolding(RAW));
    await expect(readPayload({ bodyRef: ref }, new S3Client({ region: 'us-east-1' }))).resolves.toEqual(JSON.parse(RAW.toString()));
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('refuses a body whose sha256 does not match the reference, naming both', async () => {
    const ref = bodyRefOf(BUCKET, RAW);
    const tampered = Buffer.from(RAW);
    tampered[10] = 0x21;
    s3.on(GetObjectCommand).resolves(objectHolding(tampered));
    const actual = createHash('sha256').update(tampered).digest('hex');
    await expect(readPayload({ bodyRef: ref }, new S3Client({ region: 'us-east-1' }))).rejects.toThrow(
      new FastioBodyError(
        `claim-checked body s3://${BUCKET}/${ref.key} does not match its reference: expected ${RAW.length} bytes with sha256 ${ref.sha256}, got ${RAW.length} bytes with sha256 ${actual}`,
      ),
    );
  });

  it('refuses a truncated body', async () => {
    const ref = bodyRefOf(BUCKET, RAW);
    s3.on(GetObjectCommand).resolves(objectHolding(RAW.subarray(0, 1000)));
    await expect(readBody(ref, new S3Client({ region: 'us-east-1' }))).rejects.toThrow(/expected \d+ bytes .* got 1000 bytes/);
  });

  it('passes an S3 failure on, so the event is retried and then dead-lettered', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(readPayload({ bodyRef: bodyRefOf(BUCKET, RAW) }, new S3Client({ region: 'us-east-1' }))).rejects.toThrow('Access Denied');
  });
});

describe('parseFastioEvent with a body reference', () => {
  const event = (detail: Record<string, unknown>) => ({
    version: '0',
    id: 'eb-1',
    'detail-type': 'file.uploaded',
    source: 'fastio',
    time: '2025-11-18T12:00:00Z',
    detail: { eventId: 'evt-1', eventType: 'file.uploaded', ...detail },
  });

  it('accepts a reference in place of the payload', () => {
    const ref = bodyRefOf(BUCKET, RAW);
    expect(parseFastioEvent(event({ bodyRef: ref })).detail).toEqual({ eventId: 'evt-1', eventType: 'file.uploaded', bodyRef: ref });
  });

  it.each([
    [{ bodyRef: { ...bodyRefOf(BUCKET, RAW), sha256: 'abc' } }, 'Invalid Fast.io event: detail.bodyRef.sha256 must be 64 lower-case hex digits'],
    [{ bodyRef: { ...bodyRefOf(BUCKET, RAW), sizeBytes: -1 } }, 'Invalid Fast.io event: detail.bodyRef.sizeBytes must be a non-negative integer'],
    [{ bodyRef: { ...bodyRefOf(BUCKET, RAW), bucket: '' } }, 'Invalid Fast.io event: detail.bodyRef.bucket must be a non-empty string'],
    [{ bodyRef: bodyRefOf(BUCKET, RAW), payload: {} }, 'Invalid Fast.io event: detail.payload must be absent when detail.bodyRef is present'],
    [{}, 'Invalid Fast.io event: detail.payload is missing'],
  ])('rejects %j with one line naming the field', (detail, message) => {
    expect(() => parseFastioEvent(event(detail))).toThrow(message);
  });
});
