/**
 * Rotation never ends in a 401 for a genuine delivery (issue 20 item 5): a secret version that could
 * not be read makes a mismatch `unverified` (503 with retry-after, Fast.io resends), never final.
 * Every read failure of either stage; only "no such version" (ResourceNotFoundException) is an answer.
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signWebhook } from '../../lib/domain/webhook-signature';
import {
  CURRENT_SECRET,
  NOW,
  PREVIOUS_SECRET,
  SECRET_ARN,
  apiEvent,
  captureOutput,
  fixture,
  lambdaContext,
  loadHandler,
  setEnv,
  type CapturedOutput,
  type Handler,
} from './support';

const secretsManager = mockClient(SecretsManagerClient);
const eventBridge = mockClient(EventBridgeClient);
const dynamoDb = mockClient(DynamoDBClient);

const HOUR = 3_600_000;
const DOCUMENT = fixture('document-uploaded.json');
let output: CapturedOutput;

/** The SDK's errors as they reach the provider: the error's name is what the code looks at. */
const sdkError = (name: string, message: string, httpStatusCode: number) =>
  Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });

/** Every way a GetSecretValue can fail other than "no such version". */
const READ_FAILURES = [
  ['throttled', sdkError('ThrottlingException', 'Rate exceeded', 400)],
  ['timed out', sdkError('TimeoutError', 'Connection timed out after 1000 ms', 0)],
  ['cut off by the invocation deadline', sdkError('AbortError', 'The operation was aborted', 0)],
  ['a 5xx', sdkError('InternalServiceError', 'An error occurred on the server side', 500)],
  ['access denied', sdkError('AccessDeniedException', 'not authorized to perform: secretsmanager:GetSecretValue', 400)],
  ['undecryptable (KMS)', sdkError('DecryptionFailure', 'Secrets Manager can not decrypt the protected secret text', 400)],
] as const;

function current(created: Date) {
  return { ARN: SECRET_ARN, VersionId: 'v-current', SecretString: CURRENT_SECRET, CreatedDate: created };
}
const previous = { ARN: SECRET_ARN, VersionId: 'v-previous', SecretString: PREVIOUS_SECRET, CreatedDate: new Date(NOW.getTime() - 60 * 24 * HOUR) };

const deliver = (handler: Handler, secret: string) =>
  handler(apiEvent({ body: DOCUMENT.toString(), headers: signWebhook({ rawBody: DOCUMENT, secret, scheme: 'body-hmac', timestamp: Math.floor(Date.now() / 1000) }) }), lambdaContext);

const deferrals = () => output.records().filter((record) => record.outcome === 'awaiting-secret-refresh');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  secretsManager.reset();
  eventBridge.reset();
  dynamoDb.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
  dynamoDb.on(PutItemCommand).resolves({});
  dynamoDb.on(UpdateItemCommand).resolves({});
  setEnv();
  output = captureOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('AWSPREVIOUS unreadable inside the grace period (right after ops secret rotate)', () => {
  describe.each(READ_FAILURES)('%s', (_name, failure) => {
    beforeEach(() => {
      // GIVEN AWSCURRENT put 2 h ago and AWSPREVIOUS failing to read
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves(current(new Date(NOW.getTime() - 2 * HOUR)));
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(failure);
    });

    it('a delivery signed with the previous value gets 503 with retry-after, never 401', async () => {
      const handler = await loadHandler();
      const response = await deliver(handler, PREVIOUS_SECRET);
      expect(response.statusCode).toBe(503);
      expect(Number(response.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
      expect(deferrals()).toEqual([expect.objectContaining({ level: 'WARN', cause: 'previous-version-unreadable' })]);
      expect(output.records().find((record) => record.message === 'cannot read the previous signing secret version')).toMatchObject({ errorName: failure.name });
    });

    it('a delivery signed with the current value is still accepted', async () => {
      const handler = await loadHandler();
      expect((await deliver(handler, CURRENT_SECRET)).statusCode).toBe(202);
    });

    it('the resend after retry-after, once AWSPREVIOUS reads again, is accepted', async () => {
      const handler = await loadHandler();
      const first = await deliver(handler, PREVIOUS_SECRET);
      expect(first.statusCode).toBe(503);
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves(previous);
      vi.setSystemTime(NOW.getTime() + Number(first.headers?.['retry-after']) * 1000);
      expect((await deliver(handler, PREVIOUS_SECRET)).statusCode).toBe(202);
    });
  });

  it('a warm container that read AWSPREVIOUS badly defers such deliveries without a read until the refresh interval', async () => {
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves(current(new Date(NOW.getTime() - 2 * HOUR)));
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(READ_FAILURES[0][1]);
    const handler = await loadHandler();
    expect((await deliver(handler, CURRENT_SECRET)).statusCode).toBe(202);
    vi.setSystemTime(NOW.getTime() + 20_000);
    const deferred = await deliver(handler, PREVIOUS_SECRET);
    expect(deferred.statusCode).toBe(503);
    expect(deferred.headers?.['retry-after']).toBe('40');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('outside the grace period the previous version is neither read nor waited for: 401', async () => {
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves(current(new Date(NOW.getTime() - 25 * HOUR)));
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(READ_FAILURES[0][1]);
    const handler = await loadHandler();
    expect((await deliver(handler, PREVIOUS_SECRET)).statusCode).toBe(401);
    expect(secretsManager.commandCalls(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })).toHaveLength(0);
  });

  it('no AWSPREVIOUS version at all is an answer, not a failure: 401', async () => {
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves(current(new Date(NOW.getTime() - 2 * HOUR)));
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(sdkError('ResourceNotFoundException', 'no AWSPREVIOUS', 400));
    const handler = await loadHandler();
    expect((await deliver(handler, PREVIOUS_SECRET)).statusCode).toBe(401);
  });
});

describe('AWSCURRENT unreadable', () => {
  it.each(READ_FAILURES)('%s on a cold start: 503 for the current and the previous value, never 401', async (_name, failure) => {
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).rejects(failure);
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves(previous);
    const handler = await loadHandler();
    for (const secret of [CURRENT_SECRET, PREVIOUS_SECRET]) {
      const response = await deliver(handler, secret);
      expect(response.statusCode).toBe(503);
      expect(response.headers?.['retry-after']).toBe('30');
    }
    expect(output.records().filter((record) => record.outcome === 'secret-unavailable')).toHaveLength(2);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it.each(READ_FAILURES)('%s on the refresh a mismatch makes in a warm container: 503, never 401', async (_name, failure) => {
    // GIVEN a container that read the old value, and a delivery signed with the new one after the refresh interval
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ ...current(new Date(NOW.getTime() - 30 * 24 * HOUR)), SecretString: PREVIOUS_SECRET });
    const handler = await loadHandler();
    expect((await deliver(handler, PREVIOUS_SECRET)).statusCode).toBe(202);
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).rejects(failure);
    vi.setSystemTime(NOW.getTime() + 61_000);
    // WHEN the refresh fails
    const response = await deliver(handler, CURRENT_SECRET);
    // THEN
    expect(response.statusCode).toBe(503);
    expect(output.records().find((record) => record.outcome === 'secret-unavailable')).toBeDefined();
  });
});
