/**
 * The local HTTP API: the webhook route of the Ingest template (POST /webhooks/fastio → the ingest
 * function, payload format 2.0), API Gateway's 404/413/429/500 answers, and the local control
 * endpoint under /_local/ (replay, dead-letter queues, tables, faults).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  MAX_PAYLOAD_BYTES,
  Throttle,
  fromLambdaResult,
  internalError,
  newRequestId,
  notFound,
  toHttpApiEvent,
  tooLarge,
  tooManyRequests,
  type HttpResponse,
} from './api-gateway';
import type { Flow } from './flow';
import { logRecords, type InvocationOutcome } from './lambda-runtime';
import type { LocalModel } from './model';

export interface ControlRequest {
  readonly method: string;
  /** Path below /_local, e.g. `/dlq/redrive`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

export interface ControlResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface HttpApiDeps {
  readonly invoke: (functionName: string, event: APIGatewayProxyEventV2) => Promise<InvocationOutcome>;
  readonly control: (request: ControlRequest) => Promise<ControlResponse>;
  readonly flow: Flow;
  readonly now: () => number;
}

const CONTROL_PREFIX = '/_local';
const MAX_CONTROL_BODY = 1024 * 1024;

function write(response: ServerResponse, answer: HttpResponse, extraHeaders: Record<string, string> = {}): void {
  response.writeHead(answer.statusCode, { ...answer.headers, ...extraHeaders, 'content-length': String(answer.body.length) });
  response.end(answer.body);
}

/** Reads the body up to `limit` bytes; undefined when it is larger (the rest is drained). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) tooBig = true;
    if (!tooBig) chunks.push(buffer);
  }
  return tooBig ? undefined : Buffer.concat(chunks);
}

/** How the ingest answered, in words, from its response and its log line. */
function describeIngest(outcome: InvocationOutcome, statusCode: number, body: Buffer): string {
  const records = logRecords(outcome.logs);
  const accepted = records.find((record) => record.message === 'webhook accepted' || record.message === 'webhook quarantined');
  const rejected = records.find((record) => record.message === 'webhook rejected');
  const failed = records.find((record) => record.level === 'ERROR');
  const text = body.toString('utf8').slice(0, 200);
  if (accepted) {
    const quarantine = accepted.message === 'webhook quarantined' ? `quarantined (${String(accepted.reason)}) as ` : '';
    return `${statusCode} verified with the ${String(accepted.secretStage)} secret, ${quarantine}published ${String(accepted.detailType)} ${String(accepted.eventId)}`;
  }
  const duplicate = records.find((record) => record.outcome === 'duplicate');
  if (duplicate) return `${statusCode} duplicate ${String(duplicate.eventId)}: already published, skipped (not published again)`;
  if (rejected) return `${statusCode} rejected: ${String(rejected.reason)} ${text}`;
  if (failed) return `${statusCode} ${String(failed.message)} ${text}`;
  return `${statusCode} ${text}`;
}

export class HttpApi {
  readonly #throttle: Throttle | undefined;

  constructor(
    private readonly model: LocalModel,
    private readonly deps: HttpApiDeps,
  ) {
    this.#throttle = model.throttle ? new Throttle(model.throttle.rateLimit, model.throttle.burstLimit) : undefined;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = request.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      const method = (request.method ?? 'GET').toUpperCase();
      if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
        await this.control(request, response, method, url);
        return;
      }
      const route = this.model.webhookRoutes.find((candidate) => candidate.method === method && candidate.path === path);
      if (!route) {
        request.resume();
        write(response, notFound());
        const routes = this.model.webhookRoutes.map((candidate) => candidate.routeKey).join(', ');
        this.deps.flow.emit('warn', 'api', `${method} ${path} → 404: no such route (the API has ${routes})`);
        return;
      }
      const requestId = newRequestId();
      const body = await readBody(request, MAX_PAYLOAD_BYTES);
      if (body === undefined) {
        write(response, tooLarge(), { 'apigw-requestid': requestId });
        this.deps.flow.emit('fail', 'api', `${method} ${path} → 413: the body is over API Gateway's 10 MB limit`);
        return;
      }
      if (this.#throttle && !this.#throttle.take()) {
        write(response, tooManyRequests(), { 'apigw-requestid': requestId });
        this.deps.flow.emit('warn', 'api', `${method} ${path} → 429: over the stage's throttling limit`);
        return;
      }
      const event = toHttpApiEvent({
        method,
        url,
        rawHeaders: request.rawHeaders,
        body,
        sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        routeKey: route.routeKey,
        requestId,
        timeEpoch: this.deps.now(),
        domainName: String(request.headers.host ?? '127.0.0.1'),
      });
      // What the bus does with the published event is shown after the answer that published it.
      const release = this.deps.flow.hold();
      let outcome: InvocationOutcome;
      try {
        outcome = await this.deps.invoke(route.functionName, event);
      } catch (error) {
        release();
        throw error;
      }
      if (!outcome.ok) {
        release({ status: 'fail', source: 'ingest', text: `${method} ${path} → 500: the function failed: ${outcome.error?.errorType}: ${outcome.error?.errorMessage}` });
        write(response, internalError(), { 'apigw-requestid': requestId });
        return;
      }
      const answer = fromLambdaResult(outcome.payload);
      const status = answer.statusCode >= 200 && answer.statusCode < 300 ? 'ok' : 'fail';
      release({
        status,
        source: 'ingest',
        text: `${method} ${path} → ${describeIngest(outcome, answer.statusCode, answer.body)} (${Math.round(outcome.durationMs)} ms)`,
        data: { statusCode: answer.statusCode, requestId },
      });
      write(response, answer, { 'apigw-requestid': requestId });
    } catch (error) {
      if (!response.headersSent) write(response, internalError());
      this.deps.flow.emit('fail', 'api', `internal error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * A request Node's HTTP parser refused before any handler ran: headers over its limit (431) or
   * not HTTP at all (400). Answered as Node would by itself, and shown in the terminal like any answer.
   */
  clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    socket.end(tooLarge ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    this.deps.flow.emit('fail', 'api', tooLarge ? '→ 431: the request headers are too large; nothing was invoked' : `→ 400: not a valid HTTP request (${error.code ?? 'parse error'}); nothing was invoked`);
  }

  private async control(request: IncomingMessage, response: ServerResponse, method: string, url: string): Promise<void> {
    const body = await readBody(request, MAX_CONTROL_BODY);
    const parsed = new URL(url, 'http://local');
    const answer =
      body === undefined
        ? { status: 413, body: { message: 'Request Entity Too Large' } }
        : await this.deps.control({ method, path: parsed.pathname.slice(CONTROL_PREFIX.length) || '/', query: parsed.searchParams, body });
    const text = Buffer.from(JSON.stringify(answer.body, null, 2));
    response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': String(text.length) });
    response.end(text);
  }
}
