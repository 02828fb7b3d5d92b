/**
 * The operator CLI's `--local` flags against the running local pipeline: the same commands an
 * operator types during an incident, redriving and replaying on this machine.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import type { CommandIo } from '../../lib/ops/command';
import { dlqCommands } from '../../lib/ops/dlq-commands';
import { replayCommands } from '../../lib/ops/replay-commands';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import { catalogItem, dlqDepth, fixturePayload, send, startTestPipeline, waitFor, writes, type TestPipeline } from './support';

let test: TestPipeline;
const previousDir = process.env[LOCAL_DIR_ENV_VAR];
beforeAll(async () => {
  test = await startTestPipeline();
  // The CLI finds the pipeline through pipeline.json in the state directory, as after `npm start`.
  process.env[LOCAL_DIR_ENV_VAR] = test.stateDir;
});
afterAll(async () => {
  if (previousDir === undefined) delete process.env[LOCAL_DIR_ENV_VAR];
  else process.env[LOCAL_DIR_ENV_VAR] = previousDir;
  await test?.stop();
});
afterEach(() => {
  test.pipeline.faults.remove();
});

async function ops(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false };
  const code = await runCli([...dlqCommands, ...replayCommands], argv, io);
  return { code, out, err };
}

describe('ops --local', () => {
  it('dlq list, peek and redrive bring back a message a broken consumer dead-lettered', async () => {
    // GIVEN a consumer that cannot write, which dead-letters a document after its receives
    test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    expect((await send(test, fixturePayload('document-uploaded', { eventId: 'evt_ops_1', fileId: 'file_ops_1' }))).status).toBe(202);
    await waitFor(() => dlqDepth(test, 'documents/buffer-dlq') === 1, 'the buffer DLQ');

    // WHEN the operator looks
    const listed = await ops('dlq', 'list', '--local', '--json');
    const peeked = await ops('dlq', 'peek', 'documents/buffer-dlq', '--local');

    // THEN
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out.join('\n'))).toContainEqual(expect.objectContaining({ name: 'documents/buffer-dlq', depth: 1 }));
    expect(peeked.out.join('\n')).toContain('file.uploaded evt_ops_1');

    // WHEN the consumer is fixed and the operator redrives
    test.pipeline.faults.remove();
    const redriven = await ops('dlq', 'redrive', 'documents/buffer-dlq', '--local');

    // THEN the message is catalogued and the DLQ is empty
    expect(redriven).toMatchObject({ code: 0, out: ['documents/buffer-dlq → documents/buffer-queue: moved 1 / failed 0 / left 0 (local pipeline)'] });
    await waitFor(() => catalogItem(test, 'file_ops_1'), 'the catalog item after redrive');
    expect(dlqDepth(test, 'documents/buffer-dlq')).toBe(0);
  });

  it('replay start --local re-sends the window to the chosen route only, and idempotency skips completed work', async () => {
    // GIVEN a document that was catalogued normally
    expect((await send(test, fixturePayload('document-uploaded', { eventId: 'evt_ops_2', fileId: 'file_ops_2' }))).status).toBe(202);
    await waitFor(() => catalogItem(test, 'file_ops_2'), 'the catalog item');
    const before = test.pipeline.dynamodb.operations.length;

    // WHEN the last hour is replayed to the documents route
    const replayed = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--route', 'documents', '--local', '--json');

    // THEN the documents rule received the archived events, and the consumer wrote nothing new for completed ones
    expect(replayed.code).toBe(0);
    const result = JSON.parse(replayed.out.join('\n')) as { routes: string[]; delivered: Record<string, number>; eventsReplayed: number };
    expect(result.routes).toEqual(['documents']);
    expect(result.delivered.documents).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(writes(test, 'UpdateItem', 'catalog', before)).toEqual([]);
  });

  it('refuses overrides that only make sense on AWS', async () => {
    const result = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--route', 'documents', '--local', '--bus', 'arn:aws:events:eu-west-1:123456789012:event-bus/x');
    expect(result).toMatchObject({ code: 2, err: ['error: --bus does not apply with --local: it replays the archive of the pipeline `npm start` runs to its rules'] });
  });
});
