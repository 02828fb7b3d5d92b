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

  describe('keys', () => {
    /** A context with getAllContext, as the app's node has: cdk.json plus the overrides. */
    const fullContext = (overrides: Record<string, unknown>) => {
      const all = { ...cdkJsonContext, ...overrides };
      return { tryGetContext: (key: string) => all[key], getAllContext: () => all };
    };
    const slack = [{ owner: 'route "video-uploads" target "slack"', keys: ['slackWebhookUrl', 'slackWebhookSecretArn'] }];

    it('refuses an unknown key (a typo of stage would deploy dev), naming the known ones', () => {
      expect(() => loadConfig(fullContext({ stgae: 'prod' }), slack)).toThrow(
        /^config stgae="prod": unknown key; the known keys are alarmEmail, apiThrottleBurstLimit, .*slackWebhookSecretArn, slackWebhookUrl, stage$/,
      );
    });

    it("accepts the CDK's own keys: feature flags, internal and lookup keys", () => {
      const cdkKeys = { '@aws-cdk/core:newFlag': true, 'aws:cdk:bundling-stacks': [], 'availability-zones:account=123456789012:region=us-east-1': ['a'], 'acknowledged-issue-numbers': [1] };
      expect(loadConfig(fullContext(cdkKeys), slack).stage).toBe('dev');
    });

    it.each([
      [{ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/X' }, 'slackWebhookUrl is set but slackWebhookSecretArn is not'],
      [{ slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf' }, 'slackWebhookSecretArn is set but slackWebhookUrl is not'],
    ])('refuses a pair half set: %j', (overrides, fragment) => {
      expect(() => loadConfig(fullContext(overrides), slack)).toThrow(
        new ConfigError(`config ${fragment}: route "video-uploads" target "slack" needs slackWebhookUrl and slackWebhookSecretArn together (set all, or none to leave it out)`),
      );
    });

    it('accepts a pair set whole, or not at all', () => {
      const whole = { slackWebhookUrl: 'https://hooks.slack.com/services/T/B/X', slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:relay-AbCdEf' };
      expect(loadConfig(fullContext(whole), slack).stage).toBe('dev');
      expect(loadConfig(fullContext({}), slack).stage).toBe('dev');
    });
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
