import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { sendCommand, signCommand, SECRET_ENV_VAR } from '../../lib/ops/sign-command';
import { verifySignature } from '../../lib/domain/webhook-signature';
import { CURRENT_SECRET, FIXTURES_DIR, apiEvent, captureOutput, fixture, lambdaContext, loadHandler, setEnv } from './support';

const PAYLOAD = join(FIXTURES_DIR, 'agent-file-created.json');
const commands = [signCommand, sendCommand];

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(commands, argv, { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false });
  return { code, out, err };
}

function headersFrom(lines: string[]): Record<string, string> {
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
}

let savedSecret: string | undefined;
beforeEach(() => {
  savedSecret = process.env[SECRET_ENV_VAR];
  delete process.env[SECRET_ENV_VAR];
});
afterEach(() => {
  if (savedSecret === undefined) delete process.env[SECRET_ENV_VAR];
  else process.env[SECRET_ENV_VAR] = savedSecret;
});

describe('sign', () => {
  it('prints the body-hmac headers Fast.io would send, verifiable over the exact file bytes', async () => {
    const { code, out, err } = await run('sign', PAYLOAD, '--secret', 's3cret');
    expect(code).toBe(0);
    expect(err).toEqual([]);
    const headers = headersFrom(out);
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers['X-Fastio-Signature']).toMatch(/^[0-9a-f]{64}$/);
    const result = verifySignature({ headers, rawBody: fixture('agent-file-created.json'), secrets: ['s3cret'], nowSeconds: 0 });
    expect(result).toEqual({ ok: true, scheme: 'body-hmac', secretIndex: 0 });
  });

  it('--scheme timestamped --json, with the secret from FASTIO_WEBHOOK_SECRET', async () => {
    process.env[SECRET_ENV_VAR] = 'from-env';
    const { code, out } = await run('sign', PAYLOAD, '--scheme', 'timestamped', '--timestamp', '1763467200', '--encoding', 'base64', '--json');
    expect(code).toBe(0);
    const headers = JSON.parse(out.join('\n')) as Record<string, string>;
    expect(headers['Fastio-Signature']).toMatch(/^t=1763467200,v1=[A-Za-z0-9+/]{43}=$/);
    const result = verifySignature({ headers, rawBody: fixture('agent-file-created.json'), secrets: ['from-env'], nowSeconds: 1763467200 });
    expect(result.ok).toBe(true);
  });

  it('--secret wins over the environment', async () => {
    process.env[SECRET_ENV_VAR] = 'from-env';
    const headers = headersFrom((await run('sign', PAYLOAD, '--secret', 'from-flag')).out);
    expect(verifySignature({ headers, rawBody: fixture('agent-file-created.json'), secrets: ['from-flag'], nowSeconds: 0 }).ok).toBe(true);
  });

  it.each([
    [['sign', PAYLOAD], /no webhook secret: pass --secret or set FASTIO_WEBHOOK_SECRET/],
    [['sign', PAYLOAD, '--secret', ''], /no webhook secret/],
    [['sign', '/nonexistent/payload.json', '--secret', 's'], /cannot read payload file \/nonexistent\/payload.json \(ENOENT\)/],
    [['sign', FIXTURES_DIR, '--secret', 's'], /cannot read payload file .* \(EISDIR\)/],
    [['sign', PAYLOAD, '--secret', 's', '--scheme', 'hmac'], /--scheme must be body-hmac or timestamped/],
    [['sign', PAYLOAD, '--secret', 's', '--scheme', 'timestamped', '--encoding', 'hex64'], /--encoding must be hex or base64/],
    [['sign', PAYLOAD, '--secret', 's', '--scheme', 'timestamped', '--timestamp', 'yesterday'], /--timestamp must be Unix seconds/],
    [['sign'], /usage: npm run -s ops -- sign/],
  ])('%j is a one-line usage error (exit 2)', async (argv, message) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });
});

describe('send', () => {
  let server: Server;
  let url: string;
  let respond: (request: IncomingMessage, body: Buffer, response: ServerResponse) => void | Promise<void>;
  const received: { headers: IncomingMessage['headers']; body: Buffer }[] = [];

  beforeEach(async () => {
    received.length = 0;
    respond = (_request, _body, response) => {
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"fastioEventId":"evt_1","eventBridgeEventId":"eb-local"}');
    };
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        received.push({ headers: request.headers, body });
        void respond(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/fastio`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs the exact file bytes with a valid signature and prints the status and body', async () => {
    const { code, out, err } = await run('send', PAYLOAD, '--url', url, '--secret', 's3cret', '--scheme', 'timestamped', '--keep-id');
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual(['HTTP 202 Accepted', '{"fastioEventId":"evt_1","eventBridgeEventId":"eb-local"}']);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.body.equals(fixture('agent-file-created.json'))).toBe(true);
    expect(request?.headers['content-type']).toBe('application/json');
    const headers = { 'fastio-signature': String(request?.headers['fastio-signature']) };
    const result = verifySignature({ headers, rawBody: request?.body ?? Buffer.alloc(0), secrets: ['s3cret'], nowSeconds: Math.floor(Date.now() / 1000) });
    expect(result).toEqual({ ok: true, scheme: 'timestamped', secretIndex: 0 });
  });

  it('gives each send a fresh Fast.io event id, the rest of the payload unchanged, signed as sent', async () => {
    // WHEN the same file is sent twice without --keep-id
    expect((await run('send', PAYLOAD, '--url', url, '--secret', 's3cret')).code).toBe(0);
    expect((await run('send', PAYLOAD, '--url', url, '--secret', 's3cret')).code).toBe(0);

    // THEN two different ids, each in event_id, everything else as in the file, and each body verifies
    const original = JSON.parse(fixture('agent-file-created.json').toString('utf8')) as Record<string, unknown>;
    const sent = received.map((request) => JSON.parse(request.body.toString('utf8')) as Record<string, unknown>);
    expect(sent.map((payload) => payload.event_id)).toEqual([expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/), expect.stringMatching(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/)]);
    expect(sent[0]?.event_id).not.toBe(sent[1]?.event_id);
    expect(sent[0]?.event_id).not.toBe(original.event_id);
    for (const payload of sent) expect({ ...payload, event_id: original.event_id }).toEqual(original);
    for (const request of received) {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      expect(verifySignature({ headers, rawBody: request.body, secrets: ['s3cret'], nowSeconds: 0 }).ok).toBe(true);
    }
  });

  it('--print-id prints only the id the ingest answered with, the answer on stderr', async () => {
    const { code, out, err } = await run('send', PAYLOAD, '--url', url, '--secret', 's3cret', '--print-id');
    expect(code).toBe(0);
    expect(out).toEqual(['evt_1']);
    expect(err).toEqual(['HTTP 202 Accepted', '{"fastioEventId":"evt_1","eventBridgeEventId":"eb-local"}']);
  });

  it('a body that is not a JSON object is sent as it is', async () => {
    const { withFreshEventId } = await import('../../lib/ops/sign-command');
    expect(withFreshEventId(Buffer.from('[1,2]'))).toEqual({ body: Buffer.from('[1,2]') });
    expect(withFreshEventId(Buffer.from('not json'))).toEqual({ body: Buffer.from('not json') });
    expect(JSON.parse(withFreshEventId(Buffer.from('{"id":"x","type":"file.created"}'), 'evt_new').body.toString())).toEqual({ id: 'evt_new', type: 'file.created' });
  });

  it('exits 1 on a non-2xx answer, after printing it', async () => {
    respond = (_request, _body, response) => {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
    };
    const { code, out, err } = await run('send', PAYLOAD, '--url', url, '--secret', 'wrong');
    expect(code).toBe(1);
    expect(out).toEqual(['HTTP 401 Unauthorized', '{"message":"Unauthorized"}']);
    expect(err).toEqual(['error: the endpoint answered 401']);
  });

  it('exits 1 when nothing listens', async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closedUrl = url;
    const { code, err } = await run('send', PAYLOAD, '--url', closedUrl, '--secret', 's');
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^error: could not reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it.each([
    [['send', PAYLOAD, '--secret', 's'], /--url is required/],
    [['send', PAYLOAD, '--secret', 's', '--url', 'not a url'], /--url is not a valid URL/],
    [['send', PAYLOAD, '--secret', 's', '--url', 'ftp://127.0.0.1/x'], /--url must be http or https/],
    [['send', '/nonexistent.json', '--secret', 's', '--url', 'http://127.0.0.1:9/'], /cannot read payload file/],
  ])('%j is a one-line usage error (exit 2)', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(received).toHaveLength(0);
  });

  describe('against the real ingest handler', () => {
    const secretsManager = mockClient(SecretsManagerClient);
    const eventBridge = mockClient(EventBridgeClient);
    const dynamoDb = mockClient(DynamoDBClient);

    beforeEach(() => {
      secretsManager.reset();
      eventBridge.reset();
      dynamoDb.reset();
      // A first delivery: the resend dedupe's claim and mark succeed.
      dynamoDb.on(PutItemCommand).resolves({});
      dynamoDb.on(UpdateItemCommand).resolves({});
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });
    afterAll(() => {
      secretsManager.restore();
      eventBridge.restore();
      dynamoDb.restore();
    });

    it.each(['body-hmac', 'timestamped'])('a %s delivery is verified and published', async (scheme) => {
      setEnv();
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: CURRENT_SECRET, VersionId: 'v1', CreatedDate: new Date(0) });
      eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-e2e' }] });
      const handler = await loadHandler();
      respond = async (request, body, response) => {
        const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]));
        const result = await handler(apiEvent({ body, base64: true, headers: headers as Record<string, string> }), lambdaContext);
        response.writeHead(result.statusCode ?? 500, result.headers as Record<string, string>).end(result.body);
      };
      const output = captureOutput();
      const { code, out } = await run('send', PAYLOAD, '--url', url, '--secret', CURRENT_SECRET, '--scheme', scheme);
      expect(output.text()).toContain('webhook accepted');
      expect(code).toBe(0);
      // A fresh id per send (the file's own only with --keep-id), published as the ingest read it
      expect(out).toEqual(['HTTP 202 Accepted', expect.stringMatching(/^\{"fastioEventId":"evt_[0-9A-HJKMNP-TV-Z]{26}","eventBridgeEventId":"eb-e2e"\}$/)]);
      const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
      expect(entry?.DetailType).toBe('file.created');
      expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({ agentId: 'agt_3e7b1d9f05', extension: 'csv' });
    });
  });
});
