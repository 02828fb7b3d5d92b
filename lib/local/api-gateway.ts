/**
 * The HTTP API edge, as API Gateway builds a Lambda proxy integration's payload format 2.0 event
 * and maps the function's answer back to an HTTP response ("Working with AWS Lambda proxy
 * integrations for HTTP APIs"): lower-cased headers with duplicates comma-joined, cookies moved to
 * `cookies`, the raw body (base64 with isBase64Encoded unless the content type is text), the
 * requestContext, and the 10 MB payload limit. Throttling uses the stage's rate and burst.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LOCAL_ACCOUNT } from './assembly';

/** API Gateway's maximum payload size for HTTP APIs. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface HttpRequestInfo {
  readonly method: string;
  /** Path and query as received, e.g. `/webhooks/fastio?x=1`. */
  readonly url: string;
  /** Node's rawHeaders: name, value, name, value, … */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly routeKey: string;
  readonly requestId: string;
  readonly timeEpoch: number;
  readonly domainName: string;
}

/** API Gateway's request ids look like `Jz9xYhM2IAMEVfw=`. */
export function newRequestId(): string {
  return `${randomBytes(10).toString('base64').replace(/[+/]/g, 'x').slice(0, 14)}=`;
}

/** Text content types are passed as-is; anything else (or none) arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/ecmascript'
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the format of requestContext.time. */
function requestTime(epoch: number): string {
  const d = new Date(epoch);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export function toHttpApiEvent(request: HttpRequestInfo): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    const value = request.rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((cookie) => cookie.trim()).filter((cookie) => cookie !== ''));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const questionMark = request.url.indexOf('?');
  const rawPath = questionMark < 0 ? request.url : request.url.slice(0, questionMark);
  const rawQueryString = questionMark < 0 ? '' : request.url.slice(questionMark + 1);
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;

  const isBase64Encoded = request.body.length > 0 && !isTextContentType(headers['content-type']);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      domainName: request.domainName,
      domainPrefix: request.domainName.split('.')[0] ?? request.domainName,
      http: {
        method: request.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId,
      routeKey: request.routeKey,
      stage: '$default',
      time: requestTime(request.timeEpoch),
      timeEpoch: request.timeEpoch,
    },
    isBase64Encoded,
  };
  if (request.body.length > 0) event.body = isBase64Encoded ? request.body.toString('base64') : request.body.toString('utf8');
  return event;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

export const notFound = (): HttpResponse => json(404, { message: 'Not Found' });
export const tooLarge = (): HttpResponse => json(413, { message: 'Request Entity Too Large' });
export const tooManyRequests = (): HttpResponse => json(429, { message: 'Too Many Requests' });
export const internalError = (): HttpResponse => json(500, { message: 'Internal Server Error' });

/** Maps the function's result the way payload format 2.0 does. */
export function fromLambdaResult(result: unknown): HttpResponse {
  const isStructured = typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result;
  if (!isStructured) {
    // Without a statusCode, API Gateway answers 200 with the result as the JSON body.
    return json(200, result ?? null);
  }
  const structured = result as { statusCode?: unknown; headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: unknown; cookies?: unknown };
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (Array.isArray(structured.cookies) && structured.cookies.length > 0) headers['set-cookie'] = structured.cookies.map(String);
  const text = typeof structured.body === 'string' ? structured.body : '';
  const body = structured.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode: Number(structured.statusCode), headers, body };
}

/** Token bucket with the stage's steady-state rate and burst. */
export class Throttle {
  #tokens: number;
  #last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  take(): boolean {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
