/**
 * The recovery log on AWS (lib/ops/aws-recovery-log.ts): what `reconcile --recover` and `dlq redrive`
 * did, one JSON object per action in the recorder bucket under recovery/, stamped with the caller's
 * ARN from STS, and read back by `trace` once the dead letter is gone. Proven by the objects written
 * and by what trace prints afterwards.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { createDlqCommands } from '../../lib/ops/dlq-commands';
import { createReconcileCommand } from '../../lib/ops/reconcile-command';
import { createTraceCommand } from '../../lib/ops/trace-command';
import { parseRecoveryLine, type RecoveryAction } from '../../lib/recorder/recovery-log';
import { routeTable } from '../../lib/route-table';
import { capture, fakeRuntime, queueUrl, type FakeRuntime } from './support';
import { busEvent, completeOnTarget, deadLetterMessage, fakeDeployment, OPERATOR_ARN, type FakeDeployment } from './recorder-support';

const DOCUMENTS = routeTable.filter((route) => route.name === 'documents');
const WINDOW = ['--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z'];
const BUFFER_DLQ = queueUrl('documents', 'queue', 'buffer-dlq');
/** A file name a sender chose: quotes, a newline, shell and path characters. */
const HOSTILE_NAME = `a"b'$(rm -rf ~)\n../../x.pdf`;

let fake: FakeRuntime;
let deployment: FakeDeployment;

const run = async (...argv: string[]) => {
  const captured = capture();
  const commands = [createReconcileCommand(fake.runtime, DOCUMENTS), createTraceCommand(fake.runtime, DOCUMENTS), ...createDlqCommands(fake.runtime, DOCUMENTS)];
  const code = await runCli(commands, argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
};

const logged = (): { key: string; action: RecoveryAction | undefined; body: string }[] =>
  [...deployment.recoveryObjects.entries()].map(([key, body]) => ({ key, body, action: parseRecoveryLine(body.trim()) }));

beforeEach(() => {
  fake = fakeRuntime(new Date('2026-11-22T16:00:00.000Z'));
  deployment = fakeDeployment();
  // GIVEN doc-4 dead-lettered by its consumer, with a sender-chosen file name
  const doc4 = busEvent('doc-4', { extension: 'pdf', sizeBytes: 2048, fileName: HOSTILE_NAME });
  deployment.recorded.push(doc4);
  deployment.queues.set(BUFFER_DLQ, [deadLetterMessage('m-doc-4', doc4)]);
});
afterEach(() => deployment.restore());

describe('the recovery log on AWS', () => {
  it('reconcile --recover writes one object per action under recovery/dt=<day>/, stamped with the caller ARN, the dead letter as it was', async () => {
    // WHEN
    const { code } = await run('reconcile', ...WINDOW, '--recover');
    // THEN
    expect(code).toBe(0);
    const objects = logged();
    expect(objects).toHaveLength(1);
    expect(objects[0]?.key).toMatch(/^recovery\/dt=2026-11-22\/2026-11-22T16-00-00\.000Z-[0-9a-f-]{36}\.json$/);
    expect(objects[0]?.action).toEqual({
      at: '2026-11-22T16:00:00.000Z',
      by: OPERATOR_ARN,
      command: 'reconcile --recover',
      action: 'redrive',
      route: 'documents',
      target: 'queue',
      queue: 'documents/queue/buffer-dlq',
      messageId: 'm-doc-4',
      fastioEventId: 'doc-4',
      outcome: 'delivered',
      deadLetter: { sentAt: '2026-11-22T10:45:00.000Z', reason: expect.stringContaining('the consumer failed it') },
    });
  });

  it('keeps sender-controlled text out of the key and inside the object as JSON data only', async () => {
    deployment.recorded.length = 0;
    const hostileId = `evt-"; rm -rf / #\n../x`;
    const hostile = busEvent(hostileId, { extension: 'pdf', fileName: HOSTILE_NAME });
    deployment.recorded.push(hostile);
    deployment.queues.set(BUFFER_DLQ, [deadLetterMessage('m-hostile', hostile)]);
    await run('reconcile', ...WINDOW, '--recover');
    const [object] = logged();
    expect(object?.key).toMatch(/^recovery\/dt=\d{4}-\d{2}-\d{2}\/[0-9TZ.-]+-[0-9a-f-]{36}\.json$/);
    // One line of JSON: the newline and quotes are escaped, and it parses back to the very id.
    expect(object?.body.trimEnd().split('\n')).toHaveLength(1);
    expect(object?.action?.fastioEventId).toBe(hostileId);
  });

  it('trace shows the dead-lettered attempt and its recovery after the letter is gone', async () => {
    // GIVEN the letter redriven (the consumer completes it) and gone from its queue
    await run('reconcile', ...WINDOW, '--recover');
    expect(deployment.queues.get(BUFFER_DLQ)).toEqual([]);
    // WHEN
    const { code, stdout } = await run('trace', 'doc-4', '--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z');
    // THEN
    expect(code).toBe(0);
    expect(stdout).toMatch(
      new RegExp(
        [
          '    2026-11-22T10:45:00.000Z  dead-lettered in documents/queue/buffer-dlq: the consumer failed it.*',
          `    2026-11-22T16:00:00.000Z  redriven from documents/queue/buffer-dlq by ${OPERATOR_ARN.replace(/[/]/g, '\\/')} \\(reconcile --recover\\): delivered`,
          '    status: completed',
        ].join('\\n'),
      ),
    );
  });

  it('dlq redrive records each message it re-delivered (message by message, --max), and trace shows it', async () => {
    const { code } = await run('dlq', 'redrive', 'documents/queue/buffer-dlq', '--max', '5');
    expect(code).toBe(0);
    expect(logged().map((object) => object.action)).toEqual([
      expect.objectContaining({ by: OPERATOR_ARN, command: 'dlq redrive', action: 'redrive', queue: 'documents/queue/buffer-dlq', messageId: 'm-doc-4', fastioEventId: 'doc-4', outcome: 'delivered' }),
    ]);
    const traced = await run('trace', 'doc-4', '--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z');
    expect(traced.stdout).toContain(`redriven from documents/queue/buffer-dlq by ${OPERATOR_ARN} (dlq redrive): delivered`);
  });

  it('a recovery log that cannot be written is one warning line; the redrive itself stands (exit 0, the letter gone)', async () => {
    deployment.mocks.s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    const { code, stderr } = await run('reconcile', ...WINDOW, '--recover');
    expect(code).toBe(0);
    expect(deployment.queues.get(BUFFER_DLQ)).toEqual([]);
    expect(stderr.split('\n').filter((line) => line.includes('recovery log'))).toEqual([
      '  warning: the recovery log could not record 1 action(s) (trace will not show them): AccessDenied',
    ]);
  });

  it('a completed event with no recovery shows no recovery line', async () => {
    deployment.queues.set(BUFFER_DLQ, []);
    completeOnTarget(deployment.items, 'documents', 'queue', 'doc-4');
    const { stdout } = await run('trace', 'doc-4', '--from', '2026-11-22T10:00:00Z', '--to', '2026-11-22T11:00:00Z');
    expect(stdout).not.toContain('redriven');
    expect(deployment.recoveryObjects.size).toBe(0);
  });
});
