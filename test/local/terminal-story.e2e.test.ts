/**
 * What `npm start` prints, read from the real pipeline's terminal lines: one ordered story per
 * event, with whole event ids, waits as they really happen under the time scale, duplicates said to
 * be skipped, current queue handles and plain wording (issue 21, item 6).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { dlqCommands } from '../../lib/ops/dlq-commands';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import type { BusEvent } from '../../lib/local/archive';
import { TEST_TIME_SCALE, catalogItem, fixturePayload, send, startTestPipeline, waitFor, type TestPipeline } from './support';

let test: TestPipeline;
const lines: string[] = [];
beforeAll(async () => {
  test = await startTestPipeline({ output: (line) => lines.push(line) });
});
afterAll(async () => {
  if (process.env.DUMP === '1') console.log(lines.join('\n'));
  await test?.stop();
});

/** Unique ids per test, shaped like Fast.io's (26 characters after `evt_`), so a shortened one would show. */
const eventId = () => `evt_${randomUUID().replace(/-/g, '').slice(0, 26).toUpperCase()}`;

/** The terminal lines about one Fast.io event, in the order printed. */
const about = (id: string) => lines.filter((line) => line.includes(id));

/** `HH:MM:SS.mmm` at the start of a terminal line, as milliseconds of the day. */
function printedAt(line: string): number {
  const match = /^(\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
  if (!match) throw new Error(`not a terminal line: ${line}`);
  const [, h, m, s, ms] = match.map(Number) as [number, number, number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

/** The route and dead-letter queues of the route that buffers documents in a queue, from the synthesized model. */
function documentQueueRoute(id: string): { route: string; targetDlq: string; bufferDlq: string } {
  const published = test.pipeline.bus.published.find((event) => (event.detail as { eventId?: string }).eventId === id);
  const record = test.pipeline.flow.records.find((candidate) => candidate.source === 'bus' && candidate.data?.eventId === published?.id);
  const routes = (record?.data?.routes ?? []) as string[];
  for (const route of routes) {
    const refs = test.pipeline.model.deadLetterQueues.filter((ref) => ref.route === route);
    const bufferDlq = refs.find((ref) => ref.role === 'buffer-dlq')?.name;
    const targetDlq = refs.find((ref) => ref.role === 'target-dlq')?.name;
    if (bufferDlq && targetDlq) return { route, targetDlq, bufferDlq };
  }
  throw new Error(`${id} matched no route with a buffer queue (${routes.join(', ')})`);
}

async function sendDocument(id: string): Promise<void> {
  const response = await send(test, fixturePayload('document-uploaded', { eventId: id, fileId: `file_${id}` }));
  expect(response.status).toBe(202);
}

/** Sends a probe document and waits until it is routed: the documents queue route and its dead-letter queues. */
async function documentsRouting(): Promise<{ route: string; targetDlq: string; bufferDlq: string }> {
  const probe = eventId();
  await sendDocument(probe);
  return waitFor(() => {
    try {
      return documentQueueRoute(probe);
    } catch {
      return undefined;
    }
  }, 'the routing of the probe');
}

/** A document its queue target's rule could not deliver (one NO_PERMISSIONS fault), seen landing in the target DLQ. */
async function deadLetteredDocument(): Promise<{ id: string; targetDlq: string }> {
  const { route, targetDlq } = await documentsRouting();
  const fault = test.pipeline.faults.add({ service: 'events', operation: 'Deliver', route, errorCode: 'NO_PERMISSIONS', times: 1 });
  const id = eventId();
  try {
    await sendDocument(id);
    await waitFor(() => about(id).some((line) => line.includes(`landed in ${targetDlq}`)), 'the dead-letter line');
  } finally {
    test.pipeline.faults.remove(fault.id);
  }
  return { id, targetDlq };
}

describe('the terminal story of the local pipeline', () => {
  it('prints lines in time order: the answer to a webhook is dated when it came in, before the routing it caused', async () => {
    // GIVEN a document delivery
    const id = eventId();
    const from = lines.length;
    // WHEN it is answered, routed and catalogued
    await sendDocument(id);
    await waitFor(() => catalogItem(test, `file_${id}`), 'the catalog item');
    await waitFor(() => about(id).some((line) => line.includes('processed')), 'the consumer line');
    // THEN every line printed carries a time no earlier than the line before it
    const printed = lines.slice(from).filter((line) => /^\d\d:/.test(line));
    expect(printed.length).toBeGreaterThanOrEqual(4);
    const times = printed.map(printedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(printed[0]).toContain('→ 202');
  });

  it('prints a dead letter after the failure that put it there, naming the target once', async () => {
    // GIVEN a route that cannot reach its target (a permanent error), WHEN a document is sent
    const { id, targetDlq } = await deadLetteredDocument();
    // THEN the failure comes first, then the dead letter, and the target is named without repeating its kind
    const story = about(id);
    const failed = story.findIndex((line) => line.includes('could not be delivered'));
    const landed = story.findIndex((line) => line.includes(`landed in ${targetDlq}`));
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(landed).toBeGreaterThan(failed);
    expect(story[failed]).toContain('could not be delivered to its queue target (NO_PERMISSIONS');
    expect(lines.join('\n')).not.toMatch(/\b(\w+) target \1\b/);
  });

  it('prints every Fast.io event id whole, never shortened with …', async () => {
    // GIVEN a delivery with a full-length id
    const id = eventId();
    // WHEN it flows through
    await sendDocument(id);
    await waitFor(() => about(id).some((line) => line.includes('processed')), 'the consumer line');
    // THEN each line about it carries the whole id, so it pastes into ops trace, and no line shortens anything
    expect(about(id).length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line).not.toContain('…');
  });

  it('shows a consumer retry wait as the pipeline sleeps it, scaled, with the AWS figure, and the next queue by its handle', async () => {
    // GIVEN the catalog table failing every write: the consumer fails each receive until the message is dead-lettered
    const { bufferDlq } = await documentsRouting();
    const id = eventId();
    const fault = test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', key: { fileId: `file_${id}` }, errorCode: 'InternalServerError' });
    try {
      // WHEN a document is sent
      await sendDocument(id);
      await waitFor(() => about(id).some((line) => line.includes(`landed in ${bufferDlq}`)), 'the buffer dead letter', 30_000);
    } finally {
      test.pipeline.faults.remove(fault.id);
    }
    // THEN each failed receive says when it comes back, in real and AWS seconds, and the last names the DLQ's handle
    const visibility = test.pipeline.model.queues.find((queue) => queue.redrive?.deadLetterArn === test.pipeline.model.deadLetterQueues.find((ref) => ref.name === bufferDlq)?.queueArn)?.visibilityTimeoutSeconds;
    expect(visibility).toBeGreaterThan(0);
    const waits = about(id).filter((line) => line.includes('visible again in'));
    expect(waits.length).toBeGreaterThan(0);
    for (const line of waits) expect(line).toContain(`visible again in ${(visibility as number) / TEST_TIME_SCALE} s (${visibility} s at time-scale ${TEST_TIME_SCALE})`);
    expect(about(id).some((line) => line.includes(`next: ${bufferDlq}`))).toBe(true);
    const route = bufferDlq.split('/')[0] as string;
    expect(lines.join('\n')).not.toContain(`${route}/buffer-dlq`);
  });

  it('shows a Lambda async retry wait scaled, with the AWS figure', async () => {
    // GIVEN the audit table failing (the SDK's own retries fail too) until the audit's first attempt failed
    const id = eventId();
    const fault = test.pipeline.faults.add({ service: 'dynamodb', operation: 'PutItem', table: 'audit', errorCode: 'InternalServerError' });
    try {
      // WHEN an agent upload is sent
      const response = await send(test, fixturePayload('agent-file-created', { eventId: id, fileId: `file_${id}` }));
      expect(response.status).toBe(202);
      await waitFor(() => about(id).some((line) => line.includes('Lambda retries in')), 'the failed first attempt');
    } finally {
      test.pipeline.faults.remove(fault.id);
    }
    await waitFor(() => about(id).some((line) => line.includes('(attempt 2,')), 'the second attempt');
    // THEN the failed attempt says Lambda's first retry delay (60 s) as the pipeline waits it
    expect(about(id).some((line) => line.includes(`Lambda retries in ${60 / TEST_TIME_SCALE} s (60 s at time-scale ${TEST_TIME_SCALE})`))).toBe(true);
  });

  it('shows an EventBridge retry wait scaled, with the AWS figure', async () => {
    // GIVEN a route whose delivery is throttled once (retryable)
    const { route } = await documentsRouting();
    const id = eventId();
    const fault = test.pipeline.faults.add({ service: 'events', operation: 'Deliver', route, errorCode: 'THROTTLING', times: 1 });
    try {
      // WHEN a document is sent
      await sendDocument(id);
      await waitFor(() => about(id).some((line) => line.includes('processed')), 'the consumer line');
    } finally {
      test.pipeline.faults.remove(fault.id);
    }
    // THEN the failed delivery says EventBridge's first backoff (1 s) as the pipeline waits it
    expect(about(id).some((line) => line.includes(`EventBridge retries in ${1 / TEST_TIME_SCALE} s (1 s at time-scale ${TEST_TIME_SCALE})`))).toBe(true);
  });

  it('shows a workflow state retry with the wait the pipeline slept, scaled, and what AWS would wait', async () => {
    // GIVEN the review topic failing twice with a transient error
    const id = eventId();
    const fault = test.pipeline.faults.add({ service: 'sns', operation: 'Publish', errorCode: 'InternalErrorException', times: 2 });
    try {
      // WHEN a large video is sent, whose review notifies the topic
      const response = await send(test, fixturePayload('large-video-uploaded', { eventId: id, fileId: `file_${id}` }));
      expect(response.status).toBe(202);
      await waitFor(() => about(id).some((line) => line.includes('SUCCEEDED')), 'the execution to succeed');
    } finally {
      test.pipeline.faults.remove(fault.id);
    }
    // THEN each retry line gives the retrier's interval as slept locally, and the backed-off AWS wait where it differs
    const machine = [...test.pipeline.stateMachines.values()].find((candidate) => candidate.executions.some((execution) => JSON.stringify(execution.input).includes(id)));
    const states = (machine?.definition.definition.States ?? {}) as Record<string, { Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number; MaxAttempts?: number }[] }>;
    const retried = about(id).filter((line) => line.includes('failed; retry'));
    expect(retried).toHaveLength(2);
    const state = /: (\w+) failed; retry/.exec(retried[0] as string)?.[1] as string;
    const retrier = states[state]?.Retry?.find((candidate) => candidate.ErrorEquals.includes('SNS.InternalErrorException'));
    const interval = retrier?.IntervalSeconds ?? 1;
    const backoff = retrier?.BackoffRate ?? 2;
    const attempts = retrier?.MaxAttempts ?? 3;
    const slept = `after ${interval / TEST_TIME_SCALE} s (${interval} s at time-scale ${TEST_TIME_SCALE})`;
    expect(retried[0]).toContain(`${state} failed; retry 1 of ${attempts} ${slept}`);
    expect(retried[1]).toContain(`${state} failed; retry 2 of ${attempts} ${slept}; AWS backs off, waiting ${interval * backoff} s for this one`);
  });

  it('says a resend of a webhook already published was skipped as already done', async () => {
    // GIVEN a document published once
    const id = eventId();
    await sendDocument(id);
    // WHEN Fast.io sends the same delivery again
    const again = await send(test, fixturePayload('document-uploaded', { eventId: id, fileId: `file_${id}` }));
    expect(again.status).toBe(200);
    // THEN the ingest's line says it was a duplicate, skipped, in words rather than the raw answer
    const answer = await waitFor(() => about(id).find((line) => line.includes('→ 200')), 'the second answer');
    expect(answer).toContain(`→ 200 duplicate ${id}: already published, skipped`);
    expect(answer).not.toContain('{');
  });

  it('says a duplicate delivery to a queue consumer was skipped as already done, not processed', async () => {
    // GIVEN a document catalogued once
    const id = eventId();
    await sendDocument(id);
    await waitFor(() => about(id).some((line) => line.includes('processed')), 'the first consumer line');
    const original = test.pipeline.bus.published.find((event) => (event.detail as { eventId?: string }).eventId === id) as BusEvent;
    const from = lines.length;
    // WHEN the bus delivers the same Fast.io event again (at-least-once delivery)
    test.pipeline.bus.publish({ ...original, id: randomUUID() });
    const consumerLine = (line: string) => line.includes(id) && /\(message \w+, receive \d+\)/.test(line);
    await waitFor(() => lines.slice(from).some(consumerLine), 'the second consumer line');
    // THEN the consumer line says the work was already done and skipped
    const second = lines.slice(from).find(consumerLine) as string;
    expect(second).toContain('already done, skipped');
    expect(second).not.toContain('processed');
  });

  it('says a duplicate delivery to an async function was skipped as already done', async () => {
    // GIVEN an agent upload audited once
    const id = eventId();
    const response = await send(test, fixturePayload('agent-file-created', { eventId: id, fileId: `file_${id}` }));
    expect(response.status).toBe(202);
    await waitFor(() => about(id).some((line) => line.includes('"recorded"')), 'the audit line');
    const original = test.pipeline.bus.published.find((event) => (event.detail as { eventId?: string }).eventId === id) as BusEvent;
    const from = lines.length;
    // WHEN the bus delivers it again
    test.pipeline.bus.publish({ ...original, id: randomUUID() });
    await waitFor(() => lines.slice(from).some((line) => line.includes(id) && line.includes('(attempt 1,') && !line.includes('(message ')), 'the second audit line');
    // THEN the audit's line says it was already done
    expect(lines.slice(from).find((line) => line.includes(id) && line.includes('(attempt 1,'))).toContain('already done, skipped');
  });

  it('ops dlq peek --local says how often a dead letter was received in words, never "received 0x"', async () => {
    // GIVEN a dead letter nobody has read yet
    const { id, targetDlq } = await deadLetteredDocument();
    // WHEN an operator peeks at the queue
    const out: string[] = [];
    vi.stubEnv(LOCAL_DIR_ENV_VAR, test.stateDir);
    try {
      const code = await runCli(dlqCommands, ['dlq', 'peek', targetDlq, '--local'], { out: (line) => out.push(line), err: (line) => out.push(line), interactive: false });
      expect(code).toBe(0);
    } finally {
      vi.unstubAllEnvs();
    }
    // THEN the message line counts its receives in words, and carries the whole event id
    const line = out.find((candidate) => candidate.includes(id)) as string;
    expect(line).toMatch(/, (not received yet|received once|received \d+ times): /);
    expect(out.join('\n')).not.toMatch(/received \d+x/);
  });
});
