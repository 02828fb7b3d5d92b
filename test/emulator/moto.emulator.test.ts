/**
 * The operator CLI and the real ingest bundle against moto (`npm run test:emulator`, not part of
 * `npm test`): every AWS call goes over HTTP to an AWS implementation nobody here wrote, reached only
 * through AWS_ENDPOINT_URL, with the queue URLs moto's CloudFormation put in the stack outputs
 * (sqs.us-east-1.amazonaws.com). Outcomes are checked by their effects in moto.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultRuntime, type OpsRuntime } from '../../lib/ops/aws-runtime';
import { runCli } from '../../lib/ops/cli';
import type { OpsCommand } from '../../lib/ops/command';
import { createDlqCommands } from '../../lib/ops/dlq-commands';
import { createReplayCommands } from '../../lib/ops/replay-commands';
import { deadLetterOutputKeys, findDeadLetterQueue, StackOutputs } from '../../lib/ops/deployment';
import { AwsRecoverySink, SqsDeadLetterSource } from '../../lib/ops/recorder-aws-sources';
import { trackedTargets, type TrackedTarget } from '../../lib/recorder/sources';
import { routeTable } from '../../lib/route-table';
import { targetOutputKey } from '../../lib/stack-outputs';
import { CREDENTIALS, REGION, deployToMoto, ingestBundle, startMoto, type Moto, type MotoDeployment } from './moto';

const ROOT = new URL('../..', import.meta.url).pathname;
const CDK_OUT = join(ROOT, 'cdk.out');

let moto: Moto;
let deployment: MotoDeployment;
let sqs: SQSClient;

const runtime: OpsRuntime = { ...defaultRuntime, pollIntervalMs: 200 };
const commands: OpsCommand[] = [...createDlqCommands(runtime), ...createReplayCommands(runtime)];

async function ops(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(commands, argv, { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A target's queue by its CLI handle, e.g. 'documents/queue/buffer-dlq', or its buffer ('documents/queue/buffer'). */
const queueUrl = (handle: string) => {
  if (handle.endsWith('/buffer')) {
    const [route = '', target = ''] = handle.split('/');
    return deployment.routing.get(targetOutputKey(route, target, 'BufferQueueUrl')) ?? '';
  }
  return deployment.routing.get(deadLetterOutputKeys(findDeadLetterQueue(handle)).url) ?? '';
};

/** Receives and deletes everything in a queue: what a consumer would get. */
async function take(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const page = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }));
    if (!page.Messages?.length) return all;
    for (const message of page.Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    all.push(...page.Messages);
  }
}

async function depth(url: string): Promise<number> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

const eventIds = (messages: readonly Message[]) => messages.map((message) => (JSON.parse(message.Body ?? '{}') as { detail?: { eventId?: string } }).detail?.eventId).sort();

/** The ingest bundle esbuild produced for Lambda, run in its own Node process with its template environment. */
async function invokeIngest(body: string, headers: Record<string, string>): Promise<{ statusCode: number; body: string }> {
  const { entry, environment } = ingestBundle(CDK_OUT);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (typeof value === 'string') env[name] = value;
    else {
      const output = (value as { 'Fn::GetStackOutput'?: { OutputName: string } })['Fn::GetStackOutput'];
      if (!output) throw new Error(`cannot resolve ${name} of the ingest function: ${JSON.stringify(value)}`);
      env[name] = deployment.stateful.get(output.OutputName) ?? '';
    }
  }
  delete env.NODE_OPTIONS;
  const event = {
    version: '2.0',
    routeKey: 'POST /webhooks/fastio',
    rawPath: '/webhooks/fastio',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method: 'POST', path: '/webhooks/fastio', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'moto-test' }, requestId: `req-${Date.now()}`, routeKey: 'POST /webhooks/fastio', stage: '$default', timeEpoch: Date.now() },
    body,
    isBase64Encoded: false,
  };
  const script = `const { handler } = await import(${JSON.stringify(entry)}); let input = ''; for await (const chunk of process.stdin) input += chunk; const result = await handler(JSON.parse(input), { awsRequestId: 'moto', functionName: 'ingest', getRemainingTimeInMillis: () => 6000 }); process.stdout.write('\\nRESULT ' + JSON.stringify(result) + '\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey, AWS_LAMBDA_FUNCTION_NAME: 'ingest' },
    // The event goes through stdin: a large body would overflow the environment's size limit.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(JSON.stringify(event));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
  if (!line) throw new Error(`the ingest bundle exited ${code} without a result: ${stderr.slice(-2_000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as { statusCode: number; body: string };
}

const sign = (body: string, secret: string) => ({ 'x-fastio-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` });

beforeAll(async () => {
  if (!existsSync(join(CDK_OUT, 'manifest.json'))) throw new Error('npm run test:emulator reads the synthesized app: run npm run synth first');
  moto = await startMoto();
  vi.stubEnv('AWS_ENDPOINT_URL', moto.endpoint);
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_PROFILE', '');
  deployment = await deployToMoto(moto.endpoint, CDK_OUT);
  // The test's own client, like anyone's with an endpoint override: no queue-URL host.
  sqs = new SQSClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await moto?.stop();
});

describe('the deployment in moto', () => {
  it('has the stack outputs the CLI reads, with queue URLs on the AWS host', () => {
    expect(deployment.archiveArn).toMatch(/^arn:aws:events:us-east-1:\d{12}:archive\/dev-fastio-all$/);
    expect(queueUrl('documents/queue/buffer-dlq')).toMatch(/^https:\/\/sqs\.us-east-1\.amazonaws\.com\//);
  });
});

describe('the ingest bundle', () => {
  it('publishes a correctly signed webhook, which the documents rule delivers to its buffer', async () => {
    const payload = readFileSync(join(ROOT, 'test/fixtures/payloads/document-uploaded.json'), 'utf8');
    const eventId = (JSON.parse(payload) as { event_id: string }).event_id;

    const accepted = await invokeIngest(payload, sign(payload, deployment.secret));
    const forged = await invokeIngest(payload, sign(payload, 'not-the-secret'));

    expect(accepted.statusCode).toBe(202);
    expect(forged.statusCode).toBe(401);
    expect(eventIds(await take(queueUrl('documents/queue/buffer')))).toEqual([eventId]);
  });

  it('claim-checks a 900 KiB body into the body bucket, and the event carries its reference', async () => {
    const document = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/payloads/document-uploaded.json'), 'utf8')) as Record<string, unknown>;
    const payload = JSON.stringify({ ...document, event_id: 'evt-moto-large', metadata: { notes: 'x'.repeat(900 * 1024) } });

    const accepted = await invokeIngest(payload, sign(payload, deployment.secret));

    expect(accepted.statusCode).toBe(202);
    const [message] = await take(queueUrl('documents/queue/buffer'));
    const detail = (JSON.parse(message?.Body ?? '{}') as { detail: { eventId: string; payload?: unknown; bodyRef: { bucket: string; key: string; sizeBytes: number; sha256: string } } }).detail;
    expect(detail.eventId).toBe('evt-moto-large');
    expect(detail.payload).toBeUndefined();
    expect(detail.bodyRef).toMatchObject({ bucket: deployment.stateful.get('BodyBucketName'), sizeBytes: Buffer.byteLength(payload), sha256: createHash('sha256').update(payload).digest('hex') });
    const stored = await new S3Client({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS, forcePathStyle: true }).send(new GetObjectCommand({ Bucket: detail.bodyRef.bucket, Key: detail.bodyRef.key }));
    expect(await stored.Body?.transformToString()).toBe(payload);
  });
});

describe('dlq commands', () => {
  const deadLetter = (eventId: string) =>
    JSON.stringify({ version: '0', id: `id-${eventId}`, 'detail-type': 'file.uploaded', source: 'fastio', account: '123456789012', time: '2026-11-22T10:30:00Z', region: REGION, resources: [], detail: { eventId, extension: 'pdf' } });

  it('list, peek and redrive move the target DLQ messages back into the buffer queue', async () => {
    const targetDlq = queueUrl('documents/queue/target-dlq');
    const buffer = queueUrl('documents/queue/buffer');
    await take(buffer);
    for (const eventId of ['evt-dlq-1', 'evt-dlq-2']) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: targetDlq, MessageBody: deadLetter(eventId), MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } } }),
      );
    }

    const list = await ops('dlq', 'list', '--json');
    expect(list.code, list.err).toBe(0);
    expect(JSON.stringify(JSON.parse(list.out))).toContain('documents/queue/target-dlq');

    const peek = await ops('dlq', 'peek', 'documents/queue/target-dlq', '-n', '5', '--json');
    expect(peek.code, peek.err).toBe(0);
    expect(peek.out).toContain('evt-dlq-1');
    expect(await depth(targetDlq)).toBe(2);

    const redrive = await ops('dlq', 'redrive', 'documents/queue/target-dlq');
    expect(redrive.code, redrive.err).toBe(0);
    expect(await depth(targetDlq)).toBe(0);
    expect(eventIds(await take(buffer))).toEqual(['evt-dlq-1', 'evt-dlq-2']);
  });

  it('lists a retained queue no output names as orphaned, and redrives it to the target it served as deployed now', async () => {
    // GIVEN a target DLQ an earlier release left behind: the routing stack's name prefix, the app's tags, a letter in it
    const buffer = queueUrl('documents/queue/buffer');
    await take(buffer);
    const orphanName = 'dev-fastio-routing-RoutedocumentsQueueTargetDlqOld-1A2B3C4D5E6F';
    const { QueueUrl: orphanUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: orphanName, tags: { stage: 'dev', route: 'documents', target: 'queue', role: 'target-dlq' } }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: orphanUrl, MessageBody: deadLetter('evt-orphan-1'), MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } } }));

    // WHEN the operator lists the dead-letter queues
    const list = await ops('dlq', 'list', '--json');

    // THEN moto's ListQueues and ListQueueTags give it away as orphaned, with the handle it held
    expect(list.code, list.err).toBe(0);
    const rows = JSON.parse(list.out) as { name: string; orphaned?: string }[];
    expect(rows.filter((row) => row.orphaned !== undefined)).toEqual([expect.objectContaining({ name: orphanName, orphaned: 'was documents/queue/target-dlq' })]);

    // WHEN it is redriven by its queue name
    const redrive = await ops('dlq', 'redrive', orphanName);

    // THEN the letter is in the documents target's buffer as the stack has it now, and the orphan is empty
    expect(redrive.code, redrive.err).toBe(0);
    expect(await depth(orphanUrl)).toBe(0);
    expect(eventIds(await take(buffer))).toEqual(['evt-orphan-1']);
  });

  it('redrives a buffer DLQ message by message with --max (moto has no message move tasks)', async () => {
    const bufferDlq = queueUrl('documents/queue/buffer-dlq');
    await sqs.send(new SendMessageCommand({ QueueUrl: bufferDlq, MessageBody: deadLetter('evt-buffer-1') }));
    const redrive = await ops('dlq', 'redrive', 'documents/queue/buffer-dlq', '--max', '10');
    expect(redrive.code, redrive.err).toBe(0);
    expect(await depth(bufferDlq)).toBe(0);
    expect(eventIds(await take(queueUrl('documents/queue/buffer')))).toEqual(['evt-buffer-1']);
  });

  it("redrives a workflow failure as a new execution of the route's state machine", async () => {
    const failures = queueUrl('large-media/workflow/workflow-failures');
    await sqs.send(new SendMessageCommand({ QueueUrl: failures, MessageBody: JSON.stringify({ executionArn: 'arn:x', error: 'States.TaskFailed', cause: 'boom', input: JSON.parse(deadLetter('evt-wf-1')) }) }));
    const redrive = await ops('dlq', 'redrive', 'large-media/workflow/workflow-failures');
    expect(redrive.code, redrive.err).toBe(0);
    expect(await depth(failures)).toBe(0);
    const sfn = new SFNClient({ region: REGION, endpoint: moto.endpoint, credentials: CREDENTIALS });
    const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: deployment.routing.get(targetOutputKey('large-media', 'workflow', 'StateMachineArn')) }));
    expect(executions.executions).toHaveLength(1);
  });
});

describe('replay commands', () => {
  it('start re-sends the archived webhook to the documents buffer; status, list and cancel see the replay', async () => {
    const buffer = queueUrl('documents/queue/buffer');
    await take(buffer);
    const started = await ops('replay', 'start', '--from', '-1h', '--to', 'now', '--force', '--route', 'documents', '--name', 'moto-replay-1', '--wait', '--json');
    expect(started.code, started.err).toBe(0);
    expect(JSON.parse(started.out)).toMatchObject({ state: 'COMPLETED' });

    // moto replays synchronously; the re-sent event carries replay-name, as on AWS.
    const replayed = (await take(buffer)).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>).filter((event) => event['replay-name'] === 'moto-replay-1');
    // Every webhook the ingest tests above published, the claim-checked one included.
    const published = [(JSON.parse(readFileSync(join(ROOT, 'test/fixtures/payloads/document-uploaded.json'), 'utf8')) as { event_id: string }).event_id, 'evt-moto-large'];
    expect(replayed.map((event) => (event.detail as { eventId: string }).eventId).sort()).toEqual(published.sort());

    const status = await ops('replay', 'status', 'moto-replay-1', '--json');
    expect(status.code, status.err).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ replayName: 'moto-replay-1', state: 'COMPLETED', eventSourceArn: deployment.archiveArn });

    const completed = await ops('replay', 'list', '--state', 'COMPLETED', '--json');
    expect(completed.code, completed.err).toBe(0);
    expect((JSON.parse(completed.out) as { replayName: string }[]).map((replay) => replay.replayName)).toEqual(['moto-replay-1']);

    const cancel = await ops('replay', 'cancel', 'moto-replay-1');
    expect(cancel.code, cancel.err).toBe(0);
    const cancelled = await ops('replay', 'list', '--state', 'CANCELLED', '--json');
    expect((JSON.parse(cancelled.out) as { replayName: string }[]).map((replay) => replay.replayName)).toEqual(['moto-replay-1']);
    expect(JSON.parse((await ops('replay', 'list', '--state', 'COMPLETED', '--json')).out)).toEqual([]);
  });
});

describe('reconcile reads dead letters as SQS keeps them', () => {
  const documents = trackedTargets(routeTable.find((route) => route.name === 'documents') as (typeof routeTable)[number])[0] as TrackedTarget;
  const HANDLE = 'documents/queue/target-dlq';
  const letter = (eventId: string) =>
    JSON.stringify({ version: '0', id: `id-${eventId}`, 'detail-type': 'file.uploaded', source: 'fastio', account: '123456789012', time: '2026-11-22T10:30:00Z', region: REGION, resources: [], detail: { eventId, extension: 'pdf' } });
  const STALE = 12;

  it('with a letter in flight and more than ten stale letters ahead of the wanted one: reports the read incomplete, then redrives the wanted one alone', async () => {
    // GIVEN a target DLQ holding one letter someone is peeking, then 12 stale letters, then the wanted one
    const url = queueUrl(HANDLE);
    const buffer = queueUrl('documents/queue/buffer');
    await take(url);
    await take(buffer);
    // The peeked letter goes in first and is received alone, so its peek hides nothing else.
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: letter('evt-peeked') }));
    const peek = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, VisibilityTimeout: 90 }));
    const peeked = peek.Messages ?? [];
    expect(eventIds(peeked)).toEqual(['evt-peeked']);
    for (let index = 0; index < STALE; index += 1) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: letter(`evt-stale-${index}`) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: letter('evt-wanted') }));
    const routing = new StackOutputs('dev-fastio-routing', deployment.routing);
    const clients = runtime.clients(REGION);
    const source = new SqsDeadLetterSource(clients, routing);

    // WHEN reconcile reads the target's dead letters
    const scan = await source.deadLetters([documents]);

    // THEN every visible letter is read, and the peeked one makes the read incomplete (pending, not missing)
    expect(scan.letters.map((read) => read.fastioEventId).sort()).toEqual([...Array.from({ length: STALE }, (_, index) => `evt-stale-${index}`), 'evt-wanted'].sort());
    expect(scan.inFlight).toEqual([{ queue: HANDLE, route: 'documents', target: 'queue', inFlight: 1 }]);
    expect(await depth(url)).toBe(STALE + 2);

    // WHEN --recover redrives the wanted letter
    const wanted = scan.letters.filter((read) => read.fastioEventId === 'evt-wanted');
    const outcome = await new AwsRecoverySink(clients, routing, source, [documents]).redrive(wanted);

    // THEN it alone is back in the buffer, and the stale letters stay where they were
    expect(outcome).toEqual({ delivered: 1, failures: [] });
    expect(eventIds(await take(buffer))).toEqual(['evt-wanted']);
    expect(await depth(url)).toBe(STALE + 1);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: peeked[0]?.ReceiptHandle }));
    await take(url);
  });
});
