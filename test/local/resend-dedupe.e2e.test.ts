/**
 * Resends recognised at the door, end to end through the local pipeline (`npm start`'s): the dedupe
 * table comes from the synthesized stateful stack, and effects are counted in the bus archive file
 * (`<state dir>/archive.jsonl`) per Fast.io event id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogItem, fixturePayload, send, startTestPipeline, waitFor, type TestPipeline } from './support';

let test: TestPipeline;
beforeAll(async () => {
  test = await startTestPipeline();
});
afterAll(async () => {
  await test?.stop();
});

/** Archive entries per Fast.io event id, read from the file the pipeline writes. */
function archivedPerEventId(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(join(test.stateDir, 'archive.jsonl'), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const eventId = (JSON.parse(line) as { event?: { detail?: { eventId?: string } } }).event?.detail?.eventId;
    if (eventId !== undefined) counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
  }
  return counts;
}

describe('a resend after a lost 202', () => {
  it('is answered as a duplicate and archived once', async () => {
    // GIVEN a document delivery that was accepted (Fast.io never saw the 202)
    const payload = fixturePayload('document-uploaded', { eventId: 'evt_resent_after_lost_202', fileId: 'file_resent_after_lost_202' });
    const first = await send(test, payload);
    expect(first.status).toBe(202);
    // WHEN Fast.io resends the same body
    const resend = await send(test, payload);
    // THEN the resend is told it is a duplicate of the first
    expect(resend.status).toBe(200);
    expect(JSON.parse(resend.body)).toEqual({ ...(JSON.parse(first.body) as object), duplicate: true });
    // AND the event is on the bus, archived and catalogued once
    await waitFor(() => catalogItem(test, 'file_resent_after_lost_202'), 'the catalog item');
    await test.pipeline.settle();
    expect(archivedPerEventId().get('evt_resent_after_lost_202')).toBe(1);
    // AND the claim is in the stateful stack's dedupe table, published
    expect(test.pipeline.dynamodb.scan('dedupe').find((item) => item.eventId === 'evt_resent_after_lost_202')).toMatchObject({ status: 'published' });
  });

  it('a different event is still published', async () => {
    expect((await send(test, fixturePayload('document-uploaded', { eventId: 'evt_other_event', fileId: 'file_other_event' }))).status).toBe(202);
    await test.pipeline.settle();
    expect(archivedPerEventId().get('evt_other_event')).toBe(1);
  });
});
