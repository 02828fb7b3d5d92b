import { getNumberFromEnv, getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import {
  DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES,
  MAX_CLAIM_CHECK_THRESHOLD_BYTES,
  MIN_CLAIM_CHECK_THRESHOLD_BYTES,
} from '../../lib/domain/fastio-envelope';
import {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_SCHEME_SETTINGS,
  type SignatureSchemeSetting,
} from '../../lib/domain/webhook-signature';

export interface IngestConfig {
  readonly eventBusName: string;
  readonly signingSecretArn: string;
  readonly signatureScheme: SignatureSchemeSetting;
  readonly toleranceSeconds: number;
  readonly rotationGraceMs: number;
  /** How often a signature mismatch may re-read the secret. */
  readonly secretRefreshIntervalMs: number;
  /** Claim-check bucket: bodies whose entry is over the threshold are stored here. */
  readonly bodyBucketName: string;
  readonly claimCheckThresholdBytes: number;
  /** The resend dedupe window in seconds; 0 turns the dedupe off (no table is used). */
  readonly dedupeWindowSeconds: number;
  /** The resend dedupe table; empty exactly when the window is 0. */
  readonly dedupeTableName: string;
}

/** The dedupe window when DEDUPE_WINDOW_HOURS is unset (cdk.json's ingestDedupeHours sets it on AWS). */
export const DEFAULT_DEDUPE_WINDOW_HOURS = 24;

export const DEFAULT_ROTATION_GRACE_HOURS = 24;
/** A signature mismatch re-reads the secret at most this often (per container). */
export const DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS = 60;

function isSchemeSetting(value: string): value is SignatureSchemeSetting {
  return (SIGNATURE_SCHEME_SETTINGS as readonly string[]).includes(value);
}

/** Reads and validates the environment; throws (failing the cold start) on anything missing or invalid. */
export function loadIngestConfig(): IngestConfig {
  const eventBusName = getStringFromEnv({ key: 'EVENT_BUS_NAME', errorMessage: 'EVENT_BUS_NAME is required' });
  const signingSecretArn = getStringFromEnv({ key: 'SIGNING_SECRET_ARN', errorMessage: 'SIGNING_SECRET_ARN is required' });
  const signatureScheme = getStringFromEnv({ key: 'SIGNATURE_SCHEME', defaultValue: 'auto' });
  const toleranceSeconds = getNumberFromEnv({ key: 'SIGNATURE_TOLERANCE_SECONDS', defaultValue: DEFAULT_TOLERANCE_SECONDS });
  const graceHours = getNumberFromEnv({ key: 'ROTATION_GRACE_HOURS', defaultValue: DEFAULT_ROTATION_GRACE_HOURS });
  // Unset on AWS (one minute); the local pipeline divides it by its --time-scale like every other wait.
  const refreshSeconds = getNumberFromEnv({ key: 'SECRET_REFRESH_INTERVAL_SECONDS', defaultValue: DEFAULT_SECRET_REFRESH_INTERVAL_SECONDS });
  const bodyBucketName = getStringFromEnv({ key: 'BODY_BUCKET_NAME', errorMessage: 'BODY_BUCKET_NAME is required' });
  const claimCheckThresholdBytes = getNumberFromEnv({ key: 'CLAIM_CHECK_THRESHOLD_BYTES', defaultValue: DEFAULT_CLAIM_CHECK_THRESHOLD_BYTES });

  const dedupeHours = getNumberFromEnv({ key: 'DEDUPE_WINDOW_HOURS', defaultValue: DEFAULT_DEDUPE_WINDOW_HOURS });
  const dedupeTableName = process.env.DEDUPE_TABLE_NAME ?? '';

  if (eventBusName === '') throw new Error('EVENT_BUS_NAME is empty');
  if (signingSecretArn === '') throw new Error('SIGNING_SECRET_ARN is empty');
  if (!isSchemeSetting(signatureScheme)) {
    throw new Error(`SIGNATURE_SCHEME must be one of ${SIGNATURE_SCHEME_SETTINGS.join(', ')}, got "${signatureScheme}"`);
  }
  if (!Number.isInteger(toleranceSeconds) || toleranceSeconds < 1 || toleranceSeconds > 86_400) {
    throw new Error(`SIGNATURE_TOLERANCE_SECONDS must be an integer from 1 to 86400, got ${toleranceSeconds}`);
  }
  if (!Number.isFinite(graceHours) || graceHours < 0 || graceHours > 24 * 365) {
    throw new Error(`ROTATION_GRACE_HOURS must be a number from 0 to 8760, got ${graceHours}`);
  }
  if (!Number.isFinite(refreshSeconds) || refreshSeconds <= 0 || refreshSeconds > 3_600) {
    throw new Error(`SECRET_REFRESH_INTERVAL_SECONDS must be a number above 0 and at most 3600, got ${refreshSeconds}`);
  }
  if (bodyBucketName === '') throw new Error('BODY_BUCKET_NAME is empty');
  if (
    !Number.isInteger(claimCheckThresholdBytes) ||
    claimCheckThresholdBytes < MIN_CLAIM_CHECK_THRESHOLD_BYTES ||
    claimCheckThresholdBytes > MAX_CLAIM_CHECK_THRESHOLD_BYTES
  ) {
    throw new Error(
      `CLAIM_CHECK_THRESHOLD_BYTES must be an integer from ${MIN_CLAIM_CHECK_THRESHOLD_BYTES} to ${MAX_CLAIM_CHECK_THRESHOLD_BYTES}, got ${claimCheckThresholdBytes}`,
    );
  }
  if (!Number.isInteger(dedupeHours) || dedupeHours < 0 || dedupeHours > 24 * 7) {
    throw new Error(`DEDUPE_WINDOW_HOURS must be an integer from 0 to 168, got ${dedupeHours}`);
  }
  if (dedupeHours > 0 && dedupeTableName === '') throw new Error('DEDUPE_TABLE_NAME is required while DEDUPE_WINDOW_HOURS is above 0');
  return {
    eventBusName,
    signingSecretArn,
    signatureScheme,
    toleranceSeconds,
    rotationGraceMs: graceHours * 3_600_000,
    secretRefreshIntervalMs: refreshSeconds * 1000,
    bodyBucketName,
    claimCheckThresholdBytes,
    dedupeWindowSeconds: dedupeHours * 3_600,
    dedupeTableName: dedupeHours > 0 ? dedupeTableName : '',
  };
}
