/**
 * The operator CLI's `--local` flags against the running local pipeline: the same commands an
 * operator types during an incident, redriving and replaying on this machine.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import type { CommandIo } from '../../lib/ops/command';
import { dlqCommands } from '../../lib/ops/dlq-commands';
import { faultsCommands } from '../../lib/ops/faults-commands';
import { sendCommand } from '../../lib/ops/sign-command';
import { replayCommands } from '../../lib/ops/replay-commands';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import { targetAcceptsReplays } from '../../lib/domain/route-types';
import { routeTable, targetName } from '../../lib/route-table';
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
  const code = await runCli([sendCommand, ...dlqCommands, ...replayCommands, ...faultsCommands], argv, io);
  return { code, out, err };
}

describe('ops --local', () => {
  it('dlq list, peek and redrive bring back a message a broken consumer dead-lettered', async () => {
    // GIVEN a consumer that cannot write, which dead-letters a document after its receives
    test.pipeline.faults.add({ service: 'dynamodb', operation: 'UpdateItem', table: 'catalog', errorCode: 'ResourceNotFoundException', message: 'Requested resource not found' });
    expect((await send(test, fixturePayload('document-uploaded', { eventId: 'evt_ops_1', fileId: 'file_ops_1' }))).status).toBe(202);
    await waitFor(() => dlqDepth(test, 'documents/queue/buffer-dlq') === 1, 'the buffer DLQ');

    // WHEN the operator looks
    const listed = await ops('dlq', 'list', '--local', '--json');
    const peeked = await ops('dlq', 'peek', 'documents/queue/buffer-dlq', '--local');

    // THEN
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out.join('\n'))).toContainEqual(expect.objectContaining({ name: 'documents/queue/buffer-dlq', depth: 1 }));
    expect(peeked.out.join('\n')).toContain('file.uploaded evt_ops_1');

    // WHEN the consumer is fixed and the operator redrives
    test.pipeline.faults.remove();
    const redriven = await ops('dlq', 'redrive', 'documents/queue/buffer-dlq', '--local');

    // THEN the message is catalogued and the DLQ is empty
    expect(redriven).toMatchObject({ code: 0, out: ['documents/queue/buffer-dlq → documents/queue/buffer-queue: moved 1 / failed 0 / left 0 (local pipeline)'] });
    await waitFor(() => catalogItem(test, 'file_ops_1'), 'the catalog item after redrive');
    expect(dlqDepth(test, 'documents/queue/buffer-dlq')).toBe(0);
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
    const result = JSON.parse(replayed.out.join('\n')) as { targets: string[]; delivered: Record<string, number>; eventsReplayed: number; plan: { handle: string; receives: boolean }[] };
    const documentsTargets = localTargetsOf('documents');
    expect(result.targets).toEqual(documentsTargets);
    // --json carries the plan the text form prints before starting, as on AWS
    expect(result.plan.filter((entry) => entry.receives).map((entry) => entry.handle)).toEqual(documentsTargets);
    for (const handle of documentsTargets) expect(result.delivered[handle]).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(writes(test, 'UpdateItem', 'catalog', before)).toEqual([]);
  });

  it('refuses overrides that only make sense on AWS', async () => {
    const result = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--route', 'documents', '--local', '--bus', 'arn:aws:events:eu-west-1:123456789012:event-bus/x');
    expect(result).toMatchObject({ code: 2, err: ['error: --bus does not apply with --local: it replays the archive of the pipeline `npm start` runs to its rules'] });
  });
});

/** The `<route>/<target>` handles of a route's targets that take replays: what `replay start --route` sends to. */
function localTargetsOf(routeName: string): string[] {
  const route = routeTable.find((candidate) => candidate.name === routeName);
  if (route === undefined) throw new Error(`no route ${routeName} in routeTable`);
  return route.targets.filter((target) => targetAcceptsReplays(route, target)).map((target) => `${route.name}/${targetName(target)}`);
}

/** The `npm run -s ops -- …` lines of a README section's first code block, as argument lists. */
function readmeOpsCommands(heading: string): string[][] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf(`### ${heading}\n`));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .filter((line) => line.startsWith('npm run -s ops -- '))
    .map((line) => line.slice('npm run -s ops -- '.length).replace(/\s+#.*$/, '').trim().split(/\s+/));
}

describe('README: see a dead letter locally', () => {
  it('every command of the drill works, in order, and the dead letter is delivered in the end', async () => {
    const commands = readmeOpsCommands('See a dead letter locally');
    expect(commands.map((argv) => argv.slice(0, 2).join(' '))).toEqual(['faults add', 'send test/fixtures/payloads/document-uploaded.json', 'dlq list', 'dlq peek', 'faults clear', 'dlq redrive']);
    const results: { code: number; out: string[]; err: string[] }[] = [];
    for (const argv of commands) {
      results.push(await ops(...argv));
      expect(results.at(-1)?.code, `npm run -s ops -- ${argv.join(' ')}: ${results.at(-1)?.err.join(' ')}`).toBe(0);
      if (argv[0] === 'send') await waitFor(() => dlqDepth(test, 'documents/queue/target-dlq') === 1, 'the target DLQ');
    }
    const [, sent, listed, peeked, , redriven] = results;
    expect(sent?.out[0]).toBe('HTTP 202 Accepted');
    expect(listed?.out.find((line) => line.startsWith('documents/queue/target-dlq'))).toMatch(/^documents\/queue\/target-dlq\s+1\s/);
    expect(peeked?.out.join('\n')).toContain('errorCode: NO_PERMISSIONS');
    expect(redriven?.out[0]).toMatch(/moved 1 \/ failed 0 \/ left 0/);
    await waitFor(() => catalogItem(test, 'file_2b8d4e6f10'), 'the catalog item after the redrive');
    expect(test.pipeline.faults.list()).toEqual([]);
  });

  it('faults list shows an active fault and how often it fired; faults need --local', async () => {
    expect((await ops('faults', 'add', '--service', 'dynamodb', '--table', 'catalog', '--times', '2', '--local')).code).toBe(0);
    expect((await ops('faults', 'list', '--local')).out).toEqual(['#' + String(test.pipeline.faults.list()[0]?.id) + ' dynamodb table catalog fails 2 call(s) with the default error (0 so far)']);
    expect(await ops('faults', 'list')).toMatchObject({ code: 2, err: ['error: faults are injected into the pipeline `npm start` runs, not into AWS: add --local'] });
    expect(await ops('faults', 'add', '--service', 'lambda', '--local')).toMatchObject({ code: 2, err: ['error: --service must be one of dynamodb, events, sns, sqs, secretsmanager, s3, got "lambda"'] });
  });

  it('faults add refuses a table or queue the pipeline does not have, and faults clear --id a fault that is not active: one line, exit 2', async () => {
    const table = await ops('faults', 'add', '--service', 'dynamodb', '--table', 'nosuch', '--local');
    expect(table).toMatchObject({ code: 2, err: [expect.stringMatching(/^error: no local table "nosuch"; tables: \S/)] });
    const queue = await ops('faults', 'add', '--service', 'sqs', '--queue', 'no-such/queue', '--local');
    expect(queue).toMatchObject({ code: 2, out: [], err: [expect.stringMatching(/^error: no local queue "no-such\/queue"; queues SQS SendMessage reaches: \S/)] });
    const notSqs = await ops('faults', 'add', '--service', 'dynamodb', '--queue', 'no-such/queue', '--local');
    expect(notSqs).toMatchObject({ code: 2, err: ['error: --queue applies to --service sqs only (SendMessage to that queue), not dynamodb'] });
    const cleared = await ops('faults', 'clear', '--id', '99', '--local');
    expect(cleared).toMatchObject({ code: 2, err: ['error: no fault #99: no faults are active (faults list --local shows them)'] });
    expect(test.pipeline.faults.list()).toEqual([]);
  });
});

describe('send --local says what the pipeline did with the delivery', () => {
  it.each([
    ['a Fast.io event', readFileSync('test/fixtures/payloads/document-uploaded.json', 'utf8'), /^local pipeline: accepted, published as file\.uploaded event [0-9a-f-]{36}$/],
    ['a body that is not JSON', 'this is not json', /^local pipeline: quarantined \(not-json\): authentic but not a usable Fast\.io event, published as fastio\.quarantined event [0-9a-f-]{36} instead of its event type$/],
  ])('GIVEN %s WHEN sent THEN the last line names the outcome read from the archived event', async (_name, body, line) => {
    const dir = mkdtempSync(join(tmpdir(), 'send-outcome-'));
    const file = join(dir, 'payload.json');
    writeFileSync(file, body);
    const sent = await ops('send', file, '--local');
    rmSync(dir, { recursive: true, force: true });
    expect(sent.code).toBe(0);
    expect(sent.out[0]).toBe('HTTP 202 Accepted');
    expect(sent.out.at(-1)).toMatch(line);
  });

  it('--json carries the outcome and the quarantine reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'send-outcome-'));
    const file = join(dir, 'payload.json');
    writeFileSync(file, '[1, 2]');
    const sent = await ops('send', file, '--local', '--json');
    rmSync(dir, { recursive: true, force: true });
    expect(JSON.parse(sent.out.join('\n'))).toMatchObject({ status: 202, outcome: 'quarantined', reason: 'not-an-object', detailType: 'fastio.quarantined' });
  });
});

describe('replay --local behaves as on AWS', () => {
  it('refuses a window older than the synthesized archive retention', async () => {
    const retention = test.pipeline.model.archive.retentionDays;
    expect(retention).toBeGreaterThan(0);
    const result = await ops('replay', 'start', `--from=-${(retention ?? 0) + 1}d`, '--to=-1d', '--route', 'documents', '--local');
    expect(result.code).toBe(2);
    expect(result.err).toEqual([expect.stringMatching(new RegExp(`^error: --from \\(.*\\) is older than the archive's retention of ${retention} days`))]);
  });

  it('replay status and replay list show a local replay', async () => {
    const started = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--route', 'documents', '--name', 'local-status-1', '--local');
    expect(started.code).toBe(0);

    const status = await ops('replay', 'status', 'local-status-1', '--local', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out.join('\n'))).toMatchObject({ replayName: 'local-status-1', state: 'COMPLETED', targets: localTargetsOf('documents') });

    const listed = await ops('replay', 'list', '--local');
    expect(listed.out.find((line) => line.startsWith('local-status-1'))).toMatch(/^local-status-1\s+COMPLETED\s/);

    expect(await ops('replay', 'status', 'no-such-replay', '--local')).toMatchObject({ code: 1, err: ['error: replay no-such-replay not found (replay list --local shows the existing ones)'] });
  });
});
