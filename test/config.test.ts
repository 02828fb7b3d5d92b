import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, stackNames } from '../lib/config';
import { cdkJsonContext } from './infra/synthesize';

const contextOf = (overrides: Record<string, unknown>) => ({
  tryGetContext: (key: string) => (key in overrides ? overrides[key] : cdkJsonContext[key]),
});

describe('loadConfig', () => {
  it('reads the defaults from cdk.json', () => {
    expect(loadConfig(contextOf({}))).toEqual({
      stage: 'dev',
      archiveRetentionDays: 30,
      alarmEmail: undefined,
      signatureScheme: 'auto',
      signatureToleranceSeconds: 300,
      rotationGraceHours: 24,
      apiThrottleRateLimit: 1000,
      apiThrottleBurstLimit: 5000,
      consumerMaxConcurrency: 5,
      claimCheckThresholdBytes: 196608,
      ingestReservedConcurrency: 100,
      signingSecretArn: undefined,
      ingestDedupeHours: 24,
    });
  });

  it('accepts -c overrides, which arrive as strings', () => {
    const config = loadConfig(contextOf({ stage: 'prod', archiveRetentionDays: '90', alarmEmail: 'ops@example.com', signatureScheme: 'timestamped' }));
    expect(config).toMatchObject({ stage: 'prod', archiveRetentionDays: 90, alarmEmail: 'ops@example.com', signatureScheme: 'timestamped' });
  });

  it.each([
    [{ stage: 'Prod' }, 'config stage="Prod" is invalid: expected 1-20 characters, lower-case letters, digits and \'-\', starting with a letter'],
    [{ archiveRetentionDays: '0' }, 'config archiveRetentionDays="0" is invalid: expected an integer from 1 to 3650'],
    [{ archiveRetentionDays: 'thirty' }, 'config archiveRetentionDays="thirty" is invalid: expected an integer from 1 to 3650'],
    [
      { archiveRetentionDays: '13' },
      "config archiveRetentionDays=13 is invalid: expected at least 14, the dead-letter queues' retention, so the archive still holds every event a dead letter may need replayed",
    ],
    [{ signatureToleranceSeconds: 2.5 }, 'config signatureToleranceSeconds=2.5 is invalid: expected an integer from 1 to 3600'],
    [{ signatureScheme: 'md5' }, 'config signatureScheme="md5" is invalid: expected one of auto, body-hmac, timestamped'],
    [{ consumerMaxConcurrency: '1' }, 'config consumerMaxConcurrency="1" is invalid: expected an integer from 2 to 1000'],
    [{ claimCheckThresholdBytes: '262144' }, 'config claimCheckThresholdBytes="262144" is invalid: expected an integer from 16384 to 204800'],
    [{ ingestReservedConcurrency: '0' }, 'config ingestReservedConcurrency="0" is invalid: expected an integer from 1 to 10000'],
    [{ alarmEmail: 'not-an-email' }, 'config alarmEmail="not-an-email" is invalid: expected an email address, or empty for none'],
    [{ signingSecretArn: 'arn:aws:s3:::bucket' }, 'config signingSecretArn="arn:aws:s3:::bucket" is invalid: expected a complete Secrets Manager secret ARN, or empty to create one'],
    [{ apiThrottleRateLimit: '1000', apiThrottleBurstLimit: '5' }, 'config apiThrottleBurstLimit=5 is invalid: expected at least 1% of apiThrottleRateLimit (1000)'],
  ])('rejects %j with one line naming the key, the value and what is allowed', (overrides, message) => {
    expect(() => loadConfig(contextOf(overrides))).toThrow(new ConfigError(message));
  });

  it('prefixes stack names with the stage', () => {
    expect(stackNames('prod')).toEqual({
      stateful: 'prod-fastio-stateful',
      ingest: 'prod-fastio-ingest',
      routing: 'prod-fastio-routing',
      monitoring: 'prod-fastio-monitoring',
    });
  });
});
