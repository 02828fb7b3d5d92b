/**
 * Deployment configuration: read from cdk.json context, overridable with `-c key=value`,
 * validated before any construct is created so a bad value stops synth with one clear line.
 */

import { MAX_CLAIM_CHECK_THRESHOLD_BYTES, MIN_CLAIM_CHECK_THRESHOLD_BYTES } from './domain/fastio-envelope';
import { SIGNATURE_SCHEME_SETTINGS, type SignatureSchemeSetting } from './domain/webhook-signature';

export interface AppConfig {
  /** Prefixes every stack name, so several deployments can share an account. */
  readonly stage: string;
  readonly archiveRetentionDays: number;
  /** Subscribed to alarms and review notifications when set. */
  readonly alarmEmail?: string;
  readonly signatureScheme: SignatureSchemeSetting;
  readonly signatureToleranceSeconds: number;
  readonly rotationGraceHours: number;
  readonly apiThrottleRateLimit: number;
  readonly apiThrottleBurstLimit: number;
  readonly consumerMaxConcurrency: number;
  /** Entries larger than this many bytes carry a reference to the body in S3 instead of the body. */
  readonly claimCheckThresholdBytes: number;
  /** Concurrent executions reserved for the ingest function (taken out of the account's pool). */
  readonly ingestReservedConcurrency: number;
  /** Import an existing Fast.io signing secret instead of creating one. */
  readonly signingSecretArn?: string;
  /** Hours in which a resend of a published Fast.io event id is answered as a duplicate; 0 turns the dedupe off. */
  readonly ingestDedupeHours: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Anything that answers context lookups: a construct's `node`, or a plain map in tests. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
  /** Every key set (cdk.json, cdk.context.json, `-c`); without it unknown keys cannot be checked. */
  getAllContext?(): Record<string, unknown>;
}

/**
 * Keys read outside loadConfig that only work together, e.g. the route table's `{ fromConfig }`
 * values of one target: all set, or none (the target is then left undeployed).
 */
export interface ConfigKeyGroup {
  /** Who needs the keys, for the message: `route "video-uploads" target "slack"`. */
  readonly owner: string;
  readonly keys: readonly string[];
}

/**
 * The CDK's own context: feature flags (`@aws-cdk/...`), its internal keys (`aws:cdk:...`) and cached
 * lookups (`availability-zones:account=...`) all carry a `@` or a `:`; `cdk acknowledge` writes the last.
 */
function isCdkContextKey(key: string): boolean {
  return key.startsWith('@') || key.includes(':') || key === 'acknowledged-issue-numbers';
}

const isSet = (value: unknown): boolean => value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');

/** Refuses a key no one reads (a typo such as `-c stgae=prod` would otherwise deploy the default) and a half-set group. */
function checkKeys(source: ContextSource, read: ReadonlySet<string>, groups: readonly ConfigKeyGroup[], alsoKnown: readonly string[]): void {
  for (const group of groups) {
    const missing = group.keys.filter((key) => !isSet(source.tryGetContext(key)));
    if (missing.length > 0 && missing.length < group.keys.length) {
      const set = group.keys.filter((key) => !missing.includes(key));
      throw new ConfigError(
        `config ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not: ${group.owner} needs ${group.keys.join(' and ')} together (set all, or none to leave it out)`,
      );
    }
  }
  const all = source.getAllContext?.();
  if (all === undefined) return;
  const known = new Set([...read, ...groups.flatMap((group) => group.keys), ...alsoKnown]);
  // An unknown key left empty changes nothing, so only one holding a value is refused.
  const unknown = Object.keys(all).filter((key) => !known.has(key) && !isCdkContextKey(key) && isSet(all[key]));
  if (unknown.length > 0) {
    throw new ConfigError(
      `config ${unknown.map((key) => `${key}=${describe(all[key])}`).join(', ')}: unknown key${unknown.length === 1 ? '' : 's'}; the known keys are ${[...known].sort().join(', ')}`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value);
}

function readInteger(source: ContextSource, key: string, min: number, max: number): number {
  const raw = source.tryGetContext(key);
  // `-c key=value` always arrives as a string; cdk.json may hold a number.
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`config ${key}=${describe(raw)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return value;
}

function readOptionalString(source: ContextSource, key: string, pattern: RegExp, allowed: string): string | undefined {
  const raw = source.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || !pattern.test(raw)) {
    throw new ConfigError(`config ${key}=${describe(raw)} is invalid: expected ${allowed}`);
  }
  return raw;
}

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/**
 * How long every queue, dead-letter queues included, keeps a message (SQS's maximum; QUEUE_RETENTION
 * in lib/constructs/secure-queue.ts). The archive must keep events at least as long, or a dead letter
 * could outlive the archived events a replay would need to recover it.
 */
export const DEAD_LETTER_RETENTION_DAYS = 14;

/**
 * Reads and checks the whole configuration. The known keys are the ones this function reads (a key
 * added here is known without a second list) plus those of `groups` and `alsoKnown`.
 * @param alsoKnown keys that are known but not checked: the shipped table's, when a test builds its own
 */
export function loadConfig(context: ContextSource, groups: readonly ConfigKeyGroup[] = [], alsoKnown: readonly string[] = []): AppConfig {
  const read = new Set<string>();
  const source: ContextSource = {
    tryGetContext: (key) => {
      read.add(key);
      return context.tryGetContext(key);
    },
  };
  const config = readConfig(source);
  checkKeys(context, read, groups, alsoKnown);
  return config;
}

function readConfig(source: ContextSource): AppConfig {
  const stage = source.tryGetContext('stage');
  if (typeof stage !== 'string' || !STAGE_PATTERN.test(stage)) {
    throw new ConfigError(
      `config stage=${describe(stage)} is invalid: expected 1-20 characters, lower-case letters, digits and '-', starting with a letter`,
    );
  }
  const scheme = source.tryGetContext('signatureScheme') ?? 'auto';
  if (!SIGNATURE_SCHEME_SETTINGS.includes(scheme as SignatureSchemeSetting)) {
    throw new ConfigError(`config signatureScheme=${describe(scheme)} is invalid: expected one of ${SIGNATURE_SCHEME_SETTINGS.join(', ')}`);
  }
  const rate = readInteger(source, 'apiThrottleRateLimit', 1, 10_000);
  const burst = readInteger(source, 'apiThrottleBurstLimit', 1, 5_000);
  if (burst < rate / 100) {
    throw new ConfigError(`config apiThrottleBurstLimit=${burst} is invalid: expected at least 1% of apiThrottleRateLimit (${rate})`);
  }
  // EventBridge archives accept 0 (indefinite) or a day count; indefinite would defeat the retention check of `replay start`.
  const archiveRetentionDays = readInteger(source, 'archiveRetentionDays', 1, 3650);
  if (archiveRetentionDays < DEAD_LETTER_RETENTION_DAYS) {
    throw new ConfigError(
      `config archiveRetentionDays=${archiveRetentionDays} is invalid: expected at least ${DEAD_LETTER_RETENTION_DAYS}, the dead-letter queues' retention, so the archive still holds every event a dead letter may need replayed`,
    );
  }
  return {
    stage,
    archiveRetentionDays,
    alarmEmail: readOptionalString(source, 'alarmEmail', EMAIL_PATTERN, 'an email address, or empty for none'),
    signatureScheme: scheme as SignatureSchemeSetting,
    signatureToleranceSeconds: readInteger(source, 'signatureToleranceSeconds', 1, 3600),
    rotationGraceHours: readInteger(source, 'rotationGraceHours', 0, 720),
    apiThrottleRateLimit: rate,
    apiThrottleBurstLimit: burst,
    // SQS event sources accept a maximum concurrency from 2 to 1000.
    consumerMaxConcurrency: readInteger(source, 'consumerMaxConcurrency', 2, 1000),
    // At most 200 KiB, so an inline event stays inside Step Functions' 256 KiB input with room for the envelope.
    claimCheckThresholdBytes: readInteger(source, 'claimCheckThresholdBytes', MIN_CLAIM_CHECK_THRESHOLD_BYTES, MAX_CLAIM_CHECK_THRESHOLD_BYTES),
    // Lambda refuses a reservation that leaves the account fewer than 100 unreserved executions, which
    // only the account knows; 0 would disable the function.
    ingestReservedConcurrency: readInteger(source, 'ingestReservedConcurrency', 1, 10_000),
    // At most a week: Fast.io resends within hours, and every claim is paid for in storage until it expires.
    ingestDedupeHours: readInteger(source, 'ingestDedupeHours', 0, 168),
    signingSecretArn: readOptionalString(source, 'signingSecretArn', SECRET_ARN_PATTERN, 'a complete Secrets Manager secret ARN, or empty to create one'),
  };
}

/** Stack names, shared by the CDK app and the operator CLI that reads their outputs. */
export function stackNames(stage: string): { stateful: string; ingest: string; routing: string; monitoring: string } {
  return {
    stateful: `${stage}-fastio-stateful`,
    ingest: `${stage}-fastio-ingest`,
    routing: `${stage}-fastio-routing`,
    monitoring: `${stage}-fastio-monitoring`,
  };
}
