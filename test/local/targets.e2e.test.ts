/**
 * Target kinds beyond the sample chains, end to end through the local pipeline: an API destination
 * (`http`) really called on loopback with its input transformer applied, a target by ARN recorded as
 * delivered, and an API destination that keeps failing, dead-lettered and redriven to that target
 * alone. The app is synthesized with a table holding such a route (synthesized-assembly.ts), so the
 * pipeline runs what lib/targets deploys.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOCAL_AUTHORIZATION_PLACEHOLDER } from '../../lib/local/api-destination';
import { LOCAL_DIR_ENV_VAR, localArnDeliveries, localReplay } from '../../lib/local/control-client';
import type { CommandIo } from '../../lib/ops/command';
import { redriveLocally } from '../../lib/ops/local-recovery';
import { routeTable, type Route } from '../../lib/route-table';
import { TARGET_RETRY_POLICY } from '../../lib/targets/target-support';
import { synthesizedAssembly, type SynthesizedAssembly } from './synthesized-assembly';
import { dlqDepth, fixturePayload, send, startTestPipeline, waitFor, type TestPipeline } from './support';

const ROUTE = 'webhooks-out';
const ELSEWHERE_QUEUE = 'arn:aws:sqs:us-east-1:111122223333:their-queue';
const TARGET_DLQ = `${ROUTE}/hook/target-dlq`;
const PUBLIC_URL = 'https://hooks.example.com/uploads';

// The app needs one handler of its own (its operator policy names them); documents is the shipped route.
const documents = routeTable.find((route) => route.name === 'documents') as Route;
const webhooksOut: Route = {
  name: ROUTE,
  description: 'PDF uploads announced to a webhook and copied to a queue in another account.',
  pattern: { source: ['fastio'], 'detail-type': ['file.uploaded'], detail: { extension: ['pdf'] } },
  targets: [
    {
      kind: 'http',
      name: 'hook',
      url: PUBLIC_URL,
      method: 'PUT',
      authorization: { type: 'api-key', headerName: 'x-api-key', secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:receiver-key-AbCdEf' },
      input: {
        paths: { id: '$.detail.eventId', name: '$.detail.fileName', size: '$.detail.sizeBytes' },
        template: '{\n  "file": <name>,\n  "sizeBytes": <size>,\n  "event": <id>,\n  "rule": "rule <aws.events.rule-name>"\n}',
      },
    },
    { kind: 'queue', name: 'their-queue', queueArn: ELSEWHERE_QUEUE, encryption: 'sqs-managed', input: { path: '$.detail' } },
  ],
  samples: {
    matching: [{ 'detail-type': 'file.uploaded', detail: { eventId: 'evt-1', workspaceId: 'ws-1', fileId: 'f-1', extension: 'pdf' } }],
    notMatching: [{ 'detail-type': 'file.uploaded', detail: { eventId: 'evt-2', workspaceId: 'ws-1', fileId: 'f-2', extension: 'png' } }],
  },
};

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

/** A loopback HTTP receiver answering `status` (200 unless told otherwise), recording every request. */
const receiver = { status: 200, requests: [] as Received[], server: undefined as Server | undefined, url: '' };

let assembly: SynthesizedAssembly;
let test: TestPipeline;

beforeAll(async () => {
  receiver.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = receiver.status;
      receiver.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'unavailable');
    });
  });
  await new Promise<void>((resolve) => receiver.server?.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;

  // The receiver's URL cannot be in the table (targets must be https, as API destinations are):
  // the synthesized destination is pointed at loopback afterwards, its only edit.
  assembly = synthesizedAssembly([documents, webhooksOut], (routing) => {
    const destination = Object.values(routing.Resources).find((resource) => resource.Type === 'AWS::Events::ApiDestination' && resource.Properties?.InvocationEndpoint === PUBLIC_URL);
    if (!destination?.Properties) throw new Error('the http target synthesized no API destination');
    destination.Properties.InvocationEndpoint = `${receiver.url}/hooks/uploads`;
  });
  test = await startTestPipeline({ assemblyDir: assembly.dir });
  vi.stubEnv(LOCAL_DIR_ENV_VAR, test.stateDir);
  // Synthesizing the app takes half a minute on a quiet machine; leave room on a busy one.
}, 300_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await test?.stop();
  assembly?.remove();
  await new Promise((resolve) => receiver.server?.close(resolve));
});

beforeEach(() => {
  receiver.status = 200;
});

const upload = (eventId: string) => fixturePayload('document-uploaded', { eventId, fileId: `file_${eventId}` });
const requestsFor = (eventId: string) => receiver.requests.filter((request) => request.body.includes(eventId));
const busIdsOf = (eventId: string) => test.pipeline.bus.published.filter((event) => (event.detail as { eventId?: string }).eventId === eventId).map((event) => event.id);
const arnDeliveriesFor = (eventId: string) => test.pipeline.arnDeliveries.filter((delivery) => busIdsOf(eventId).includes(delivery.eventId));

/**
 * What `dlq redrive <queue> --local` runs once it has resolved the queue name. The CLI resolves names
 * from lib/route-table.ts, which does not have this test's route, so the test starts one step in.
 */
async function redriveLocal(queue: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false };
  return { code: await redriveLocally(queue, undefined, io, false), out, err };
}

describe('http and ARN targets', () => {
  it('PUTs the transformed body to the API destination and records the ARN target with its InputPath', async () => {
    // WHEN a PDF upload arrives
    expect((await send(test, upload('evt_http_1'))).status).toBe(202);
    const [request] = await waitFor(() => (requestsFor('evt_http_1').length > 0 ? requestsFor('evt_http_1') : undefined), 'the receiver to be called');

    // THEN the receiver got exactly the body EventBridge renders (JSON templates are minified),
    // with the destination's method, EventBridge's headers and the local key placeholder
    const rule = test.pipeline.model.rules.find((candidate) => candidate.route === ROUTE);
    expect(request).toMatchObject({ method: 'PUT', url: '/hooks/uploads', body: `{"file":"Q3 Board Report.PDF","sizeBytes":2483017,"event":"evt_http_1","rule":"rule ${rule?.name}"}` });
    expect(request?.headers).toMatchObject({
      'x-api-key': LOCAL_AUTHORIZATION_PLACEHOLDER,
      'idempotency-key': 'evt_http_1',
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
      'content-type': 'application/json; charset=utf-8',
    });

    // AND the target by ARN is recorded with the event's detail (its InputPath), listed by the control endpoint
    const event = test.pipeline.bus.published.find((candidate) => (candidate.detail as { eventId?: string }).eventId === 'evt_http_1');
    await test.pipeline.settle();
    const recorded = await localArnDeliveries({ route: ROUTE });
    expect(recorded.filter((delivery) => delivery.eventId === event?.id)).toEqual([
      { at: expect.any(String), route: ROUTE, target: 'their-queue', arn: ELSEWHERE_QUEUE, eventId: event?.id, body: JSON.stringify(event?.detail) },
    ]);
    expect(test.pipeline.flow.records.some((record) => record.source === ROUTE && record.text.endsWith(`delivered to ${ELSEWHERE_QUEUE}`))).toBe(true);
  });

  it('a receiver answering 503 is retried per the retry policy, dead-lettered, and redriven to that target alone', async () => {
    // GIVEN a receiver that is down
    receiver.status = 503;
    expect((await send(test, upload('evt_http_2'))).status).toBe(202);

    // WHEN the retry policy (every target's TARGET_RETRY_POLICY) is exhausted
    await waitFor(() => dlqDepth(test, TARGET_DLQ) === 1, 'the target DLQ');

    // THEN it was tried once and retried that many times, and the ARN target beside it was delivered once
    const attempts = Array<number>(1 + TARGET_RETRY_POLICY.retryAttempts).fill(503);
    expect(requestsFor('evt_http_2').map((request) => request.status)).toEqual(attempts);
    expect(arnDeliveriesFor('evt_http_2')).toHaveLength(1);

    // WHEN the receiver is back and the operator redrives
    receiver.status = 200;
    const published = test.pipeline.bus.published.length;
    const redriven = await redriveLocal(TARGET_DLQ);

    // THEN the receiver got it once more, nothing went back through the bus, the ARN target got nothing new
    expect(redriven.err).toEqual([]);
    expect(redriven.code).toBe(0);
    expect(redriven.out).toEqual([`${TARGET_DLQ} → the http target hook of ${ROUTE}: moved 1 / failed 0 / left 0 (local pipeline)`]);
    expect(requestsFor('evt_http_2').map((request) => request.status)).toEqual([...attempts, 200]);
    // every attempt and the redrive carried the same Idempotency-Key
    expect(new Set(requestsFor('evt_http_2').map((request) => request.headers['idempotency-key']))).toEqual(new Set(['evt_http_2']));
    expect(test.pipeline.bus.published.length).toBe(published);
    expect(arnDeliveriesFor('evt_http_2')).toHaveLength(1);
    expect(dlqDepth(test, TARGET_DLQ)).toBe(0);
  });

  it('a 400 is not retried: the event goes to the target DLQ after one request', async () => {
    // GIVEN a receiver that rejects the request (API destinations retry only 429 and 5xx)
    receiver.status = 400;
    expect((await send(test, upload('evt_http_3'))).status).toBe(202);

    // THEN
    await waitFor(() => dlqDepth(test, TARGET_DLQ) === 1, 'the target DLQ');
    expect(requestsFor('evt_http_3').map((request) => request.status)).toEqual([400]);
    const message = test.pipeline.peek(TARGET_DLQ).find((candidate) => (candidate.event?.detail as { eventId?: string } | undefined)?.eventId === 'evt_http_3');
    expect(message?.failure).toMatchObject({ errorCode: 'HTTP_400', exhaustedRetryCondition: undefined, retryAttempts: '0' });
  });

  it("a replay of the route reaches the queue by ARN and never the http receiver, whose rule skips replays", async () => {
    // GIVEN an upload both targets received once
    expect((await send(test, upload('evt_http_4'))).status).toBe(202);
    await waitFor(() => (requestsFor('evt_http_4').length === 1 && arnDeliveriesFor('evt_http_4').length === 1 ? true : undefined), 'both targets to receive it');

    // WHEN the window is replayed to both targets of the route (an http target skips replays by default)
    const replay = await localReplay(
      { from: new Date(Date.now() - 10 * 60_000), to: new Date(Date.now() + 60_000), targets: [`${ROUTE}/hook`, `${ROUTE}/their-queue`], name: 'targets-e2e-replay' },
      { url: test.pipeline.url },
    );
    await test.pipeline.settle();

    // THEN the http target's rule matched no replayed copy: the receiver was not called again
    expect(replay.delivered[`${ROUTE}/hook`] ?? 0).toBe(0);
    expect(replay.notMatched[`${ROUTE}/hook`]).toBeGreaterThanOrEqual(1);
    expect(requestsFor('evt_http_4')).toHaveLength(1);
    // AND the queue by ARN took the copy, as its default (deliver) says
    expect(replay.delivered[`${ROUTE}/their-queue`]).toBeGreaterThanOrEqual(1);
    expect(arnDeliveriesFor('evt_http_4')).toHaveLength(2);
  });
});
