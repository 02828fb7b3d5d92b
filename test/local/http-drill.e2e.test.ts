/**
 * The incident drill of an http target (issue 19), as README's "Drill an http target" shows it: the
 * shipped video-uploads/slack target configured at a loopback receiver (test/local/http-drill-setup.ts;
 * `ops receive`, trusted by the pipeline through its generated certificate) that answers 503 for a
 * while, then recovers, then fails
 * for good. Through the local pipeline and the real CLI commands:
 * - while it fails and EventBridge retries, `reconcile --local` lists the event `pending` (exit 3);
 * - once it answers, the event is `confirmed` by the bus-log success record (exit 0);
 * - failing for good, the event ends `dead-lettered` (exit 1, the hint keeps --local), `--recover`
 *   redrives it, and `trace` shows the attempts, the dead letter, the recovery and the confirmation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DIR_ENV_VAR } from '../../lib/local/control-client';
import { startPipeline, type LocalPipeline } from '../../lib/local/pipeline';
import { startReceiver, type Receiver } from '../../lib/local/receiver';
import { runCli } from '../../lib/ops/cli';
import { LocalRecorderSource } from '../../lib/ops/recorder-local-sources';
import { createReconcileCommand } from '../../lib/ops/reconcile-command';
import { createTraceCommand } from '../../lib/ops/trace-command';
import { routeTable, type Route } from '../../lib/route-table';
import { synthesizedAssembly, type SynthesizedAssembly } from './synthesized-assembly';
import { HTTP_DRILL } from './http-drill-setup';
import { dlqDepth, fixturePayload, send, waitFor, type TestPipeline } from './support';

const ROUTE = HTTP_DRILL.route;
const TARGET = HTTP_DRILL.target;
const TARGET_DLQ = `${ROUTE}/${TARGET}/target-dlq`;
/** Retries back off 1 s, 2 s, … (about 4 min for 8): at 1/100 they take 2.5 s, the 2 h horizon 72 s. */
const TIME_SCALE = HTTP_DRILL.timeScale;

let receiver: Receiver;
let assembly: SynthesizedAssembly;
let pipeline: LocalPipeline;
let test: TestPipeline;
const table: Route[] = [...routeTable];
const stateDir = mkdtempSync(join(tmpdir(), 'fastio-http-drill-'));
const previousDir = process.env[LOCAL_DIR_ENV_VAR];

beforeAll(async () => {
  receiver = await startReceiver({ stateDir, port: 0, status: HTTP_DRILL.failingStatus });
  // README's drill: the shipped table with its Slack target configured at the loopback receiver.
  assembly = synthesizedAssembly(table, undefined, HTTP_DRILL.context(receiver.url));
  pipeline = await startPipeline({ port: 0, stateDir, synth: 'never', assemblyDir: assembly.dir, timeScale: TIME_SCALE });
  test = { pipeline, stateDir, stop: () => pipeline.stop() };
  process.env[LOCAL_DIR_ENV_VAR] = stateDir;
}, 300_000);

afterAll(async () => {
  if (previousDir === undefined) delete process.env[LOCAL_DIR_ENV_VAR];
  else process.env[LOCAL_DIR_ENV_VAR] = previousDir;
  await pipeline?.stop();
  await receiver?.stop();
  assembly?.remove();
  rmSync(stateDir, { recursive: true, force: true });
});

async function ops(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line), interactive: false };
  const code = await runCli([createReconcileCommand(undefined, table), createTraceCommand(undefined, table)], argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A video under 100 MiB; its file name carries the event id, so the receiver's requests are told apart by body. */
const upload = (eventId: string) => fixturePayload('document-uploaded', { eventId, fileId: `file_${eventId}`, fileName: `clip_${eventId}.mp4` });
/**
 * The recorder buffers like Firehose (its interval, time-scaled): reconcile sees an event once its
 * buffer is written, so the drill waits for that as an operator waits for the recorder.
 */
const recorded = async (eventId: string) =>
  (await new LocalRecorderSource(stateDir).events({ from: new Date(Date.now() - 600_000), to: new Date() })).some((event) => event.fastioEventId === eventId);
const statuses = (eventId: string) => receiver.requests.filter((request) => request.body.includes(eventId)).map((request) => request.status);

async function waitForAsync(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('http target drill', () => {
  it('pending while the receiver fails (exit 3), confirmed by the bus log once it answers (exit 0)', async () => {
    expect((await send(test, upload('evt_hook_1'))).status).toBe(202);
    await waitFor(() => statuses('evt_hook_1').length > 0, 'the first attempt');
    await waitForAsync(() => recorded('evt_hook_1'), 'the flight recorder');

    const during = await ops('reconcile', '--from', '-10m', '--to', 'now', '--local', '--route', ROUTE);
    expect(during.code, `${during.out}\n${during.err}`).toBe(3);
    expect(during.out).toMatch(new RegExp(`^${ROUTE}/${TARGET}\\s+1\\s+0\\s+0\\s+0\\s+1\\s`, 'm'));
    // `--to now` ends within the recorder's buffer: the rerun names the window as checked, so it can come out clean.
    expect(during.out).toMatch(/^recorder buffer: the recorder may not have written the window's last [\d.]+ s yet/m);
    expect(during.err).toMatch(/run it again after \S+: npm run -s ops -- reconcile --from \S+Z --to \S+Z --route video-uploads --local$/);

    receiver.setStatus(200);
    await waitFor(() => statuses('evt_hook_1').includes(200), 'a successful retry', 30_000);
    await pipeline.settle();
    // A window is clean once the recorder's buffer interval has passed since its end.
    const to = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, pipeline.recorder.bufferMs + 50));
    const after = await ops('reconcile', '--from', '-10m', '--to', to, '--local', '--route', ROUTE);
    expect(after.code, after.err).toBe(0);
    expect(after.out).toMatch(new RegExp(`^${ROUTE}/${TARGET}\\s+1\\s+0\\s+1\\s`, 'm'));
  }, 60_000);

  it('failing for good: dead-lettered (exit 1, hint with --local), --recover redrives it, trace tells attempts, dead letter, recovery, confirmation', async () => {
    receiver.setStatus(503);
    expect((await send(test, upload('evt_hook_2'))).status).toBe(202);
    await waitFor(() => dlqDepth(test, TARGET_DLQ) === 1, 'the target DLQ', 30_000);
    await waitForAsync(() => recorded('evt_hook_2'), 'the flight recorder');

    const failed = await ops('reconcile', '--from', '-10m', '--to', 'now', '--local', '--route', ROUTE);
    expect(failed.code).toBe(1);
    // Issue 19 finding 7: the hint printed a command without --local.
    expect(failed.err).toMatch(/recover them with: npm run -s ops -- reconcile --from -10m --to now --route video-uploads --local --recover$/);

    receiver.setStatus(200);
    const recovered = await ops('reconcile', '--from', '-10m', '--to', 'now', '--route', ROUTE, '--local', '--recover');
    expect(recovered.code, `${recovered.out}\n${recovered.err}`).toBe(0);
    expect(statuses('evt_hook_2').at(-1)).toBe(200);
    expect(dlqDepth(test, TARGET_DLQ)).toBe(0);

    const traced = await ops('trace', 'evt_hook_2', '--local');
    expect(traced.code).toBe(0);
    expect(traced.out).toMatch(
      new RegExp(
        [
          `route ${ROUTE} matched\\n(?:.*\\n)*?  ${TARGET} \\(.*\\)`,
          '(    \\S+  EventBridge: attempt failed, retrying \\(attempt \\d\\): .*HTTP_503.*\\n)+    \\S+  EventBridge: gave up, sent to the dead-letter queue \\(attempt 9\\).*',
          `    \\S+  dead-lettered in ${TARGET_DLQ}: HTTP_503.*`,
          `    \\S+  redriven from ${TARGET_DLQ} by .+ \\(local\\) \\(reconcile --recover\\): delivered`,
          '    status: confirmed: re-delivered .*',
        ].join('\\n'),
      ),
    );
  }, 60_000);
});
