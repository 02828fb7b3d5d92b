/**
 * What the AWS-facing commands depend on, injectable for tests: the SDK clients (created with the
 * default credential chain and region, `--region` overriding), the clock, sleep and randomness.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { OperationFailed, UsageError, stringOption, type OptionValues } from './command';

export interface AwsClients {
  readonly cloudFormation: CloudFormationClient;
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  /** The recovery log in the recorder bucket (lib/ops/aws-recovery-log.ts). */
  readonly s3: S3Client;
  /** Who runs a recovery (GetCallerIdentity needs no permission). */
  readonly sts: STSClient;
}

export interface OpsRuntime {
  /** Clients for a region; undefined means the SDK's own resolution (AWS_REGION, profile). */
  readonly clients: (region: string | undefined) => AwsClients;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** In [0, 1), like Math.random. */
  readonly random: () => number;
  /** Between two polls of DescribeReplay / ListMessageMoveTasks. */
  readonly pollIntervalMs: number;
  /** HTTP for re-delivering to http targets. @default the global fetch */
  readonly fetch?: typeof fetch;
}

/**
 * The endpoint override the SDK itself reads from the environment for a service (its SDK service
 * id, e.g. 'SQS', 'Secrets Manager'): AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. The same rule as @smithy/core's getEndpointUrlConfig.
 */
export function configuredEndpoint(serviceId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  const specific = env[['AWS_ENDPOINT_URL', ...serviceId.split(' ').map((part) => part.toUpperCase())].join('_')];
  return specific || env.AWS_ENDPOINT_URL || undefined;
}

/**
 * SQS clients send each call to the host inside its QueueUrl (useQueueUrlAsEndpoint), even when an
 * endpoint is configured through the environment, so queue URLs from stack outputs
 * (sqs.<region>.amazonaws.com) would bypass LocalStack or moto. With an override, the override wins.
 */
export function sqsClientConfig(base: { region?: string }, env: NodeJS.ProcessEnv = process.env): { region?: string; useQueueUrlAsEndpoint?: boolean } {
  return configuredEndpoint('SQS', env) === undefined ? base : { ...base, useQueueUrlAsEndpoint: false };
}

/** Lazily created clients: a command that needs no CloudFormation never builds its client. */
export function defaultAwsClients(region: string | undefined): AwsClients {
  // `{}` (or just the region) so that env variables, profiles and SSO apply exactly as for the AWS CLI;
  // every other client honours AWS_ENDPOINT_URL(_<SERVICE>) through the SDK's own resolution.
  const config = region === undefined ? {} : { region };
  let cloudFormation: CloudFormationClient | undefined;
  let eventBridge: EventBridgeClient | undefined;
  let sqs: SQSClient | undefined;
  let lambda: LambdaClient | undefined;
  let sfn: SFNClient | undefined;
  let secretsManager: SecretsManagerClient | undefined;
  let sns: SNSClient | undefined;
  let s3: S3Client | undefined;
  let sts: STSClient | undefined;
  return {
    get cloudFormation() {
      return (cloudFormation ??= new CloudFormationClient(config));
    },
    get eventBridge() {
      return (eventBridge ??= new EventBridgeClient(config));
    },
    get sqs() {
      return (sqs ??= new SQSClient(sqsClientConfig(config)));
    },
    get lambda() {
      return (lambda ??= new LambdaClient(config));
    },
    get sfn() {
      return (sfn ??= new SFNClient(config));
    },
    get secretsManager() {
      return (secretsManager ??= new SecretsManagerClient(config));
    },
    get sns() {
      return (sns ??= new SNSClient(config));
    },
    get s3() {
      return (s3 ??= new S3Client(config));
    },
    get sts() {
      return (sts ??= new STSClient(config));
    },
  };
}

export const defaultRuntime: OpsRuntime = {
  clients: defaultAwsClients,
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  pollIntervalMs: 5_000,
};

/** Options every deployment-aware command takes. */
export const deploymentOptions = {
  stage: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function stageOption(options: OptionValues): string {
  const stage = stringOption(options, 'stage') ?? 'dev';
  if (!STAGE_PATTERN.test(stage)) {
    throw new UsageError(`--stage "${stage}" is invalid: 1-20 lower-case letters, digits and '-', starting with a letter`);
  }
  return stage;
}

export function regionOption(options: OptionValues): string | undefined {
  const region = stringOption(options, 'region');
  if (region !== undefined && !REGION_PATTERN.test(region)) throw new UsageError(`--region "${region}" is not an AWS region name such as eu-west-1`);
  return region;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/**
 * Turns SDK errors that say nothing useful on their own into one clear line. Everything else is
 * passed through for the CLI's describeError (which names the error, e.g. AccessDeniedException).
 */
export function explainAwsError(error: unknown): unknown {
  if (error instanceof UsageError || error instanceof OperationFailed) return error;
  const message = errorMessage(error);
  if (/region is missing/i.test(message)) {
    return new OperationFailed('no AWS region configured: set AWS_REGION (or a region in your AWS profile) or pass --region');
  }
  const name = errorName(error);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new OperationFailed(`no AWS credentials found (${message}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login`);
  }
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken') {
    return new OperationFailed(`AWS credentials have expired (${message}): refresh them (aws sso login) and try again`);
  }
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  if (['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return new OperationFailed(`cannot reach AWS (${code}: ${message}): check the network and the region`);
  }
  return error;
}

/** Runs an AWS-facing command body, converting SDK errors to one-line failures. */
export async function withAwsErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw explainAwsError(error);
  }
}
