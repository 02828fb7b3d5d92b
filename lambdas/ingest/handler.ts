/**
 * The ingest function: the "signature authorizer" of DESIGN.md and the only writer to the bus.
 *
 * POST /webhooks/fastio → verify the HMAC over the exact raw body → normalize (lib/domain/fastio-envelope)
 * → [entry over the claim-check threshold: PutObject the raw body, the event carries a reference]
 * → [claim the Fast.io event id in the dedupe table (resend-guard.ts)] → PutEvents → mark it published
 * → 202 {"fastioEventId", "eventBridgeEventId"}. Statuses:
 *   202 published (including quarantined authentic deliveries, and bodies up to Lambda's 6 MB limit)
 *   200 {"duplicate": true, …} a resend of an event published within the dedupe window: not published again
 *   401 missing, malformed, wrong or stale signature (one identical body for all)
 *   405 not a POST
 *   413 body over MAX_CARRIED_BODY_BYTES, which API Gateway never passes on (Lambda's request limit)
 *   503 secret unreadable or empty, the dedupe table, S3 or PutEvents failed, the same event is being
 *       published by another invocation right now (retry-after: until its claim's lease ends), the invocation deadline cut a call off, or a
 *       signature that matches no cached secret version while the secret cannot be re-read yet (it may be
 *       a version put since): Fast.io retries
 * Never a stack trace, the body, the signature or the secret in a response or a log line.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import {
  FASTIO_SOURCE,
  QUARANTINE_DETAIL_TYPE,
  bodyRefOf,
  claimChecked,
  entrySizeBytes,
  toEntry,
  toEnvelope,
  type BodyRef,
} from '../../lib/domain/fastio-envelope';
import { matchesSecret, parseSignatureHeaders, screenSignatures } from '../../lib/domain/webhook-signature';
import { MetricName } from '../shared/metric-names';
import { logger, metrics } from '../shared/powertools';
import { dynamoDb, eventBridge, s3, secretsManager, withDeadline } from './clients';
import { loadIngestConfig } from './config';
import { publishEntry } from './publish';
import { REASON_DIMENSION, REJECTION_REASONS, type RejectionReason } from './reasons';
import { ResendGuard } from './resend-guard';
import { SecretEmptyError, SigningKeyProvider, SigningSecret, type SecretCheck, type UnverifiedCause } from './signing-secret';
import { storeBody } from './store-body';

/**
 * Lambda's synchronous request limit is 6 MB, so API Gateway never hands the function a larger body;
 * anything larger arrives only by direct invocation and is refused before any work.
 */
export const MAX_CARRIED_BODY_BYTES = 6 * 1024 * 1024;

/** Kept back from the remaining invocation time, so the handler answers 503 itself before Lambda's timeout. */
export const DEADLINE_SAFETY_MARGIN_MS = 500;

/**
 * A dedupe claim outlives the invocation that made it by this much (clock skew between containers),
 * so a claim is only ever taken over once its invocation is over.
 */
export const CLAIM_LEASE_MARGIN_MS = 1_000;

const config = loadIngestConfig();
const signingSecret = new SigningSecret(
  new SigningKeyProvider(secretsManager, config.rotationGraceMs),
  config.signingSecretArn,
  config.rotationGraceMs,
  config.secretRefreshIntervalMs,
);
const resendGuard = config.dedupeWindowSeconds > 0 ? new ResendGuard(dynamoDb, config.dedupeTableName, config.dedupeWindowSeconds) : undefined;

type Response = APIGatewayProxyStructuredResultV2;

function json(statusCode: number, body: Record<string, string | boolean>, headers: Record<string, string> = {}): Response {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** One body for every signature failure, so a caller learns nothing about which check failed. */
const UNAUTHORIZED = (): Response => json(401, { message: 'Unauthorized' });
const UNAVAILABLE = (): Response => json(503, { message: 'Service Unavailable' }, { 'retry-after': '30' });

function countRejection(reason: RejectionReason): void {
  const single = metrics.singleMetric();
  single.addDimension(REASON_DIMENSION, reason);
  single.addMetric(MetricName.webhookRejected, MetricUnit.Count, 1);
}

function reject(deliveryId: string, reason: RejectionReason): Response {
  countRejection(reason);
  logger.warn('webhook rejected', { deliveryId, outcome: 'rejected', reason });
  switch (reason) {
    case REJECTION_REASONS.bodyTooLarge:
      return json(413, { message: 'Payload Too Large' });
    case REJECTION_REASONS.methodNotAllowed:
      return json(405, { message: 'Method Not Allowed' }, { allow: 'POST' });
    default:
      return UNAUTHORIZED();
  }
}

/** An AWS call a verified delivery needs failed: count it, say why, and let Fast.io retry. */
function unavailableAfterFailure(
  metric: (typeof MetricName)[keyof typeof MetricName],
  message: string,
  outcome: string,
  fields: Record<string, unknown>,
): Response {
  metrics.addMetric(metric, MetricUnit.Count, 1);
  logger.error(message, { ...fields, outcome });
  return UNAVAILABLE();
}

/** Not refused: the signature may be made with a secret version put since the last read. */
function deferUntilSecretRefresh(deliveryId: string, retryAfterSeconds: number, cause: UnverifiedCause): Response {
  countRejection(REJECTION_REASONS.awaitingSecretRefresh);
  const message =
    cause === 'previous-version-unreadable'
      ? 'webhook deferred: no readable secret version matches and AWSPREVIOUS could not be read'
      : 'webhook deferred: no cached secret version matches and the secret cannot be re-read yet';
  logger.warn(message, { deliveryId, outcome: REJECTION_REASONS.awaitingSecretRefresh, cause, retryAfterSeconds });
  return json(503, { message: 'Service Unavailable' }, { 'retry-after': String(retryAfterSeconds) });
}

function rawBodyOf(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

async function handle(event: APIGatewayProxyEventV2, deliveryId: string, leaseMs: number): Promise<Response> {
  const method = event.requestContext?.http?.method ?? 'POST';
  if (method.toUpperCase() !== 'POST') return reject(deliveryId, REJECTION_REASONS.methodNotAllowed);

  const rawBody = rawBodyOf(event);
  if (rawBody.length > MAX_CARRIED_BODY_BYTES) return reject(deliveryId, REJECTION_REASONS.bodyTooLarge);

  // Everything that needs no secret first: a malformed or stale delivery never costs a Secrets Manager call.
  const parsed = parseSignatureHeaders(event.headers ?? {}, config.signatureScheme);
  if (!parsed.ok) return reject(deliveryId, parsed.reason);
  const fresh = screenSignatures({
    signatures: parsed.signatures,
    rawBody,
    scheme: config.signatureScheme,
    nowSeconds: Math.floor(Date.now() / 1000),
    toleranceSeconds: config.toleranceSeconds,
  });
  if (!fresh.ok) return reject(deliveryId, fresh.reason);

  let check: SecretCheck;
  try {
    check = await signingSecret.check((key) => matchesSecret(fresh.signatures, rawBody, key));
  } catch (error) {
    if (error instanceof SecretEmptyError) {
      logger.error('the signing secret is empty; failing closed until it is set', { deliveryId, outcome: 'secret-unavailable' });
    } else {
      logger.error('cannot read the signing secret', { deliveryId, outcome: 'secret-unavailable', error });
    }
    return UNAVAILABLE();
  }
  if (check.verdict === 'mismatch') return reject(deliveryId, REJECTION_REASONS.badSignature);
  if (check.verdict === 'unverified') return deferUntilSecretRefresh(deliveryId, check.retryAfterSeconds, check.cause);
  const stage = check.stage;

  const envelope = toEnvelope(rawBody);
  const fastioEventId = envelope.detail.eventId;
  // A quarantined delivery's id is the hash of its bytes, not an id Fast.io resends: nothing to recognise.
  const guard = envelope.detailType === QUARANTINE_DETAIL_TYPE ? undefined : resendGuard;
  let claimToken: string | undefined;
  let takeover = false;
  if (guard !== undefined) {
    const claim = await guard.claim(fastioEventId, deliveryId, Date.now(), leaseMs);
    switch (claim.kind) {
      case 'duplicate':
        metrics.addMetric(MetricName.webhookDuplicate, MetricUnit.Count, 1);
        logger.info('webhook duplicate: already published within the dedupe window', {
          deliveryId,
          eventId: fastioEventId,
          eventBridgeEventId: claim.eventBridgeEventId,
          outcome: 'duplicate',
        });
        return json(200, { fastioEventId, duplicate: true, ...(claim.eventBridgeEventId === undefined ? {} : { eventBridgeEventId: claim.eventBridgeEventId }) });
      case 'in-progress':
        metrics.addMetric(MetricName.resendInProgress, MetricUnit.Count, 1);
        logger.warn('webhook deferred: another invocation is publishing this event', {
          deliveryId,
          eventId: fastioEventId,
          outcome: 'resend-in-progress',
          retryAfterSeconds: claim.retryAfterSeconds,
        });
        return json(503, { message: 'Service Unavailable' }, { 'retry-after': String(claim.retryAfterSeconds) });
      case 'unavailable':
        return unavailableAfterFailure(MetricName.dedupeStoreFailed, 'claiming the event in the dedupe table failed', 'dedupe-unavailable', {
          deliveryId,
          eventId: fastioEventId,
          errorCode: claim.errorCode,
          errorMessage: claim.errorMessage,
        });
      case 'claimed':
        claimToken = claim.token;
        takeover = claim.takeover;
    }
  }
  const release = async () => {
    if (guard === undefined || claimToken === undefined) return;
    const released = await guard.release(fastioEventId, claimToken);
    // Unreleased, the claim still ends with its lease; the resend after that is published.
    if (!released.ok) logger.warn('releasing the dedupe claim failed', { deliveryId, eventId: fastioEventId, errorCode: released.errorCode, errorMessage: released.errorMessage });
  };
  let entry = { ...toEntry(envelope), EventBusName: config.eventBusName };
  let bodyRef: BodyRef | undefined;
  // Over the threshold, the body would not fit every target's input (Step Functions: 256 KiB): the
  // raw bytes go to S3 first and the event carries every normalized field and a reference.
  if (entrySizeBytes(entry) > config.claimCheckThresholdBytes) {
    bodyRef = bodyRefOf(config.bodyBucketName, rawBody);
    const stored = await storeBody(await s3(), bodyRef, rawBody);
    if (!stored.ok) {
      await release();
      return unavailableAfterFailure(MetricName.bodyStoreFailed, 'storing the body in S3 failed', 'body-store-failed', {
        deliveryId,
        eventId: fastioEventId,
        bodyKey: bodyRef.key,
        bodyBytes: bodyRef.sizeBytes,
        errorCode: stored.errorCode,
        errorMessage: stored.errorMessage,
      });
    }
    entry = { ...toEntry(claimChecked(envelope, bodyRef)), EventBusName: config.eventBusName };
  }

  const quarantineReason = envelope.detailType === QUARANTINE_DETAIL_TYPE && 'reason' in envelope.detail ? envelope.detail.reason : undefined;
  const result = await publishEntry(eventBridge, entry);
  if (!result.ok) {
    await release();
    return unavailableAfterFailure(MetricName.publishFailed, 'publishing to EventBridge failed', 'publish-failed', {
      deliveryId,
      eventId: fastioEventId,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      attempts: result.attempts,
    });
  }

  if (guard !== undefined && claimToken !== undefined) {
    // The event is on the bus: a 5xx now would only make Fast.io resend it and, after the lease,
    // publish it twice. Unmarked, only a resend after the lease is published again (and counted).
    const marked = await guard.markPublished(fastioEventId, claimToken, result.eventId, Date.now());
    if (!marked.ok) {
      metrics.addMetric(MetricName.dedupeStoreFailed, MetricUnit.Count, 1);
      logger.warn('marking the event published in the dedupe table failed', {
        deliveryId,
        eventId: fastioEventId,
        errorCode: marked.errorCode,
        errorMessage: marked.errorMessage,
      });
    }
  }
  if (takeover) metrics.addMetric(MetricName.webhookRepublished, MetricUnit.Count, 1);
  metrics.addMetric(MetricName.webhookAccepted, MetricUnit.Count, 1);
  if (quarantineReason !== undefined) metrics.addMetric(MetricName.webhookQuarantined, MetricUnit.Count, 1);
  if (bodyRef !== undefined) metrics.addMetric(MetricName.webhookClaimChecked, MetricUnit.Count, 1);
  const logFields = {
    deliveryId,
    eventId: fastioEventId,
    eventBridgeEventId: result.eventId,
    source: FASTIO_SOURCE,
    detailType: envelope.detailType,
    secretStage: stage,
    attempts: result.attempts,
    ...(takeover ? { republished: true } : {}),
    ...(bodyRef === undefined ? {} : { bodyKey: bodyRef.key, bodyBytes: bodyRef.sizeBytes }),
  };
  if (quarantineReason === undefined) logger.info('webhook accepted', { ...logFields, outcome: 'accepted' });
  else logger.warn('webhook quarantined', { ...logFields, outcome: 'quarantined', reason: quarantineReason });
  return json(202, { fastioEventId, eventBridgeEventId: result.eventId });
}

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  const deliveryId = event.requestContext?.requestId ?? context.awsRequestId;
  try {
    const budgetMs = context.getRemainingTimeInMillis() - DEADLINE_SAFETY_MARGIN_MS;
    return await withDeadline(budgetMs, async (deadline) => {
      const response = await handle(event, deliveryId, context.getRemainingTimeInMillis() + CLAIM_LEASE_MARGIN_MS);
      if (deadline.aborted && (response.statusCode ?? 0) >= 500) {
        metrics.addMetric(MetricName.deadlineExceeded, MetricUnit.Count, 1);
        logger.error('an AWS call ran into the invocation deadline and was cut off', { deliveryId, budgetMs });
      }
      return response;
    });
  } catch (error) {
    // Nothing above should throw; if something does, Fast.io must retry rather than see a 2xx or a stack trace.
    logger.error('unexpected failure', { deliveryId, outcome: 'error', error });
    return UNAVAILABLE();
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
