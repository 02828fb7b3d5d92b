/**
 * One HTTP(S) request as the local API destination makes it, with node:http(s) instead of fetch so
 * it can trust one extra certificate (the loopback receiver's, lib/local/receiver.ts) beside the
 * system's roots: Node 20's fetch takes no CA option, and turning TLS checks off is not an option.
 * Redirects are not followed (EventBridge does not follow them either).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface HttpCall {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** A PEM certificate to trust in addition to the system's roots. */
  readonly extraCa?: string;
}

export interface HttpAnswer {
  readonly status: number;
  header(name: string): string | undefined;
}

/** Rejects with an Error named TimeoutError when no answer came in time. */
export function httpCall(url: string, call: HttpCall): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const tls = target.protocol === 'https:' && call.extraCa !== undefined ? { ca: [...rootCertificates, call.extraCa] } : {};
  return new Promise<HttpAnswer>((resolve, reject) => {
    const request = send(target, { method: call.method, headers: call.headers, ...tls }, (response) => {
      response.resume();
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          header(name: string) {
            const value = response.headers[name.toLowerCase()];
            return Array.isArray(value) ? value[0] : value;
          },
        });
      });
      response.on('error', reject);
    });
    request.setTimeout(call.timeoutMs, () => {
      const error = new Error(`no answer within ${call.timeoutMs} ms`);
      error.name = 'TimeoutError';
      request.destroy(error);
    });
    request.on('error', reject);
    if (call.body !== undefined) request.write(call.body);
    request.end();
  });
}
