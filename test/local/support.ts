/**
 * Helpers for the end-to-end tests of the local pipeline: start it in-process on an ephemeral port
 * with a temporary state directory and accelerated AWS time, send signed fixture payloads, and
 * wait for effects.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPipeline, type LocalPipeline } from '../../lib/local/pipeline';
import type { SamplePayload as Payload } from '../../lib/domain/sample-payloads';
import { signWebhook, type SignatureScheme } from '../../lib/domain/webhook-signature';

export { SAMPLE_PAYLOADS_DIR as FIXTURES_DIR } from '../../lib/domain/sample-payloads';

/** AWS waits divided by 1000: a 180 s visibility timeout lasts 180 ms, Lambda's 60 s retry delay 60 ms. */
export const TEST_TIME_SCALE = 1000;

export interface TestPipeline {
  readonly pipeline: LocalPipeline;
  readonly stateDir: string;
  stop(): Promise<void>;
}

/**
 * assemblyDir: run a prepared cloud assembly (for example a patched copy) instead of cdk.out.
 * output: receives every terminal line `npm start` would print (without colour).
 */
export async function startTestPipeline(options: { assemblyDir?: string; output?: (line: string) => void } = {}): Promise<TestPipeline> {
  const stateDir = mkdtempSync(join(tmpdir(), 'fastio-local-'));
  // The pipeline's terminal and its functions' logs, on request (VERBOSE=1 npm test).
  const debug = process.env.VERBOSE === '1';
  const pipeline = await startPipeline({
    port: 0,
    stateDir,
    // CI synthesizes first; a fresh checkout without cdk.out synthesizes here (once, under a lock).
    synth: 'if-missing',
    timeScale: TEST_TIME_SCALE,
    ...(options.assemblyDir ? { assemblyDir: options.assemblyDir } : {}),
    ...(debug || options.output
      ? {
          output: (line: string) => {
            options.output?.(line);
            if (debug) process.stdout.write(`${line}\n`);
          },
          verbose: debug,
        }
      : {}),
  });
  return {
    pipeline,
    stateDir,
    async stop() {
      await pipeline.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export { samplePayload as fixturePayload, type SamplePayload as Payload } from '../../lib/domain/sample-payloads';

export interface SendOptions {
  readonly secret?: string;
  readonly scheme?: SignatureScheme;
  readonly contentType?: string;
}

/** Signs a payload as Fast.io would (with the pipeline's local secret unless told otherwise) and POSTs it. */
export async function send(test: TestPipeline, payload: Payload | Buffer, options: SendOptions = {}): Promise<{ status: number; body: string }> {
  const rawBody = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const secret = options.secret ?? readFileSync(test.pipeline.secretFile, 'utf8').trim();
  const headers = signWebhook({ rawBody, secret, scheme: options.scheme ?? 'body-hmac' });
  const response = await fetch(test.pipeline.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json', ...headers },
    body: rawBody,
  });
  return { status: response.status, body: await response.text() };
}

/** Polls until `probe` returns something truthy. */
export async function waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function items(test: TestPipeline, table: 'catalog' | 'audit' | 'idempotency'): Record<string, unknown>[] {
  return test.pipeline.dynamodb.scan(table);
}

export function catalogItem(test: TestPipeline, fileId: string): Record<string, unknown> | undefined {
  return items(test, 'catalog').find((item) => item.fileId === fileId);
}

export function dlqDepth(test: TestPipeline, name: string): number {
  return test.pipeline.deadLetterQueues().find((queue) => queue.name === name)?.depth ?? -1;
}

/** Successful writes of an operation to a table (by logical-id fragment) since `from` (an index into the log). */
export function writes(test: TestPipeline, operation: string, table: string, from = 0): Record<string, string | number | undefined>[] {
  const name = test.pipeline.dynamodb.definition(table)?.name;
  return test.pipeline.dynamodb.operations
    .slice(from)
    .filter((op) => op.operation === operation && op.table === name && op.outcome === 'ok')
    .map((op) => op.key);
}
