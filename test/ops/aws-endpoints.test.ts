/**
 * Endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) reach every client the CLI and
 * the ingest create, proven by where the requests arrive: two loopback servers record each request's
 * service (from its SigV4 credential scope). No AWS call leaves the machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListReplaysCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configuredEndpoint, defaultAwsClients } from '../../lib/ops/aws-runtime';
import { ACCOUNT, REGION, queueUrl } from './support';

interface Recorder {
  readonly url: string;
  readonly services: string[];
  close(): Promise<void>;
}

/** Answers every request with an empty JSON object and records the SigV4 service it was signed for. */
async function recorder(): Promise<Recorder> {
  const services: string[] = [];
  const server: Server = createServer((request, response) => {
    const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(request.headers.authorization ?? '');
    services.push(scope?.[1] ?? 'unsigned');
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, services, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The request counts once it arrived; what the SDK makes of the empty answer does not matter here. */
async function attempt(call: () => Promise<unknown>): Promise<void> {
  await call().catch(() => undefined);
}

let generic: Recorder;
let specific: Recorder;

beforeAll(async () => {
  generic = await recorder();
  specific = await recorder();
});
afterAll(async () => {
  await generic.close();
  await specific.close();
});
beforeEach(() => {
  generic.services.length = 0;
  specific.services.length = 0;
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
  vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', '');
  for (const name of ['AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_EVENTBRIDGE', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_CLOUDFORMATION']) vi.stubEnv(name, '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function callEveryOpsClient(): Promise<void> {
  const clients = defaultAwsClients(undefined);
  await attempt(() => clients.cloudFormation.send(new DescribeStacksCommand({ StackName: 'dev-fastio-stateful' })));
  await attempt(() => clients.eventBridge.send(new ListReplaysCommand({})));
  // The URL a deployed stack outputs: its host is AWS's, the override must still win.
  await attempt(() => clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl('documents', 'queue', 'buffer-dlq'), AttributeNames: ['All'] })));
  await attempt(() => clients.lambda.send(new InvokeCommand({ FunctionName: 'f' })));
  await attempt(() => clients.sfn.send(new DescribeExecutionCommand({ executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:m:e` })));
}

describe('ops clients', () => {
  it('send every call, SQS calls with an AWS queue URL included, to AWS_ENDPOINT_URL', async () => {
    // GIVEN one endpoint for every service
    vi.stubEnv('AWS_ENDPOINT_URL', generic.url);
    // WHEN each client the CLI uses makes a call
    await callEveryOpsClient();
    // THEN all of them arrived there
    expect(generic.services).toEqual(['cloudformation', 'events', 'sqs', 'lambda', 'states']);
  });

  it('prefer AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', generic.url);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', specific.url);
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDFORMATION', specific.url);
    await callEveryOpsClient();
    expect(specific.services).toEqual(['cloudformation', 'sqs']);
    expect(generic.services).toEqual(['events', 'lambda', 'states']);
  });
});

describe('ingest clients', () => {
  it('send PutEvents and GetSecretValue to their service endpoints', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_EVENTBRIDGE', specific.url);
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', generic.url);
    vi.resetModules();
    const { eventBridge, secretsManager } = await import('../../lambdas/ingest/clients');
    await attempt(() => eventBridge.send(new PutEventsCommand({ Entries: [{ Source: 'fastio', DetailType: 't', Detail: '{}' }] })));
    await attempt(() => secretsManager.send(new GetSecretValueCommand({ SecretId: 's' })));
    expect(specific.services).toEqual(['events']);
    expect(generic.services).toEqual(['secretsmanager']);
  });
});

describe('configuredEndpoint', () => {
  it('follows the SDK: service variable, then the generic one, none when told to ignore them', () => {
    expect(configuredEndpoint('Secrets Manager', { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://a', AWS_ENDPOINT_URL: 'http://b' })).toBe('http://a');
    expect(configuredEndpoint('SQS', { AWS_ENDPOINT_URL: 'http://b' })).toBe('http://b');
    expect(configuredEndpoint('SQS', { AWS_ENDPOINT_URL: 'http://b', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toBeUndefined();
    expect(configuredEndpoint('SQS', {})).toBeUndefined();
  });
});
