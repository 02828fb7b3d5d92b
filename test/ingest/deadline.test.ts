/**
 * The invocation deadline, against real sockets and no mocks: an AWS endpoint that accepts the
 * connection and never answers must not keep the ingest past its own deadline. The handler answers
 * 503 (Fast.io retries) with its log line and metrics, before Lambda's timeout would have.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { signWebhook } from '../../lib/domain/webhook-signature';
import { CURRENT_SECRET, SECRET_ARN, apiEvent, captureOutput, fixture, lambdaContext, loadHandler, setEnv, type CapturedOutput } from './support';

/** What Lambda would still give the invocation; the handler keeps DEADLINE_SAFETY_MARGIN_MS of it back. */
const REMAINING_MS = 2_000;
const context: Context = { ...lambdaContext, getRemainingTimeInMillis: () => REMAINING_MS };

const ENDPOINT_KEYS = ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_EVENTBRIDGE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'];

let blackHole: TcpServer;
const heldSockets: Socket[] = [];
let secrets: HttpServer;
let blackHoleUrl = '';
let secretsUrl = '';
let output: CapturedOutput;

const urlOf = (server: TcpServer | HttpServer) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  // Accepts every connection, reads what it is sent, never writes a byte.
  blackHole = createTcpServer((socket) => {
    heldSockets.push(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  // A real (tiny) Secrets Manager: AWSCURRENT is the test secret, there is no AWSPREVIOUS.
  secrets = createHttpServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      const input = JSON.parse(raw || '{}') as { VersionStage?: string };
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (input.VersionStage === 'AWSPREVIOUS') {
        response.writeHead(400, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        response.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no AWSPREVIOUS' }));
        return;
      }
      response.end(JSON.stringify({ ARN: SECRET_ARN, Name: 'fastio', VersionId: 'v1', SecretString: CURRENT_SECRET, VersionStages: ['AWSCURRENT'], CreatedDate: 1_700_000_000 }));
    });
  });
  await Promise.all([blackHole, secrets].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))));
  blackHoleUrl = urlOf(blackHole);
  secretsUrl = urlOf(secrets);
});

afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  secrets.closeAllConnections();
  await Promise.all([blackHole, secrets].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  for (const key of ENDPOINT_KEYS) delete process.env[key];
});

beforeEach(() => {
  setEnv();
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  });
  output = captureOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
});

function signedEvent(body: Buffer) {
  return apiEvent({ body: body.toString(), headers: signWebhook({ rawBody: body, secret: CURRENT_SECRET, scheme: 'body-hmac' }) });
}

describe('an AWS endpoint that accepts the connection and never answers', () => {
  it.each([
    {
      name: 'EventBridge (PutEvents)',
      endpoints: () => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl, AWS_ENDPOINT_URL_EVENTBRIDGE: blackHoleUrl, AWS_ENDPOINT_URL_S3: blackHoleUrl, DEDUPE_WINDOW_HOURS: '0' }),
      body: () => fixture('document-uploaded.json'),
      outcome: 'publish-failed',
      metric: 'PublishFailed',
    },
    {
      name: 'S3 (PutObject of a claim-checked body)',
      endpoints: () => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl, AWS_ENDPOINT_URL_EVENTBRIDGE: blackHoleUrl, AWS_ENDPOINT_URL_S3: blackHoleUrl, DEDUPE_WINDOW_HOURS: '0' }),
      body: () => Buffer.from(JSON.stringify({ event_id: 'evt-big', event_type: 'file.uploaded', pad: 'x'.repeat(900 * 1024) })),
      outcome: 'body-store-failed',
      metric: 'BodyStoreFailed',
    },
    {
      name: 'Secrets Manager (GetSecretValue)',
      endpoints: () => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: blackHoleUrl, AWS_ENDPOINT_URL_EVENTBRIDGE: blackHoleUrl, AWS_ENDPOINT_URL_S3: blackHoleUrl, DEDUPE_WINDOW_HOURS: '0' }),
      body: () => fixture('document-uploaded.json'),
      outcome: 'secret-unavailable',
      metric: undefined,
    },
    {
      name: 'DynamoDB (the resend dedupe claim)',
      endpoints: () => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl, AWS_ENDPOINT_URL_EVENTBRIDGE: blackHoleUrl, AWS_ENDPOINT_URL_DYNAMODB: blackHoleUrl }),
      body: () => fixture('document-uploaded.json'),
      outcome: 'dedupe-unavailable',
      metric: 'DedupeStoreFailed',
    },
  ])('$name: the handler answers 503 itself, inside its deadline', async ({ endpoints, body, outcome, metric }) => {
    // GIVEN the SDK pointed at the black hole for that service
    Object.assign(process.env, endpoints());
    const handler = await loadHandler();
    // WHEN a signed delivery arrives with 2 s of invocation time left
    const started = performance.now();
    const response = await handler(signedEvent(body()), context);
    const elapsed = performance.now() - started;
    // THEN the handler answers 503 with retry-after before Lambda would have timed it out
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('30');
    expect(elapsed).toBeLessThan(REMAINING_MS);
    expect(elapsed).toBeGreaterThan(1_000); // it did wait for the call, up to the deadline
    // AND says why, in its log line and metrics
    expect(output.records().find((record) => record.outcome === outcome)).toBeDefined();
    expect(output.records().find((record) => record.message === 'an AWS call ran into the invocation deadline and was cut off')).toMatchObject({ budgetMs: 1_500 });
    expect(output.metrics('DeadlineExceeded')).toHaveLength(1);
    if (metric !== undefined) expect(output.metrics(metric)).toHaveLength(1);
    expect(output.metrics('WebhookAccepted')).toHaveLength(0);
  }, 10_000);
});

describe('one container, one invocation after another', () => {
  it('an invocation cut off by its deadline leaves none behind: the next one publishes', async () => {
    // GIVEN an EventBridge that never answers the first PutEvents and answers every later one
    let putEvents = 0;
    const eventBridge = createHttpServer((request, response) => {
      request.on('data', () => undefined);
      request.on('end', () => {
        putEvents += 1;
        if (putEvents === 1) return; // held open: only the invocation's deadline ends this call
        response.setHeader('content-type', 'application/x-amz-json-1.1');
        response.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: '11111111-2222-3333-4444-555555555555' }] }));
      });
    });
    await new Promise<void>((resolve) => eventBridge.listen(0, '127.0.0.1', () => resolve()));
    try {
      Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl, AWS_ENDPOINT_URL_EVENTBRIDGE: urlOf(eventBridge), AWS_ENDPOINT_URL_S3: blackHoleUrl, DEDUPE_WINDOW_HOURS: '0' });
      const handler = await loadHandler();
      const body = fixture('document-uploaded.json');
      // WHEN the first delivery runs into its deadline and the next one arrives in the same container
      const first = await handler(signedEvent(body), context);
      const second = await handler(signedEvent(body), { ...context, getRemainingTimeInMillis: () => 60_000 });
      // THEN the first is answered 503 and the second, with a deadline of its own, is published
      expect(first.statusCode).toBe(503);
      expect(second.statusCode).toBe(202);
      expect(output.metrics('DeadlineExceeded')).toHaveLength(1);
      expect(output.metrics('WebhookAccepted')).toHaveLength(1);
    } finally {
      eventBridge.closeAllConnections();
      await new Promise<void>((resolve) => eventBridge.close(() => resolve()));
    }
  }, 10_000);
});
