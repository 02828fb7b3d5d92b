/**
 * The ingest's error log lines carry the error's name, message and code, never its stack trace
 * (issue 20 item 7): the stack appears only with VERBOSE or at DEBUG level.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signWebhook } from '../../lib/domain/webhook-signature';
import { CURRENT_SECRET, NOW, NOW_SECONDS, apiEvent, captureOutput, fixture, lambdaContext, loadHandler, setEnv, type CapturedOutput } from './support';

const secretsManager = mockClient(SecretsManagerClient);
const eventBridge = mockClient(EventBridgeClient);
let output: CapturedOutput;

const DOCUMENT = fixture('document-uploaded.json');
const signedDelivery = () =>
  apiEvent({ body: DOCUMENT.toString(), headers: signWebhook({ rawBody: DOCUMENT, secret: CURRENT_SECRET, scheme: 'body-hmac', timestamp: NOW_SECONDS, encoding: 'hex' }) });

/** The first ERROR record the ingest printed, and the error it carries. */
const errorLine = () => {
  const line = output.records().find((record) => record.level === 'ERROR');
  return { line, error: line?.error as Record<string, unknown> | undefined };
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  secretsManager.reset();
  eventBridge.reset();
  setEnv();
  output = captureOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  delete process.env.VERBOSE;
});

function secretReadTimesOut(): void {
  secretsManager.on(GetSecretValueCommand).rejects(Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT' }));
}

describe('an ingest error log line', () => {
  it('carries the name, message and code of a failed secret read, and no stack', async () => {
    // GIVEN Secrets Manager cannot be reached
    secretReadTimesOut();
    // WHEN a delivery arrives
    const response = await (await loadHandler())(signedDelivery(), lambdaContext);
    // THEN 503, and the log line names the error without a stack trace
    expect(response.statusCode).toBe(503);
    const { line, error } = errorLine();
    expect(line?.message).toBe('cannot read the signing secret');
    // (Powertools Parameters wraps the SDK's error; its cause keeps the code)
    expect(error).toEqual({
      name: 'GetParameterError',
      message: 'connect ETIMEDOUT 10.0.0.1:443',
      cause: { name: 'Error', message: 'connect ETIMEDOUT 10.0.0.1:443', code: 'ETIMEDOUT' },
    });
    expect(JSON.stringify(line)).not.toContain('stack');
  });

  it('carries no code for an error that has none, and no stack', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new TypeError('boom'));
    await (await loadHandler())(signedDelivery(), lambdaContext);
    const { line, error } = errorLine();
    expect(error).toEqual({ name: 'GetParameterError', message: 'boom', cause: { name: 'TypeError', message: 'boom' } });
    expect(JSON.stringify(line)).not.toContain('stack');
  });

  it('carries the stack with VERBOSE set', async () => {
    process.env.VERBOSE = 'true';
    secretReadTimesOut();
    await (await loadHandler())(signedDelivery(), lambdaContext);
    expect(JSON.stringify(errorLine().error)).toContain('"stack":"');
  });
});
