import type { SignatureRejectionReason } from '../../lib/domain/webhook-signature';

/** Name of the dimension that WebhookRejected carries. */
export const REASON_DIMENSION = 'Reason';

/**
 * Every value of the `Reason` dimension on the WebhookRejected metric (and of `reason` in the
 * "webhook rejected" log line). The status each one answers is in the comment.
 */
export const REJECTION_REASONS = {
  /** 401: neither X-Fastio-Signature nor Fastio-Signature was sent. */
  missingSignature: 'missing-signature',
  /** 401: a signature header was sent but held no well-formed signature (empty, wrong length or alphabet, other scheme). */
  malformedSignature: 'malformed-signature',
  /** 401: well-formed, but no signature matched the current (or, within the grace period, previous) secret. */
  badSignature: 'bad-signature',
  /**
   * 503 with retry-after: no cached secret version matched and the secret was read less than the refresh
   * interval ago, so the delivery may be signed with a version put since. Fast.io retries; after the
   * next read it is accepted (rotation) or answered 401 bad-signature (forgery).
   */
  awaitingSecretRefresh: 'awaiting-secret-refresh',
  /** 401: timestamped signature outside ±SIGNATURE_TOLERANCE_SECONDS, in either direction. */
  staleTimestamp: 'stale-timestamp',
  /** 413: the body is over MAX_CARRIED_BODY_BYTES (Lambda's 6 MB request limit), so only a direct invocation can send one. */
  bodyTooLarge: 'body-too-large',
  /** 405: anything but POST (the single route makes this unreachable behind API Gateway). */
  methodNotAllowed: 'method-not-allowed',
} as const satisfies Record<string, string>;

export type RejectionReason = (typeof REJECTION_REASONS)[keyof typeof REJECTION_REASONS];

// Compile-time check that every reason the signature module can give is listed above.
const signatureReasonsAreListed: SignatureRejectionReason extends RejectionReason ? true : never = true;
void signatureReasonsAreListed;
