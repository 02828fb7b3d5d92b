/**
 * The shipped fan-out route, `video-uploads`, with its Slack target configured and pointed at a
 * loopback receiver that counts: a replay of the route re-sends the window to the catalog (which
 * redoes nothing it finished) and never posts to the channel again, because each target has a rule
 * of its own and the http target's rule filters replayed copies out (DESIGN decision 17).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import { startLoopbackReceiver, type LoopbackReceiver } from '../../lib/local/load-driver';
import type { CommandIo } from '../../lib/ops/command';
import { runCli } from '../../lib/ops/cli';
import { replayCommands } from '../../lib/ops/replay-commands';
import { routeTable, type Route } from '../../lib/route-table';
import { SLACK_CONTEXT, httpTargetsAt, synthesizedAssembly, type SynthesizedAssembly } from './synthesized-assembly';
import { catalogItem, fixturePayload, send, startTestPipeline, waitFor, writes, type TestPipeline } from './support';

const ROUTE = 'video-uploads';
const videoUploads = routeTable.find((route) => route.name === ROUTE) as Route;

let receiver: LoopbackReceiver;
let assembly: SynthesizedAssembly;
let test: TestPipeline;
/** The bodies the Slack target posted. */
const received = () => receiver.receipts.map((receipt) => receipt.body);

beforeAll(async () => {
  receiver = await startLoopbackReceiver();
  // Configured as README's Slack section says; the destination is then pointed at loopback, its only edit.
  assembly = synthesizedAssembly([videoUploads], httpTargetsAt(receiver.url), SLACK_CONTEXT);
  test = await startTestPipeline({ assemblyDir: assembly.dir });
  vi.stubEnv(LOCAL_DIR_ENV_VAR, test.stateDir);
}, 300_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await test?.stop();
  assembly?.remove();
  await receiver?.close();
});

async function ops(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false };
  return { code: await runCli(replayCommands, argv, io), out, err };
}

const video = (eventId: string) => fixturePayload('document-uploaded', { eventId, fileId: `file_${eventId}`, fileName: 'Bob "final" cut.mp4' });

describe('replaying the fan-out route', () => {
  it('replay start --route video-uploads reaches the catalog and never posts to Slack again', async () => {
    // GIVEN a video catalogued and announced once (the announcement's body is valid JSON with the name as written)
    expect((await send(test, video('evt_fan_1'))).status).toBe(202);
    await waitFor(() => catalogItem(test, 'file_evt_fan_1'), 'the catalog item');
    const [announcement] = await waitFor(() => (received().length > 0 ? received() : undefined), 'the Slack announcement');
    expect(JSON.stringify(JSON.parse(announcement ?? ''))).toContain('Bob \\"final\\" cut.mp4');
    const postsBefore = received().length;
    const catalogWritesBefore = test.pipeline.dynamodb.operations.length;

    // WHEN the route is replayed
    const replayed = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--route', ROUTE, '--local');

    // THEN the plan said before it started that the catalog receives and Slack skips, and so it went
    expect(replayed.code, replayed.err.join('\n')).toBe(0);
    const said = replayed.out.join('\n');
    expect(said).toMatch(new RegExp(`^  receives  ${ROUTE}/catalog +queue catalog-consumer: `, 'm'));
    expect(said).toMatch(new RegExp(`^  skips     ${ROUTE}/slack +http .*: `, 'm'));
    expect(said).toMatch(new RegExp(`^  ${ROUTE}/catalog: [1-9]\\d* delivered$`, 'm'));
    expect(said).not.toMatch(new RegExp(`^  ${ROUTE}/slack: `, 'm'));
    await test.pipeline.settle();
    expect(received()).toHaveLength(postsBefore);
    expect(received().filter((body) => body.includes('Bob'))).toHaveLength(1);
    // AND the catalog consumer redid nothing it had finished
    expect(writes(test, 'UpdateItem', 'catalog', catalogWritesBefore)).toEqual([]);
  });

  it('--target slack is refused before anything starts: the only target named skips replays', async () => {
    const postsBefore = received().length;
    const refused = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--route', ROUTE, '--target', 'slack', '--local');
    expect(refused.code).toBe(2);
    expect(refused.err.at(-1)).toMatch(/^error: no chosen target takes replay copies \(.*video-uploads\/slack: an http target skips replays by default .*\): nothing to replay$/);
    expect(received()).toHaveLength(postsBefore);
  });
});
