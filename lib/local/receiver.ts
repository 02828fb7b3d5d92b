/**
 * A loopback HTTPS receiver for http targets (`ops receive`): it answers what the operator asks
 * (200, a fixed status, or 503 for the first N requests), prints every request, and counts requests
 * per Fast.io event id, so an http target can be exercised locally without setting up certificates.
 *
 * Its certificate is self-signed for 127.0.0.1 and localhost, generated once with `openssl` (Node
 * has no certificate-generation API) into <stateDir>/receiver/. The local pipeline with the same
 * state directory trusts exactly that certificate for its API destination calls
 * (receiverCertificate, read by lib/local/api-destination.ts), so nothing turns TLS checks off.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** Bodies longer than this are cut in the printout. */
const MAX_PRINTED_BODY = 2048;
/** Requests larger than this are answered 413 (an API destination sends at most 1 MiB). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export function receiverDir(stateDir: string): string {
  return join(stateDir, 'receiver');
}

export function receiverCertificateFile(stateDir: string): string {
  return join(receiverDir(stateDir), 'cert.pem');
}

/** The receiver's certificate (PEM) when one was generated in this state directory, for the pipeline to trust. */
export function receiverCertificate(stateDir: string): string | undefined {
  const file = receiverCertificateFile(stateDir);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export class ReceiverCertificateError extends Error {
  override readonly name = 'ReceiverCertificateError';
}

/** The key and certificate, generated on first use. */
export function ensureReceiverCertificate(stateDir: string): { key: string; cert: string } {
  const dir = receiverDir(stateDir);
  const keyFile = join(dir, 'key.pem');
  const certFile = receiverCertificateFile(stateDir);
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Into temporary names first: a second receiver starting at the same time never reads half a pair.
    const suffix = `${process.pid}.tmp`;
    try {
      execFileSync(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
          '-keyout', `${keyFile}.${suffix}`, '-out', `${certFile}.${suffix}`, '-days', '825',
          '-subj', '/CN=fastio-local-receiver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      rmSync(`${keyFile}.${suffix}`, { force: true });
      rmSync(`${certFile}.${suffix}`, { force: true });
      const missing = error instanceof Error && 'code' in error && error.code === 'ENOENT';
      throw new ReceiverCertificateError(missing ? 'openssl is not installed: the receiver needs it once to generate its certificate' : 'openssl could not generate the receiver certificate');
    }
    renameSync(`${keyFile}.${suffix}`, keyFile);
    renameSync(`${certFile}.${suffix}`, certFile);
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

export interface ReceiverOptions {
  readonly stateDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Answer 503 to the first N requests, then `status`. */
  readonly failFirst?: number;
  /** What to answer (after the first `failFirst`). Default 200. */
  readonly status?: number;
  /** One line per request. */
  readonly print?: (line: string) => void;
}

export interface ReceivedRequest {
  readonly at: string;
  readonly method: string;
  readonly path: string;
  /** From the Idempotency-Key header, else the body's event id, else the body's sha256. */
  readonly fastioEventId: string;
  readonly body: string;
  readonly status: number;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: readonly ReceivedRequest[];
  /** Requests per Fast.io event id, in order of first arrival. */
  counts(): ReadonlyMap<string, number>;
  /** What to answer from now on. */
  setStatus(status: number): void;
  stop(): Promise<void>;
}

/** Control characters and bidirectional overrides escaped, so a sender's body cannot drive the terminal. */
export function printable(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > MAX_PRINTED_BODY ? `${escaped.slice(0, MAX_PRINTED_BODY)}… (${text.length} characters)` : escaped;
}

const EVENT_ID = /^[\x21-\x7e]{1,256}$/;

/** The Fast.io event id a request is about. */
export function requestEventId(idempotencyKey: string | undefined, body: string): string {
  if (idempotencyKey !== undefined && EVENT_ID.test(idempotencyKey)) return idempotencyKey;
  try {
    const parsed = JSON.parse(body) as { eventId?: unknown; event?: unknown; detail?: { eventId?: unknown } };
    for (const candidate of [parsed.detail?.eventId, parsed.eventId, parsed.event]) {
      if (typeof candidate === 'string' && EVENT_ID.test(candidate)) return candidate;
    }
  } catch {
    // not JSON: identified by its bytes
  }
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const { key, cert } = ensureReceiverCertificate(options.stateDir);
  const requests: ReceivedRequest[] = [];
  let status = options.status ?? 200;
  let failuresLeft = options.failFirst ?? 0;
  const print = options.print ?? (() => undefined);
  const server: Server = createServer({ key, cert }, (request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = request.headers['idempotency-key'];
      const fastioEventId = requestEventId(Array.isArray(header) ? header[0] : header, body);
      let answer = status;
      if (size > MAX_BODY_BYTES) answer = 413;
      else if (failuresLeft > 0) {
        failuresLeft -= 1;
        answer = 503;
      }
      const received: ReceivedRequest = { at: new Date().toISOString(), method: request.method ?? '', path: request.url ?? '', fastioEventId, body, status: answer };
      requests.push(received);
      const copy = requests.filter((known) => known.fastioEventId === fastioEventId).length;
      print(`${received.at}  ${printable(received.method)} ${printable(received.path)}  event ${printable(fastioEventId)} (request ${copy})  answered ${answer}`);
      print(`  ${printable(body)}`);
      response.writeHead(answer, { 'content-type': 'text/plain; charset=utf-8' }).end(answer < 300 ? 'ok\n' : 'unavailable\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    counts() {
      const counts = new Map<string, number>();
      for (const request of requests) counts.set(request.fastioEventId, (counts.get(request.fastioEventId) ?? 0) + 1);
      return counts;
    },
    setStatus(next: number) {
      status = next;
      failuresLeft = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
