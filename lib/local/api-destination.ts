/**
 * The local counterpart of an EventBridge API destination target: a real HTTP request to the
 * destination's InvocationEndpoint with its HttpMethod, so a receiver on loopback sees exactly what
 * the deployed rule would send. Behaviour from the EventBridge User Guide, "API destinations":
 * - the request carries EventBridge's headers (User-Agent Amazon/EventBridge/ApiDestinations,
 *   Content-Type application/json; charset=utf-8, Range bytes=0-1048575, Accept-Encoding gzip,deflate,
 *   Connection close) beside the connection's authorization header;
 * - an endpoint has 5 seconds to answer, a timed-out request is retried;
 * - 429 and 5xx are retried, 1xx, 3xx and the other 4xx are not;
 * - a `Retry-After` header lengthens the wait ("the more conservative value between the defined retry
 *   policy and the Retry-After header"); a negative one stops the retries.
 * - the target's HttpParameters.HeaderParameters are sent too, a JSON-path value read from the event
 *   (the Idempotency-Key header carries `$.detail.eventId`);
 * The connection's secret (API key, basic credentials, OAuth client secret) lives in Secrets Manager
 * and never reaches the local pipeline: the header is sent with LOCAL_AUTHORIZATION_PLACEHOLDER.
 */
import { DeliveryError } from './event-bus';
import { httpCall, type HttpAnswer } from './http-call';
import type { ApiDestinationDefinition } from './model';

/** The value sent in the connection's authorization header locally, in place of the secret. */
export const LOCAL_AUTHORIZATION_PLACEHOLDER = 'local-placeholder-not-the-secret';

const TIMEOUT_MS = 5_000;

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** EventBridge's own request headers on every API destination call. */
const EVENTBRIDGE_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Amazon/EventBridge/ApiDestinations',
  'content-type': 'application/json; charset=utf-8',
  range: 'bytes=0-1048575',
  'accept-encoding': 'gzip,deflate',
  connection: 'close',
};

function retryAfterMs(response: HttpAnswer): number | undefined {
  const header = response.header('retry-after');
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * One invocation attempt. Resolves with a line for the flow on 2xx; throws a DeliveryError that says
 * whether EventBridge would retry it otherwise. ERROR_CODE values are local (EventBridge does not
 * document the codes it writes for API destination failures): HTTP_<status> or TIMEOUT / CONNECTION.
 */
export async function invokeApiDestination(
  destination: ApiDestinationDefinition,
  body: string,
  targetHeaders: Readonly<Record<string, string>> = {},
  trust: { readonly extraCa?: string } = {},
): Promise<string> {
  const headers: Record<string, string> = { ...lowerCased(targetHeaders), ...EVENTBRIDGE_HEADERS };
  if (destination.authorizationHeader) headers[destination.authorizationHeader.toLowerCase()] = LOCAL_AUTHORIZATION_PLACEHOLDER;
  const where = `${destination.method} ${destination.endpoint}`;
  let response: HttpAnswer;
  try {
    response = await httpCall(destination.endpoint, {
      method: destination.method,
      headers,
      ...(destination.method === 'GET' || destination.method === 'HEAD' ? {} : { body }),
      timeoutMs: TIMEOUT_MS,
      ...(trust.extraCa === undefined ? {} : { extraCa: trust.extraCa }),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    throw new DeliveryError(timedOut ? 'TIMEOUT' : 'CONNECTION', `${where}: ${timedOut ? `no answer within ${TIMEOUT_MS / 1000} s` : cause}`, { retryable: true });
  }
  if (response.status >= 200 && response.status < 300) return `${where} answered ${response.status}`;
  const retryable = response.status === 429 || response.status >= 500;
  const wait = retryAfterMs(response);
  throw new DeliveryError(`HTTP_${response.status}`, `${where} answered ${response.status}`, {
    retryable: retryable && (wait === undefined || wait >= 0),
    ...(wait !== undefined && wait >= 0 ? { retryAfterMs: wait } : {}),
  });
}
