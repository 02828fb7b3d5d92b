/**
 * Every hop's dead-letter queue on the local pipeline, with faults injected through the stand-ins
 * (the handlers are untouched): a consumer that keeps failing, an async function target that
 * exhausts its retries, a rule that cannot deliver to its target, a workflow that catches its
 * failure; and redrive, through the control client the ops CLI uses, once the cause is fixed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localDeadLetterQueues, localPeek, localRedrive } from '../../lib/local/control-client';
import { MAX_RECEIVE_COUNT } from '../../lib/constructs/secure-queue';
import { catalogItem, dlqDepth, fixturePayload, items, send, startTestPipeline, waitFor, type TestPipeline } from './support';

let test: TestPipeline;
beforeAll(async () => {
  test = await startTestPipeline();
});
afterAll(async () => {
  await test?.stop();
});
afterEach(() => {
  test.pipeline.faults.remove();
});

const viaControl = () => ({ url: test.pipeline.url });

describe('buffer queue → DLQ → redrive', () => {
  it('a consumer that keeps failing puts its message in the buffer DLQ after the configured receives; redrive brings it back once fixed', async () => {
    // GIVEN the catalog table rejects every UpdateItem (the consumer's write; Powertools' own calls still work)
    test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    const payload = fixturePayload('document-uploaded', { eventId: 'evt_dlq_1', fileId: 'file_dlq_1' });

    // WHEN a document arrives
    expect((await send(test, payload)).status).toBe(202);

    // THEN after maxReceiveCount failed receives it is in documents/queue/buffer-dlq, not in the catalog
    await waitFor(() => dlqDepth(test, 'documents/queue/buffer-dlq') === 1, 'the buffer DLQ');
    const failures = test.pipeline.flow.records.filter((record) => record.source === 'documents/catalog-consumer' && record.status === 'fail');
    expect(failures).toHaveLength(MAX_RECEIVE_COUNT);
    expect(failures.map((record) => record.data?.receiveCount)).toEqual([1, 2, 3, 4, 5]);
    expect(failures[0]?.text).toContain('ResourceNotFoundException: Requested resource not found');
    expect(catalogItem(test, 'file_dlq_1')).toBeUndefined();
    const queues = await localDeadLetterQueues(viaControl());
    expect(queues.find((queue) => queue.name === 'documents/queue/buffer-dlq')).toMatchObject({ depth: 1, oldestAgeSeconds: expect.any(Number) });
    const [peeked] = await localPeek('documents/queue/buffer-dlq', {}, viaControl());
    expect(peeked?.event).toMatchObject({ 'detail-type': 'file.uploaded', detail: { eventId: 'evt_dlq_1' } });

    // WHEN the consumer is fixed and the DLQ is redriven
    test.pipeline.faults.remove();
    const result = await localRedrive('documents/queue/buffer-dlq', {}, viaControl());

    // THEN the message went back to its buffer and the consumer catalogued it
    expect(result).toMatchObject({ queue: 'documents/queue/buffer-dlq', destination: 'documents/queue/buffer-queue', moved: 1, failed: 0, left: 0 });
    await waitFor(() => catalogItem(test, 'file_dlq_1'), 'the catalog item after redrive');
    expect(dlqDepth(test, 'documents/queue/buffer-dlq')).toBe(0);
  });

  it('one bad message fails alone: the rest of the batch is catalogued (partial batch response)', async () => {
    test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', key: { fileId: 'file_bad' }, errorCode: 'ResourceNotFoundException', times: 1 });
    await Promise.all([
      send(test, fixturePayload('document-uploaded', { eventId: 'evt_good', fileId: 'file_good' })),
      send(test, fixturePayload('document-uploaded', { eventId: 'evt_bad', fileId: 'file_bad' })),
    ]);
    await waitFor(() => catalogItem(test, 'file_good') && catalogItem(test, 'file_bad'), 'both catalog items');
    await test.pipeline.settle();
    const outcomes = (eventId: string) => test.pipeline.flow.records.filter((record) => record.source === 'documents/catalog-consumer' && record.text.includes(eventId)).map((record) => record.status);
    expect(outcomes('evt_good')).toEqual(['ok']);
    expect(outcomes('evt_bad')).toEqual(['fail', 'ok']);
  });
});

describe('async function target → retries → on-failure destination → redrive', () => {
  it('writes the AWS destination record after Lambda’s retries, and redrive re-invokes the function', async () => {
    test.pipeline.faults.add({ service: 'dynamodb', operation: 'PutItem', table: 'audit', errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    expect((await send(test, fixturePayload('agent-file-created', { eventId: 'evt_audit_fail', fileId: 'file_audit_fail' }))).status).toBe(202);

    await waitFor(() => dlqDepth(test, 'agent-activity/function/on-failure') === 1, 'the on-failure queue');
    const [message] = test.pipeline.queue('agent-activity/function/on-failure').snapshot();
    const record = JSON.parse(message?.body ?? '{}') as Record<string, Record<string, unknown>>;
    const fn = [...test.pipeline.functions.values()].find((candidate) => candidate.label === 'agent-activity/agent-audit');
    expect(record).toMatchObject({
      version: '1.0',
      timestamp: expect.any(String),
      requestContext: { requestId: expect.any(String), functionArn: `${fn?.definition.arn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { 'detail-type': 'file.created', source: 'fastio', detail: { eventId: 'evt_audit_fail' } },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'ResourceNotFoundException', errorMessage: 'Requested resource not found' },
    });
    expect(items(test, 'audit').some((item) => item.eventId === 'evt_audit_fail')).toBe(false);

    test.pipeline.faults.remove();
    const result = await localRedrive('agent-activity/function/on-failure', {}, viaControl());
    expect(result).toMatchObject({ moved: 1, failed: 0, left: 0 });
    await waitFor(() => items(test, 'audit').some((item) => item.eventId === 'evt_audit_fail'), 'the audit item after redrive');
  });
});

describe('rule target → retry policy → target DLQ → redrive', () => {
  it('an undeliverable target goes to the target DLQ with EventBridge’s attributes after the retry policy', async () => {
    test.pipeline.faults.add({ service: 'events', route: 'large-media', errorCode: 'THROTTLING', message: 'Rate exceeded' });
    expect((await send(test, fixturePayload('large-video-uploaded', { eventId: 'evt_target_dlq', fileId: 'file_target_dlq' }))).status).toBe(202);

    await waitFor(() => dlqDepth(test, 'large-media/workflow/target-dlq') === 1, 'the target DLQ', 20_000);
    const [peeked] = await localPeek('large-media/workflow/target-dlq', {}, viaControl());
    const rule = test.pipeline.model.rules.find((candidate) => candidate.route === 'large-media');
    expect(peeked?.failure).toMatchObject({
      rule: rule?.arn,
      target: rule?.targets[0]?.arn,
      errorCode: 'THROTTLING',
      errorMessage: 'Rate exceeded',
      exhaustedRetryCondition: 'MaximumRetryAttempts',
      retryAttempts: '8',
    });
    expect(catalogItem(test, 'file_target_dlq')).toBeUndefined();

    test.pipeline.faults.remove();
    expect(await localRedrive('large-media/workflow/target-dlq', {}, viaControl())).toMatchObject({ moved: 1, left: 0 });
    await waitFor(() => catalogItem(test, 'file_target_dlq')?.reviewStatus === 'REVIEWED', 'the review after redrive');
  });

  it('a non-retryable delivery error goes to the target DLQ at once', async () => {
    test.pipeline.faults.add({ service: 'events', route: 'documents', errorCode: 'NO_PERMISSIONS', message: 'Access denied', times: 1 });
    await send(test, fixturePayload('document-uploaded', { eventId: 'evt_no_perms', fileId: 'file_no_perms' }));
    await waitFor(() => dlqDepth(test, 'documents/queue/target-dlq') === 1, 'the target DLQ');
    const [peeked] = await localPeek('documents/queue/target-dlq', {}, viaControl());
    expect(peeked?.failure).toMatchObject({ errorCode: 'NO_PERMISSIONS', retryAttempts: '0' });
    expect(peeked?.failure.exhaustedRetryCondition).toBeUndefined();
    expect(await localRedrive('documents/queue/target-dlq', {}, viaControl())).toMatchObject({ moved: 1 });
    await waitFor(() => catalogItem(test, 'file_no_perms'), 'the catalog item after redrive');
  });
});

describe('workflow → Catch → failure queue → redrive', () => {
  it('a permanent error is caught into the failure queue with the original event; redrive starts the workflow again', async () => {
    test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', key: { fileId: 'file_wf_fail' }, errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    expect((await send(test, fixturePayload('large-video-uploaded', { eventId: 'evt_wf_fail', fileId: 'file_wf_fail' }))).status).toBe(202);

    await waitFor(() => dlqDepth(test, 'large-media/workflow/workflow-failures') === 1, 'the workflow failure queue');
    const [peeked] = await localPeek('large-media/workflow/workflow-failures', {}, viaControl());
    expect(peeked?.failure).toMatchObject({ error: 'DynamoDB.ResourceNotFoundException', cause: expect.stringContaining('Requested resource not found'), executionArn: expect.stringContaining(':execution:') });
    expect(peeked?.event).toMatchObject({ 'detail-type': 'file.uploaded', detail: { eventId: 'evt_wf_fail' } });

    test.pipeline.faults.remove();
    expect(await localRedrive('large-media/workflow/workflow-failures', {}, viaControl())).toMatchObject({ moved: 1, left: 0 });
    await waitFor(() => items(test, 'idempotency').find((item) => item.id === 'review#large-media#evt_wf_fail')?.status === 'COMPLETED', 'the review after redrive');
    expect(catalogItem(test, 'file_wf_fail')?.reviewStatus).toBe('REVIEWED');
    // It failed before reviewers were told: the redrive told them, once.
    expect(test.pipeline.published.filter((message) => message.message.includes('evt_wf_fail'))).toHaveLength(1);
  });

  it('an unknown queue name is a usage error naming the valid ones', async () => {
    await expect(localRedrive('documents/nope', {}, viaControl())).rejects.toThrow(/unknown queue "documents\/nope"; valid names: documents\/queue\/target-dlq, documents\/queue\/buffer-dlq/);
  });
});
