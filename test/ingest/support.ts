/**
 * Shared helpers for the ingest tests: environment, API Gateway events, a Lambda context,
 * a fresh handler module per test, and capture of everything Logger/Metrics write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { vi } from 'vitest';
import { SAMPLE_PAYLOADS_DIR as FIXTURES_DIR } from '../../lib/domain/sample-payloads';

export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fastio-webhook-secret-AbCdEf';
export const BUS_NAME = 'fastio-events';
export const BODY_BUCKET = 'dev-fastio-bodies-123456789012-eu-west-1';
export const DEDUPE_TABLE = 'dev-fastio-stateful-DedupeTable';
export const CURRENT_SECRET = 'whsec_current_6Q2yX9fLk3RtV8pN1aZ4';
export const PREVIOUS_SECRET = 'whsec_previous_T7mB2cQ9wE5rY1uI8oP3';
/** 2025-11-18T12:00:00Z */
export const NOW = new Date('2025-11-18T12:00:00Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

export { FIXTURES_DIR };
export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES_DIR, name));
}

const BASE_ENV: Record<string, string> = {
  EVENT_BUS_NAME: BUS_NAME,
  SIGNING_SECRET_ARN: SECRET_ARN,
  SIGNATURE_SCHEME: 'auto',
  SIGNATURE_TOLERANCE_SECONDS: '300',
  ROTATION_GRACE_HOURS: '24',
  BODY_BUCKET_NAME: BODY_BUCKET,
  CLAIM_CHECK_THRESHOLD_BYTES: '196608',
  DEDUPE_WINDOW_HOURS: '24',
  DEDUPE_TABLE_NAME: DEDUPE_TABLE,
  POWERTOOLS_SERVICE_NAME: 'fastio-ingest',
  POWERTOOLS_METRICS_NAMESPACE: 'FastioEventBridge',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  AWS_REGION: 'eu-west-1',
};
const ENV_KEYS = [...Object.keys(BASE_ENV), 'POWERTOOLS_DEV', 'POWERTOOLS_PARAMETERS_MAX_AGE', 'SECRET_REFRESH_INTERVAL_SECONDS'];

/** Sets the function's environment; `undefined` removes a variable. */
export function setEnv(overrides: Record<string, string | undefined> = {}): void {
  for (const key of ENV_KEYS) delete process.env[key];
  for (const [key, value] of Object.entries({ ...BASE_ENV, ...overrides })) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** A cold start: fresh module state (config, caches, Logger, Metrics) for the handler. */
export async function loadHandler(): Promise<Handler> {
  vi.resetModules();
  const module = await import('../../lambdas/ingest/handler');
  return module.handler;
}

let requestCounter = 0;

export interface EventOptions {
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly method?: string;
  /** Send `body` base64-encoded, as API Gateway does for binary content types. */
  readonly base64?: boolean;
}

export function apiEvent(options: EventOptions = {}): APIGatewayProxyEventV2 {
  requestCounter += 1;
  const requestId = `req-${requestCounter}`;
  const raw = options.body;
  const base64 = options.base64 ?? Buffer.isBuffer(raw);
  const body = raw === undefined ? undefined : base64 ? Buffer.from(raw).toString('base64') : raw.toString();
  // API Gateway (payload 2.0) lower-cases header names.
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Fastio-Webhooks/1.0' };
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/fastio',
    rawPath: '/webhooks/fastio',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: {
        method: options.method ?? 'POST',
        path: '/webhooks/fastio',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'Fastio-Webhooks/1.0',
      },
      requestId,
      routeKey: 'POST /webhooks/fastio',
      stage: '$default',
      time: '18/Nov/2025:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: base64,
  };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'fastio-ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fastio-ingest',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/fastio-ingest',
  logStreamName: '2025/11/18/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

export interface CapturedOutput {
  /** Everything written to stdout and stderr, as text. */
  text(): string;
  /** Every line that parses as a JSON object. */
  records(): Record<string, unknown>[];
  /** EMF records carrying `metricName`. */
  metrics(metricName: string): Record<string, unknown>[];
  clear(): void;
}

/** Captures stdout/stderr (where Powertools Logger and Metrics write) until the spies are restored. */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(record);
  vi.spyOn(process.stderr, 'write').mockImplementation(record);
  const records = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
  return {
    text: () => chunks.join(''),
    records,
    metrics: (metricName) => records().filter((entry) => '_aws' in entry && metricName in entry),
    clear: () => {
      chunks.length = 0;
    },
  };
}

export function bodyOf(response: APIGatewayProxyStructuredResultV2): unknown {
  return JSON.parse(response.body ?? 'null');
}
