/**
 * The ingest function: the "signature authorizer" of DESIGN.md and the only writer to the bus.
 *
 * POST /webhooks/fastio → verify the HMAC over the exact raw body → normalize (lib/fastio-envelope)
 * → PutEvents → 202 {"eventId": <EventBridge event id>}. Statuses:
 *   202 published (including quarantined authentic deliveries)
 *   401 missing, malformed, wrong or stale signature (one identical body for all)
 *   405 not a POST
 *   413 body (or the entry built from it) over EventBridge's 1 MB entry limit
 *   503 secret unreadable or empty, PutEvents failed, or a signature that matches no cached secret
 *       version while the secret cannot be re-read yet (it may be a version put since): Fast.io retries
 * Never a stack trace, the body, the signature or the secret in a response or a log line.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { FASTIO_SOURCE, MAX_ENTRY_BYTES, QUARANTINE_DETAIL_TYPE, entrySizeBytes, toEntry, toEnvelope } from '../../lib/fastio-envelope';
import { matchesSecret, parseSignatureHeaders, screenSignatures } from '../../lib/webhook-signature';
import { MetricName } from '../shared/metric-names';
import { logger, metrics } from '../shared/powertools';
import { eventBridge, secretsManager } from './clients';
import { loadIngestConfig } from './config';
import { publishEntry } from './publish';
import { REASON_DIMENSION, REJECTION_REASONS, type RejectionReason } from './reasons';
import { SecretEmptyError, SigningKeyProvider, SigningSecret, type SecretCheck } from './signing-secret';

const config = loadIngestConfig();
const signingSecret = new SigningSecret(
  new SigningKeyProvider(secretsManager, config.rotationGraceMs),
  config.signingSecretArn,
  config.rotationGraceMs,
  config.secretRefreshIntervalMs,
);

type Response = APIGatewayProxyStructuredResultV2;

function json(statusCode: number, body: Record<string, string>, headers: Record<string, string> = {}): Response {
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

/** Not refused: the signature may be made with a secret version put since the last read. */
function deferUntilSecretRefresh(deliveryId: string, retryAfterSeconds: number): Response {
  countRejection(REJECTION_REASONS.awaitingSecretRefresh);
  logger.warn('webhook deferred: no cached secret version matches and the secret cannot be re-read yet', {
    deliveryId,
    outcome: REJECTION_REASONS.awaitingSecretRefresh,
    retryAfterSeconds,
  });
  return json(503, { message: 'Service Unavailable' }, { 'retry-after': String(retryAfterSeconds) });
}

function rawBodyOf(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

async function handle(event: APIGatewayProxyEventV2, deliveryId: string): Promise<Response> {
  const method = event.requestContext?.http?.method ?? 'POST';
  if (method.toUpperCase() !== 'POST') return reject(deliveryId, REJECTION_REASONS.methodNotAllowed);

  const rawBody = rawBodyOf(event);
  if (rawBody.length > MAX_ENTRY_BYTES) return reject(deliveryId, REJECTION_REASONS.bodyTooLarge);

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
  if (check.verdict === 'unverified') return deferUntilSecretRefresh(deliveryId, check.retryAfterSeconds);
  const stage = check.stage;

  const envelope = toEnvelope(rawBody);
  const entry = { ...toEntry(envelope), EventBusName: config.eventBusName };
  if (entrySizeBytes(entry) > MAX_ENTRY_BYTES) return reject(deliveryId, REJECTION_REASONS.bodyTooLarge);

  const fastioEventId = envelope.detail.eventId;
  const quarantineReason = envelope.detailType === QUARANTINE_DETAIL_TYPE && 'reason' in envelope.detail ? envelope.detail.reason : undefined;
  const result = await publishEntry(eventBridge, entry);
  if (!result.ok) {
    metrics.addMetric(MetricName.publishFailed, MetricUnit.Count, 1);
    logger.error('publishing to EventBridge failed', {
      deliveryId,
      eventId: fastioEventId,
      outcome: 'publish-failed',
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      attempts: result.attempts,
    });
    return UNAVAILABLE();
  }

  metrics.addMetric(MetricName.webhookAccepted, MetricUnit.Count, 1);
  if (quarantineReason !== undefined) metrics.addMetric(MetricName.webhookQuarantined, MetricUnit.Count, 1);
  const logFields = {
    deliveryId,
    eventId: fastioEventId,
    eventBridgeEventId: result.eventId,
    source: FASTIO_SOURCE,
    detailType: envelope.detailType,
    secretStage: stage,
    attempts: result.attempts,
  };
  if (quarantineReason === undefined) logger.info('webhook accepted', { ...logFields, outcome: 'accepted' });
  else logger.warn('webhook quarantined', { ...logFields, outcome: 'quarantined', reason: quarantineReason });
  return json(202, { fastioEventId, eventBridgeEventId: result.eventId });
}

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  const deliveryId = event.requestContext?.requestId ?? context.awsRequestId;
  try {
    return await handle(event, deliveryId);
  } catch (error) {
    // Nothing above should throw; if something does, Fast.io must retry rather than see a 2xx or a stack trace.
    logger.error('unexpected failure', { deliveryId, outcome: 'error', error });
    return UNAVAILABLE();
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
