/** The HTTP API edge: requests become payload format 2.0 events the way API Gateway builds them. */
import { describe, expect, it } from 'vitest';
import { fromLambdaResult, isTextContentType, toHttpApiEvent, Throttle, type HttpRequestInfo } from '../../lib/local/api-gateway';

function request(overrides: Partial<HttpRequestInfo> = {}): HttpRequestInfo {
  return {
    method: 'POST',
    url: '/webhooks/fastio',
    rawHeaders: ['Content-Type', 'application/json', 'Host', '127.0.0.1:4000'],
    body: Buffer.from('{"a":1}'),
    sourceIp: '127.0.0.1',
    routeKey: 'POST /webhooks/fastio',
    requestId: 'Jz9xYhM2IAMEVfw=',
    timeEpoch: Date.parse('2026-03-12T19:03:58Z'),
    domainName: '127.0.0.1:4000',
    ...overrides,
  };
}

describe('toHttpApiEvent', () => {
  it('builds the 2.0 event: raw body, route key, request context', () => {
    const event = toHttpApiEvent(request());
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/fastio',
      rawPath: '/webhooks/fastio',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', host: '127.0.0.1:4000' },
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: {
        requestId: 'Jz9xYhM2IAMEVfw=',
        routeKey: 'POST /webhooks/fastio',
        stage: '$default',
        time: '12/Mar/2026:19:03:58 +0000',
        timeEpoch: Date.parse('2026-03-12T19:03:58Z'),
        http: { method: 'POST', path: '/webhooks/fastio', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.cookies).toBeUndefined();
  });

  it('lower-cases header names and comma-joins duplicates; cookies move to `cookies`', () => {
    const event = toHttpApiEvent(request({ rawHeaders: ['X-Fastio-Signature', 'a', 'x-fastio-signature', 'b', 'Cookie', 'c1=1; c2=2', 'Content-Type', 'text/plain'] }));
    expect(event.headers).toEqual({ 'x-fastio-signature': 'a,b', 'content-type': 'text/plain' });
    expect(event.cookies).toEqual(['c1=1', 'c2=2']);
  });

  it('keeps the raw query string and comma-joins repeated parameters', () => {
    const event = toHttpApiEvent(request({ url: '/webhooks/fastio?x=1&x=2&y=%20z' }));
    expect(event.rawQueryString).toBe('x=1&x=2&y=%20z');
    expect(event.queryStringParameters).toEqual({ x: '1,2', y: ' z' });
  });

  it('base64-encodes bodies whose content type is not text, byte for byte', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b, 0x22]);
    const event = toHttpApiEvent(request({ rawHeaders: ['Content-Type', 'application/octet-stream'], body: bytes }));
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
    expect(toHttpApiEvent(request({ rawHeaders: [], body: bytes })).isBase64Encoded).toBe(true);
    expect(toHttpApiEvent(request({ body: Buffer.alloc(0) })).body).toBeUndefined();
  });

  it.each([
    ['application/json; charset=utf-8', true],
    ['application/cloudevents+json', true],
    ['text/plain', true],
    ['application/xml', true],
    ['application/x-www-form-urlencoded', false],
    ['application/octet-stream', false],
  ])('%s is text: %s', (contentType, text) => {
    expect(isTextContentType(contentType)).toBe(text);
  });
});

describe('fromLambdaResult', () => {
  it('maps a structured result, including base64 bodies and cookies', () => {
    const response = fromLambdaResult({ statusCode: 202, headers: { 'Content-Type': 'application/json' }, body: 'eyJvayI6dHJ1ZX0=', isBase64Encoded: true, cookies: ['a=1'] });
    expect(response.statusCode).toBe(202);
    expect(response.headers).toEqual({ 'content-type': 'application/json', 'set-cookie': ['a=1'] });
    expect(response.body.toString()).toBe('{"ok":true}');
  });

  it('answers 200 with the JSON of a result that has no statusCode', () => {
    const response = fromLambdaResult({ hello: 'world' });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ hello: 'world' });
  });
});

describe('Throttle', () => {
  it('allows the burst, then the steady rate', () => {
    let now = 0;
    const throttle = new Throttle(50, 100, () => now);
    const allowed = Array.from({ length: 120 }, () => throttle.take()).filter(Boolean).length;
    expect(allowed).toBe(100);
    now += 100; // 0.1 s at 50 rps = 5 more
    expect(Array.from({ length: 10 }, () => throttle.take()).filter(Boolean).length).toBe(5);
  });
});
