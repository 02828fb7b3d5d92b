/**
 * One API destination invocation against a loopback receiver: which answers EventBridge retries
 * (User Guide, "API destinations": 429 and 5xx are retried, other codes not; Retry-After is honoured,
 * a negative one stops the retries).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeApiDestination } from '../../lib/local/api-destination';
import { DeliveryError } from '../../lib/local/event-bus';

let server: Server;
let endpoint = '';
let answer: { status: number; headers?: Record<string, string> } = { status: 200 };
beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(answer.status, answer.headers ?? {}).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

async function failure(status: number, headers?: Record<string, string>): Promise<DeliveryError> {
  answer = { status, ...(headers ? { headers } : {}) };
  const error = await invokeApiDestination({ name: 'hook', arn: 'arn:aws:events:us-east-1:000000000000:api-destination/hook/x', endpoint, method: 'POST' }, '{}').catch((caught: unknown) => caught);
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError for ${status}, got ${String(error)}`);
  return error;
}

describe('invokeApiDestination', () => {
  it('resolves on 2xx', async () => {
    answer = { status: 204 };
    await expect(invokeApiDestination({ name: 'hook', arn: 'arn', endpoint, method: 'POST' }, '{}')).resolves.toBe(`POST ${endpoint} answered 204`);
  });
  it.each([
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [404, false],
    [301, false],
  ])('HTTP %i retryable: %s', async (status, retryable) => {
    expect((await failure(status)).hints.retryable).toBe(retryable);
  });
  it('Retry-After in seconds lengthens the wait', async () => {
    expect((await failure(429, { 'retry-after': '7' })).hints).toEqual({ retryable: true, retryAfterMs: 7000 });
  });
  it('a negative Retry-After stops the retries', async () => {
    expect((await failure(503, { 'retry-after': '-1' })).hints).toEqual({ retryable: false });
  });
  it('an endpoint nobody listens on is a retryable connection failure', async () => {
    const error = await invokeApiDestination({ name: 'hook', arn: 'arn', endpoint: 'http://127.0.0.1:1/hook', method: 'POST' }, '{}').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CONNECTION', hints: { retryable: true } });
  });
});
