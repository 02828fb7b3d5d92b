/**
 * The loopback HTTPS receiver (`ops receive`): its self-signed certificate is trusted by the local
 * API destination call of the same state directory (and by nothing else), it answers 503 to the
 * first N requests then 200, counts requests per Fast.io event id, and prints hostile bodies escaped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeApiDestination } from '../../lib/local/api-destination';
import { DeliveryError } from '../../lib/local/event-bus';
import { receiverCertificate, requestEventId, startReceiver, type Receiver } from '../../lib/local/receiver';
import { createReceiveCommand } from '../../lib/ops/receive-command';
import { runCli } from '../../lib/ops/cli';

let stateDir: string;
let receiver: Receiver | undefined;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fastio-receiver-'));
});
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
  rmSync(stateDir, { recursive: true, force: true });
});

const destination = (url: string) => ({ name: 'slack', arn: 'arn:aws:events:us-east-1:000000000000:api-destination/slack/x', endpoint: `${url}/hook`, method: 'POST' });

async function attempt(url: string, body: string, extraCa: string | undefined): Promise<string> {
  return invokeApiDestination(destination(url), body, {}, extraCa === undefined ? {} : { extraCa }).catch((error: unknown) => {
    if (error instanceof DeliveryError) return `${error.code}${error.hints.retryable === true ? ' retryable' : ''}`;
    throw error;
  });
}

describe('ops receive', () => {
  it('answers 503 to the first N requests, then 200, over TLS the local pipeline trusts', async () => {
    // GIVEN a receiver failing its first two requests
    receiver = await startReceiver({ stateDir, port: 0, failFirst: 2 });
    const ca = receiverCertificate(stateDir);
    expect(ca).toContain('BEGIN CERTIFICATE');

    // WHEN the API destination calls it three times with the state directory's certificate trusted
    const outcomes = [];
    for (let i = 0; i < 3; i += 1) outcomes.push(await attempt(receiver.url, '{"text":"hi"}', ca));

    // THEN two retryable 503s, then the answer
    expect(outcomes).toEqual(['HTTP_503 retryable', 'HTTP_503 retryable', `POST ${receiver.url}/hook answered 200`]);
  });

  it('is not trusted without its certificate: TLS verification stays on', async () => {
    receiver = await startReceiver({ stateDir, port: 0 });
    expect(await attempt(receiver.url, '{}', undefined)).toBe('CONNECTION retryable');
    expect(receiver.requests).toHaveLength(0);
  });

  it('counts requests per Fast.io event id: the Idempotency-Key header, else the id in the body', async () => {
    receiver = await startReceiver({ stateDir, port: 0, status: 200 });
    const ca = receiverCertificate(stateDir) as string;
    const post = (headers: Record<string, string>, body: string) =>
      fetchWithCa(`${receiver?.url}/hook`, headers, body, ca);
    await post({ 'idempotency-key': 'evt_a' }, '{"text":"one"}');
    await post({ 'idempotency-key': 'evt_a' }, '{"text":"one again"}');
    await post({}, '{"detail":{"eventId":"evt_b"}}');
    expect([...receiver.counts()]).toEqual([
      ['evt_a', 2],
      ['evt_b', 1],
    ]);
  });

  it('identifies a body without an id by its sha256', () => {
    expect(requestEventId(undefined, 'not json')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(requestEventId(undefined, 'not json')).toBe(requestEventId(undefined, 'not json'));
    expect(requestEventId(undefined, 'not json')).not.toBe(requestEventId(undefined, 'not json either'));
    expect(requestEventId('has space', '{"eventId":"evt_c"}')).toBe('evt_c');
  });

  it('prints a hostile body escaped: no terminal control sequence reaches the screen', async () => {
    const lines: string[] = [];
    receiver = await startReceiver({ stateDir, port: 0, print: (line) => lines.push(line) });
    await fetchWithCa(`${receiver.url}/hook`, {}, '{"text":"\u001b[2J\u001b]0;owned\u0007 \u202e"}', receiverCertificate(stateDir) as string);
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/u);
    expect(lines[1]).toBe('  {"text":"\\u001b[2J\\u001b]0;owned\\u0007 \\u202e"}');
  });

  it('runs until stopped and prints the counts per event id', async () => {
    // GIVEN `ops receive --port <free port> --fail-first 1`
    const port = await freePort();
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line), interactive: false };
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    process.env.FASTIO_LOCAL_DIR = stateDir;
    try {
      const running = runCli([createReceiveCommand(() => stopped)], ['receive', '--port', String(port), '--fail-first', '1'], io);
      await waitUntil(() => err.some((line) => line.startsWith('receiving on ')));
      // WHEN one event is delivered twice (the first answered 503) and the receiver is stopped
      const ca = receiverCertificate(stateDir) as string;
      const statuses = [await fetchWithCa(`https://127.0.0.1:${port}/hook`, { 'idempotency-key': 'evt_x' }, '{}', ca), await fetchWithCa(`https://127.0.0.1:${port}/hook`, { 'idempotency-key': 'evt_x' }, '{}', ca)];
      stop();
      // THEN
      expect(await running).toBe(0);
      expect(statuses).toEqual([503, 200]);
      expect(out.slice(-2)).toEqual(['received 2 requests for 1 Fast.io event', '  evt_x  2']);
    } finally {
      delete process.env.FASTIO_LOCAL_DIR;
      stop();
    }
  });

  it('--fail-first with --status is a usage error (exit 2), as is a missing --port', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (line: string) => err.push(line), interactive: false };
    expect(await runCli([createReceiveCommand(async () => undefined)], ['receive', '--port', '8443', '--fail-first', '2', '--status', '500'], io)).toBe(2);
    expect(await runCli([createReceiveCommand(async () => undefined)], ['receive'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/--fail-first and --status are two behaviours[\s\S]*--port is required/);
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntil(probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A POST that trusts only the receiver's certificate (what the local pipeline does). */
async function fetchWithCa(url: string, headers: Record<string, string>, body: string, ca: string): Promise<number> {
  const { httpCall } = await import('../../lib/local/http-call');
  const answer = await httpCall(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, timeoutMs: 5000, extraCa: ca });
  return answer.status;
}
