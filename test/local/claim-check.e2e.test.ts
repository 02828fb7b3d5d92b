/**
 * Claim-check end to end on the local pipeline: bodies too large for a target's input travel as a
 * reference to the S3 stand-in, every matching target still processes the event, and the audit
 * reads the body back through the shared helper. The review workflow's StartExecution refuses input
 * over 256 KiB locally as it does on AWS, so a large event reaching it proves the reference worked.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EXECUTION_INPUT_BYTES } from '../../lib/local/step-functions';
import { catalogItem, dlqDepth, fixturePayload, items, send, startTestPipeline, waitFor, type Payload, type TestPipeline } from './support';

let test: TestPipeline;
beforeAll(async () => {
  test = await startTestPipeline();
});
afterAll(async () => {
  await test?.stop();
});

/** A sample payload padded (in its metadata) to exactly `bytes` of JSON. */
function padded(payload: Payload, bytes: number): Buffer {
  const metadata = { ...((payload.metadata as Record<string, unknown> | undefined) ?? {}), notes: '' };
  const withPad = { ...payload, metadata };
  metadata.notes = 'n'.repeat(bytes - Buffer.byteLength(JSON.stringify(withPad)));
  const raw = Buffer.from(JSON.stringify(withPad));
  expect(raw.length).toBe(bytes);
  return raw;
}

const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');
const objectOf = (raw: Buffer) => [...test.pipeline.s3.buckets].map((bucket) => test.pipeline.s3.object(bucket.name, `bodies/sha256/${sha256(raw)}`)).find(Boolean);
const publishedFor = (eventId: string) => test.pipeline.bus.published.filter((event) => (event.detail as { eventId?: string }).eventId === eventId);

describe('bodies over the claim-check threshold', () => {
  it('a 1.5 MiB agent document: 202, body in S3, catalogued and audited from the reference', async () => {
    // GIVEN an agent's document upload of 1.5 MiB (documents and agent-activity routes)
    const payload = fixturePayload('agent-file-created', { eventId: 'evt_big_document', fileId: 'file_big_document', fileName: 'quarterly-dataset.csv' });
    const raw = padded(payload, 1.5 * 1024 * 1024);
    // WHEN Fast.io delivers it
    const response = await send(test, raw);
    // THEN it is accepted, its exact bytes are in the bucket and the event carries the reference
    expect(response.status).toBe(202);
    expect(objectOf(raw)?.body.equals(raw)).toBe(true);
    const [event] = publishedFor('evt_big_document');
    expect(event?.detail).toMatchObject({ fileId: 'file_big_document', extension: 'csv', agentId: 'agt_3e7b1d9f05', bodyRef: { key: `bodies/sha256/${sha256(raw)}`, sizeBytes: raw.length, sha256: sha256(raw) } });
    expect(event?.detail).not.toHaveProperty('payload');
    // AND both routes processed it
    const catalogued = await waitFor(() => catalogItem(test, 'file_big_document'), 'the catalog item');
    expect(catalogued).toMatchObject({ fileName: 'quarterly-dataset.csv', extension: 'csv', lastEventId: 'evt_big_document' });
    const audit = await waitFor(() => items(test, 'audit').find((item) => item.eventId === 'evt_big_document'), 'the audit item');
    // too large to keep in the audit item, so it was not read back: the item says where it is
    expect(audit).toMatchObject({ agentId: 'agt_3e7b1d9f05', payloadOmittedBytes: raw.length, bodyRef: { sha256: sha256(raw) } });
  });

  it('a 250 KiB agent action: the audit reads the body back from the S3 stand-in and keeps it verbatim', async () => {
    const payload = fixturePayload('agent-file-created', { eventId: 'evt_mid_action', fileId: 'file_mid_action' });
    const raw = padded(payload, 250 * 1024);
    expect((await send(test, raw)).status).toBe(202);
    const audit = await waitFor(() => items(test, 'audit').find((item) => item.eventId === 'evt_mid_action'), 'the audit item');
    expect(JSON.parse(String(audit.payload))).toEqual(JSON.parse(raw.toString()));
    expect(test.pipeline.s3.operations.filter((op) => op.operation === 'GetObject' && op.key.endsWith(sha256(raw)) && op.outcome === 'ok')).toHaveLength(1);
  });

  it('a large-media event with a 900 KiB body: the review workflow runs within its input limit', async () => {
    const payload = fixturePayload('large-video-uploaded', { eventId: 'evt_big_video', fileId: 'file_big_video' });
    const raw = padded(payload, 900 * 1024);
    expect((await send(test, raw)).status).toBe(202);
    const reviewed = await waitFor(() => {
      const item = catalogItem(test, 'file_big_video');
      return item?.reviewStatus === 'REVIEWED' ? item : undefined;
    }, 'the REVIEWED catalog item');
    expect(reviewed).toMatchObject({ reviewClassification: 'video', reviewEventId: 'evt_big_video' });
    const machine = [...test.pipeline.stateMachines.values()].find((candidate) => candidate.definition.route === 'large-media');
    const execution = machine?.executions.find((candidate) => JSON.stringify(candidate.input).includes('evt_big_video'));
    expect(execution?.status).toBe('SUCCEEDED');
    expect(Buffer.byteLength(JSON.stringify(execution?.input))).toBeLessThan(MAX_EXECUTION_INPUT_BYTES);
    await test.pipeline.settle();
    expect(dlqDepth(test, 'large-media/workflow/target-dlq')).toBe(0);
  });

  it('S3 failing: 503, nothing on the bus; Fast.io’s retry is accepted once S3 is back', async () => {
    const payload = fixturePayload('document-uploaded', { eventId: 'evt_retry_document', fileId: 'file_retry_document' });
    const raw = padded(payload, 600 * 1024);
    test.pipeline.faults.add({ service: 's3', operation: 'PutObject', errorCode: 'ServiceUnavailable', times: 4 });
    const first = await send(test, raw);
    expect(first.status).toBe(503);
    expect(publishedFor('evt_retry_document')).toHaveLength(0);
    test.pipeline.faults.remove();
    expect((await send(test, raw)).status).toBe(202);
    await waitFor(() => catalogItem(test, 'file_retry_document'), 'the catalog item');
    expect(publishedFor('evt_retry_document')).toHaveLength(1);
  });
});
