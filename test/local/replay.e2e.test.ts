/**
 * Local replay: archived events re-sent with `replay-name` to the chosen routes' rules only; the
 * idempotent consumers and the review workflow redo only the work that did not complete.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localReplay } from '../../lib/local/control-client';
import { routeTable, targetName } from '../../lib/route-table';
import { catalogItem, dlqDepth, fixturePayload, items, send, startTestPipeline, waitFor, writes, type TestPipeline } from './support';

let test: TestPipeline;
const startedAt = new Date(Date.now() - 60_000);
beforeAll(async () => {
  test = await startTestPipeline();
});
afterAll(async () => {
  await test?.stop();
});

function executions(route: string): number {
  return [...test.pipeline.stateMachines.values()].find((machine) => machine.definition.route === route)?.executions.length ?? 0;
}

/** Every target handle of a route, `<route>/<target>`, as the table names them (one rule per target). */
const handlesOf = (route: string) => (routeTable.find((candidate) => candidate.name === route)?.targets ?? []).map((target) => `${route}/${targetName(target)}`);
const [documents] = handlesOf('documents');
const [review] = handlesOf('untrusted-agent-deletions');

describe('local replay', () => {
  it('re-delivers only to the chosen routes, and the consumers redo only unfinished work', async () => {
    // GIVEN three deliveries that completed everywhere…
    expect((await send(test, fixturePayload('document-uploaded', { eventId: 'evt_r1', fileId: 'file_r1' }))).status).toBe(202);
    expect((await send(test, fixturePayload('agent-file-created', { eventId: 'evt_r2', fileId: 'file_r2' }))).status).toBe(202);
    expect((await send(test, fixturePayload('file-deleted', { eventId: 'evt_r3', fileId: 'file_r3', agentId: 'agent-7' }))).status).toBe(202);
    await waitFor(() => catalogItem(test, 'file_r1') && catalogItem(test, 'file_r2') && catalogItem(test, 'file_r3')?.reviewStatus === 'REVIEWED', 'the first three deliveries');
    // …and one whose catalog write failed until it ended in the buffer DLQ (the incident)
    const fault = test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', key: { fileId: 'file_r4' }, errorCode: 'ResourceNotFoundException' });
    expect((await send(test, fixturePayload('document-uploaded', { eventId: 'evt_r4', fileId: 'file_r4' }))).status).toBe(202);
    await waitFor(() => dlqDepth(test, 'documents/queue/buffer-dlq') === 1, 'the incident');
    await test.pipeline.settle();
    test.pipeline.faults.remove(fault.id);
    expect(catalogItem(test, 'file_r4')).toBeUndefined();
    const auditBefore = items(test, 'audit').length;
    const reviewsBefore = executions('untrusted-agent-deletions');
    const notificationsBefore = test.pipeline.published.length;
    const opsBefore = test.pipeline.dynamodb.operations.length;
    const flowBefore = test.pipeline.flow.records.length;
    const archivedBefore = test.pipeline.archive.count();

    // WHEN the window is replayed to documents and untrusted-agent-deletions (not agent-activity)
    const result = await localReplay({ from: startedAt, to: new Date(Date.now() + 60_000), targets: [documents ?? '', review ?? ''], name: 'incident-42' }, { stateDir: test.stateDir });
    await test.pipeline.settle();

    // THEN every archived event was re-sent; documents took all four, the deletion review its one deletion…
    expect(result).toMatchObject({
      name: 'incident-42',
      state: 'COMPLETED',
      eventsReplayed: 4,
      targets: [documents, review],
      delivered: { [documents ?? '']: 4, [review ?? '']: 1 },
    });
    // …which found its review completed: no second notification, no catalog write
    expect(executions('untrusted-agent-deletions')).toBe(reviewsBefore + 1);
    expect(test.pipeline.published.slice(notificationsBefore)).toEqual([]);
    // agent-activity was not chosen: no audit work at all
    expect(items(test, 'audit')).toHaveLength(auditBefore);
    expect(writes(test, 'PutItem', 'audit', opsBefore)).toEqual([]);
    // the catalog consumer received all four replayed messages…
    const processed = test.pipeline.flow.records.slice(flowBefore).filter((record) => record.source === 'documents/catalog-consumer' && record.status === 'ok');
    expect(processed).toHaveLength(4);
    // …and wrote only the one that never completed (idempotency records skip the other three)
    expect(writes(test, 'UpdateItem', 'catalog', opsBefore)).toEqual([{ workspaceId: 'ws_7f3a9c2e41', fileId: 'file_r4' }]);
    expect(catalogItem(test, 'file_r4')).toMatchObject({ lastEventId: 'evt_r4' });
    // replayed events carry replay-name and are not archived again
    expect(test.pipeline.archive.count()).toBe(archivedBefore);
    const replayed = test.pipeline.flow.records.slice(flowBefore).filter((record) => record.source === 'replay' && record.text.endsWith(`: → ${documents}`));
    expect(replayed).toHaveLength(4);
  });

  it('the archive is a JSON-lines file of every published event with its time', () => {
    const lines = readFileSync(test.pipeline.archive.file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { archivedAt: string; event: Record<string, unknown> });
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      expect(line.archivedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(line.event).toMatchObject({ source: 'fastio', time: expect.stringMatching(/Z$/), detail: { eventId: expect.any(String) } });
      expect(line.event['replay-name']).toBeUndefined();
    }
  });

  it('rejects a bad request before replaying anything', async () => {
    await expect(localReplay({ from: new Date(), to: new Date(Date.now() - 1000), targets: [documents ?? ''] }, { url: test.pipeline.url })).rejects.toThrow('from must be before to');
    await expect(localReplay({ from: startedAt, to: new Date(), targets: ['nope/queue'] }, { url: test.pipeline.url })).rejects.toThrow(/unknown target\(s\) nope\/queue/);
    await expect(localReplay({ from: startedAt, to: new Date(), targets: [] }, { url: test.pipeline.url })).rejects.toThrow(/choose where replayed events go/);
  });
});
