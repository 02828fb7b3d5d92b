/**
 * The local pipeline end to end: signed webhooks through the HTTP API, the real ingest, the bus
 * with the synthesized rules, and the real consumers and review workflow on the local stand-ins.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { sendCommand } from '../../lib/ops/sign-command';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import { FIXTURES_DIR, catalogItem, fixturePayload, items, send, startTestPipeline, waitFor, type TestPipeline } from './support';

let test: TestPipeline;
beforeAll(async () => {
  test = await startTestPipeline();
});
afterAll(async () => {
  await test?.stop();
});

/** The routes the bus matched for the event it published for a Fast.io event id. */
function routesMatched(eventId: string): string[] | undefined {
  const published = test.pipeline.bus.published.find((event) => (event.detail as { eventId?: string }).eventId === eventId);
  if (!published) return undefined;
  const record = test.pipeline.flow.records.find((candidate) => candidate.source === 'bus' && candidate.data?.eventId === published.id);
  return record?.data?.routes as string[] | undefined;
}

function executions(route: string) {
  return [...test.pipeline.stateMachines.values()].find((machine) => machine.definition.route === route)?.executions ?? [];
}

describe('the terminal', () => {
  it('prints the answer to a webhook before the routing it caused', async () => {
    const response = await send(test, fixturePayload('document-uploaded', { eventId: 'evt_order', fileId: 'file_order' }));
    const { eventBridgeEventId } = JSON.parse(response.body) as { eventBridgeEventId: string };
    const records = test.pipeline.flow.records;
    const answer = records.findIndex((record) => record.source === 'ingest' && record.text.includes('→ 202') && record.text.includes('evt_order'));
    const routed = records.findIndex((record) => record.source === 'bus' && record.data?.eventId === eventBridgeEventId);
    expect(answer).toBeGreaterThanOrEqual(0);
    expect(routed).toBeGreaterThan(answer);
  });

  it('shows a request to no route, answered 404', async () => {
    const response = await fetch(`${test.pipeline.url}/webhooks/nope`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(test.pipeline.flow.records.some((record) => record.source === 'api' && record.text.startsWith('POST /webhooks/nope → 404'))).toBe(true);
  });

  it('shows a request whose headers are too large, answered 431', async () => {
    const response = await fetch(test.pipeline.webhookUrl, { method: 'POST', headers: { 'x-padding': 'x'.repeat(20_000) }, body: '{}' });
    expect(response.status).toBe(431);
    expect(test.pipeline.flow.records.some((record) => record.source === 'api' && record.text.startsWith('→ 431'))).toBe(true);
  });
});

describe('a signed webhook reaches exactly the targets its routes name', () => {
  it('a document: catalogued by the buffered catalog consumer, nothing else', async () => {
    const response = await send(test, fixturePayload('document-uploaded'));
    expect(response.status).toBe(202);
    const published = test.pipeline.bus.published.find((event) => (event.detail as { eventId?: string }).eventId === 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A');
    expect(JSON.parse(response.body)).toEqual({ fastioEventId: 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A', eventBridgeEventId: published?.id });

    const item = await waitFor(() => catalogItem(test, 'file_2b8d4e6f10'), 'the catalog item');
    expect(item).toMatchObject({
      workspaceId: 'ws_7f3a9c2e41',
      lastEventId: 'evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A',
      lastEventType: 'file.uploaded',
      extension: 'pdf',
      sizeBytes: 2483017,
      deleted: false,
    });
    expect(routesMatched('evt_01JD8Q4K7V2N5R8T1W3X6Y9Z0A')).toEqual(['documents']);
    await test.pipeline.settle();
    expect(items(test, 'audit')).toEqual([]);
    expect(executions('large-media')).toEqual([]);
  });

  it('an agent action: catalogued and written to the audit trail by the async function target', async () => {
    const response = await send(test, fixturePayload('agent-file-created'));
    expect(response.status).toBe(202);

    const audit = await waitFor(() => items(test, 'audit').find((item) => item.eventId === 'evt_01JD8S7T2A5C8E1G4J7L0N3P6C'), 'the audit item');
    expect(audit).toMatchObject({ agentId: 'agt_3e7b1d9f05', occurredAtEventId: '2025-11-18T16:20:33.000Z#evt_01JD8S7T2A5C8E1G4J7L0N3P6C', fileName: 'weekly-sales-summary.csv' });
    await waitFor(() => catalogItem(test, 'file_4f5a6b7c8d'), 'the catalog item');
    expect(routesMatched('evt_01JD8S7T2A5C8E1G4J7L0N3P6C')).toEqual(['documents', 'agent-activity']);
  });

  it('a large video: the review workflow records, notifies and marks the catalog item REVIEWED', async () => {
    const published = test.pipeline.published.length;
    const response = await send(test, fixturePayload('large-video-uploaded'));
    expect(response.status).toBe(202);

    const item = await waitFor(() => {
      const found = catalogItem(test, 'file_9e0a1b2c3d');
      return found?.reviewStatus === 'REVIEWED' ? found : undefined;
    }, 'the REVIEWED catalog item');
    expect(item).toMatchObject({ reviewClassification: 'video', reviewEventId: 'evt_01JD8R0M3P6Q9S2U5V8W1X4Y7B', reviewedAt: expect.any(String), reviewRequestedAt: expect.any(String) });
    expect(routesMatched('evt_01JD8R0M3P6Q9S2U5V8W1X4Y7B')).toEqual(['large-media']);
    const [execution] = executions('large-media');
    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.visited).toEqual([
      'ValidateInput', 'ReadClock', 'ClaimEvent', 'RecordPendingReview', 'ClassifyByExtension', 'ClassifyVideo', 'NotifiedAlready', 'NotifyReviewers', 'MarkNotified', 'MarkReviewed', 'MarkCompleted',
    ]);
    expect(test.pipeline.published.slice(published).map((message) => JSON.parse(message.message))).toEqual([
      { reason: 'file.uploaded', classification: 'video', workspaceId: 'ws_7f3a9c2e41', fileId: 'file_9e0a1b2c3d', eventId: 'evt_01JD8R0M3P6Q9S2U5V8W1X4Y7B' },
    ]);
    // Not a document: the catalog consumer never saw it, so only the workflow's fields are there.
    expect(item.lastEventId).toBeUndefined();
  });

  it('the same delivery twice (a resend after a lost 202): recognised at the door, reviewed and notified once', async () => {
    // GIVEN a large video was reviewed
    const payload = fixturePayload('large-video-uploaded', { eventId: 'evt_review_twice', fileId: 'file_review_twice' });
    const published = test.pipeline.published.length;
    expect((await send(test, payload)).status).toBe(202);
    await waitFor(() => executions('large-media').find((run) => run.status === 'SUCCEEDED' && (run.input as { detail: { eventId: string } }).detail.eventId === 'evt_review_twice'), 'the first review');
    // WHEN Fast.io sends the same event again
    const resend = await send(test, payload);
    // THEN the ingest answers 200 as a duplicate and publishes nothing: one execution, one notification
    expect(resend.status).toBe(200);
    await test.pipeline.settle();
    expect(executions('large-media').filter((run) => (run.input as { detail: { eventId: string } }).detail.eventId === 'evt_review_twice')).toHaveLength(1);
    expect(test.pipeline.published.slice(published).filter((message) => message.message.includes('evt_review_twice'))).toHaveLength(1);
    expect(items(test, 'idempotency').find((item) => item.id === 'review#large-media#evt_review_twice')).toMatchObject({ status: 'COMPLETED', route: 'large-media', eventId: 'evt_review_twice' });
  });

  it('an untrusted agent deleting a file: catalog tombstone, audit entry and a review', async () => {
    const response = await send(test, fixturePayload('file-deleted', { agentId: 'agent-7', eventId: 'evt_delete_by_agent_7' }), { scheme: 'timestamped' });
    expect(response.status).toBe(202);
    await waitFor(() => executions('untrusted-agent-deletions')[0]?.status === 'SUCCEEDED', 'the review');
    await waitFor(() => items(test, 'audit').some((item) => item.eventId === 'evt_delete_by_agent_7'), 'the audit item');
    await waitFor(() => catalogItem(test, 'file_6c7d8e9f0a')?.deleted === true, 'the tombstone');
    expect(routesMatched('evt_delete_by_agent_7')).toEqual(['documents', 'agent-activity', 'untrusted-agent-deletions']);
    expect(catalogItem(test, 'file_6c7d8e9f0a')).toMatchObject({ reviewStatus: 'REVIEWED', reviewClassification: 'other', lastEventType: 'file.deleted' });
  });

  it('a small image matches no route: archived, delivered nowhere', async () => {
    const archived = test.pipeline.archive.count();
    const response = await send(test, fixturePayload('image-small'));
    expect(response.status).toBe(202);
    expect(test.pipeline.archive.count()).toBe(archived + 1);
    expect(routesMatched('evt_01JD8T9V4B7D0F3H6K9M2P5R8D')).toEqual([]);
    await test.pipeline.settle();
    expect(catalogItem(test, 'file_1a2b3c4d5e')).toBeUndefined();
  });

  it('a binary content type arrives base64-encoded, as API Gateway sends it, and still verifies', async () => {
    const response = await send(test, fixturePayload('document-uploaded', { eventId: 'evt_binary', fileId: 'file_binary' }), { contentType: 'application/octet-stream' });
    expect(response.status).toBe(202);
    await waitFor(() => catalogItem(test, 'file_binary'), 'the catalog item');
  });

  it('npm run ops -- send <payload> --local signs with the local secret and posts to the running pipeline', async () => {
    const out: string[] = [];
    const saved = process.env[LOCAL_DIR_ENV_VAR];
    process.env[LOCAL_DIR_ENV_VAR] = test.stateDir;
    try {
      const code = await runCli([sendCommand], ['send', join(FIXTURES_DIR, 'document-uploaded.json'), '--local'], { out: (line) => out.push(line), err: (line) => out.push(line), interactive: false });
      expect(out[0]).toBe('HTTP 202 Accepted');
      expect(code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env[LOCAL_DIR_ENV_VAR];
      else process.env[LOCAL_DIR_ENV_VAR] = saved;
    }
  });
});

describe('what never reaches the bus', () => {
  it('a forged signature: 401, nothing archived, nothing published', async () => {
    const archived = test.pipeline.archive.count();
    const published = test.pipeline.bus.published.length;
    const response = await send(test, fixturePayload('document-uploaded', { eventId: 'evt_forged', fileId: 'file_forged' }), { secret: 'not-the-secret' });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toEqual({ message: 'Unauthorized' });
    expect(test.pipeline.archive.count()).toBe(archived);
    expect(test.pipeline.bus.published.length).toBe(published);
    await test.pipeline.settle();
    expect(catalogItem(test, 'file_forged')).toBeUndefined();
    const line = test.pipeline.flow.records.findLast((record) => record.source === 'ingest');
    expect(line?.text).toContain('401 rejected: bad-signature');
  });

  it('an unsigned delivery is rejected the same way', async () => {
    const response = await fetch(test.pipeline.webhookUrl, { method: 'POST', body: '{"event_type":"file.uploaded"}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('apigw-requestid')).toMatch(/=$/);
  });

  it('other routes and methods: API Gateway’s 404', async () => {
    for (const [method, path] of [['GET', '/webhooks/fastio'], ['POST', '/webhooks'], ['GET', '/']]) {
      const response = await fetch(`${test.pipeline.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    }
  });

  it('a body over 10 MB: 413 from the API, the function is not called', async () => {
    const invocations = test.pipeline.flow.records.filter((record) => record.source === 'ingest').length;
    const response = await fetch(test.pipeline.webhookUrl, { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20), headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(413);
    expect(test.pipeline.flow.records.filter((record) => record.source === 'ingest').length).toBe(invocations);
  });
});
